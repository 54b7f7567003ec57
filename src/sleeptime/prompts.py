"""Every prompt sleeptime sends, in one place.

The wording is ours; the intent follows the paper (see docs/architecture.md):
sleep time anticipates questions and computes what will help, test time reads
the notes with a budget set by a verbosity level. ``PROMPT_VERSION`` is part of
a learned context's key: change any sleep prompt and bump it, so stale notes are
not reused as if the new prompt had produced them.
"""

from __future__ import annotations

from .llm.base import Message

PROMPT_VERSION = "2026-12-3"

FINISHED = "FINISHED"

SLEEP_SYSTEM = (
    "You think about a situation before anyone asks about it. Later, a user will ask questions "
    "about the context below, but you cannot see those questions now. Write NOTES that let a quick "
    "reader answer any likely question without doing any further work."
)

_NOTES_RULES = (
    "In the notes:\n"
    "1. List every quantity the context gives, with its value and unit.\n"
    "2. Anticipate the questions a user is likely to ask. For each, write the question and work out "
    "its answer step by step, writing each calculation as `expression = result`.\n"
    "3. State every other useful derived quantity, fact or inference.\n"
    "Be concise and exact. Write only the notes."
)

STRUCTURED_SUFFIX = (
    'Reply with a JSON object {"notes": "<the complete notes>", "finished": <true if the notes were already '
    "complete and correct, else false>}."
)

_PARTIAL_PROBLEM_HINT = (
    "The context may be part of a problem whose final question is missing: predict where it is "
    "going and compute whatever will help answer it."
)


def with_structured_reply(messages: list[Message]) -> list[Message]:
    """The same round, asking for the JSON reply a schema-enforcing backend will hold it to."""
    last = messages[-1]
    return [*messages[:-1], {"role": last["role"], "content": f"{last['content']}\n\n{STRUCTURED_SUFFIX}"}]


def _sleep_messages(user: str) -> list[Message]:
    """Every sleep-time call: the sleep system prompt, then this round's instructions."""
    return [{"role": "system", "content": SLEEP_SYSTEM}, {"role": "user", "content": user}]


def _block(title: str, text: str) -> str:
    return f"{title}:\n<<<\n{text.strip()}\n>>>"


def sleep_first_round(context: str) -> list[Message]:
    user = f"{_block('CONTEXT', context)}\n\n{_PARTIAL_PROBLEM_HINT}\n\n{_NOTES_RULES}"
    return _sleep_messages(user)


def sleep_rethink_round(context: str, notes: str) -> list[Message]:
    """The paper's rethink_memory: the whole block is rewritten, never appended to."""
    user = (
        f"{_block('CONTEXT', context)}\n\n{_block('YOUR CURRENT NOTES', notes)}\n\n"
        "Rewrite the notes in full. Check every calculation against the context and fix any mistake; "
        "add likely questions and quantities that are missing, with their answers; drop anything "
        "useless or wrong.\n"
        f"If the notes are already complete and correct, reply with only the word {FINISHED}.\n\n"
        f"{_NOTES_RULES}"
    )
    return _sleep_messages(user)


def sleep_incremental_round(old_context: str, new_text: str, notes: str) -> list[Message]:
    """For a context that grew: update the notes for the new text instead of starting over."""
    user = (
        f"{_block('CONTEXT (EARLIER PART)', old_context)}\n\n"
        f"{_block('NEW TEXT ADDED TO THE CONTEXT', new_text)}\n\n"
        f"{_block('YOUR NOTES ON THE EARLIER PART', notes)}\n\n"
        "Rewrite the notes in full so that they cover the whole context, including the new text: "
        "keep what is still true, correct what the new text changes, and add the quantities and "
        "likely questions (with answers) that the new text brings.\n\n"
        f"{_NOTES_RULES}"
    )
    return _sleep_messages(user)


# --- the "solve" strategy (solve.py): anticipate, solve with programs, vote

QUESTIONS_SCHEMA_KEY = "questions"


def questions_schema(count: int) -> dict[str, object]:
    """The JSON the anticipate call must return (enforced by llama.cpp grammars / json_schema)."""
    return {
        "type": "object",
        "properties": {
            QUESTIONS_SCHEMA_KEY: {
                "type": "array",
                "items": {"type": "string", "minLength": 8, "maxLength": 300},
                "minItems": 1,
                "maxItems": count,
            }
        },
        "required": [QUESTIONS_SCHEMA_KEY],
        "additionalProperties": False,
    }


def anticipate_questions(context: str, count: int) -> list[Message]:
    """Step 1: the questions a user is likely to ask, the one the context leads to first."""
    user = (
        f"{_block('CONTEXT', context)}\n\n"
        f"List the {count} question{'s' if count > 1 else ''} a user is most likely to ask about this "
        "context. First the question the context is leading to: if it reads like a problem whose final "
        "question is missing, the question that combines all of its facts. Then questions about the "
        "intermediate quantities that need a calculation, then obvious variations. Never ask for a value "
        "the context states outright. Each question asks for one value and is answerable from the "
        f'context alone. Reply with a JSON object {{"{QUESTIONS_SCHEMA_KEY}": ["...", ...]}}.'
    )
    return _sleep_messages(user)


# Asked when the model anticipates nothing usable (small models): the context's own direction.
FALLBACK_QUESTION = "What is the main quantity or conclusion this context leads to?"


def _about_question(context: str, question: str, task: str) -> list[Message]:
    """A sleep-time call about one anticipated question: the context, the question, the task."""
    return _sleep_messages(f"{_block('CONTEXT', context)}\n\nQUESTION: {question.strip()}\n\n{task}")


def solve_with_program(context: str, question: str) -> list[Message]:
    """Step 2: a program whose run gives the answer (small code models compute better in code)."""
    return _about_question(
        context,
        question,
        "Write a short Python program that answers the question. Assign each quantity from the "
        "context to a variable with a descriptive snake_case name, compute step by step with more "
        "variables, and store the final result in a variable named `answer`. Use only plain "
        "arithmetic (and math if needed); no input(), no files. Reply with only the program in "
        "a ```python block.",
    )


def program_prefix_messages(context: str) -> list[list[Message]]:
    """``solve_with_program`` with placeholder questions (see ``answer_prefix_messages``): the prompt
    verbosity 0 answers a question that adds facts with (``answer.AnswerInput.program``)."""
    return [solve_with_program(context, question) for question in PREFIX_PLACEHOLDERS]


def solve_with_reasoning(context: str, question: str) -> list[Message]:
    """Step 2's fallback when no program runs: reason step by step (also for text without numbers)."""
    return _about_question(
        context,
        question,
        "Reason step by step, writing each calculation as `expression = result`. End with 'The answer is X.'",
    )


# Where a program's fence ends: the stop sequence of every program reply.
PROGRAM_FENCE_END = "\n```"

ANSWER_SYSTEM = (
    "You answer a user's question about a context. NOTES written ahead of time about the same "
    "context may be given; they were written before the question was known."
)

# Verbosity levels 0-4: the paper's test-time budget for non-reasoning models.
VERBOSITY_INSTRUCTIONS: tuple[str, ...] = (
    "Use the notes: when they already answer the question, reply with exactly one sentence of the "
    "form 'The answer is X.' When the question adds facts the notes do not cover, combine them with "
    "the values in the notes in one short calculation: 'The answer is <calculation> = X.'",
    "Reply with one short sentence of explanation, then 'The answer is X.'",
    "Reply with at most two short sentences of explanation, then 'The answer is X.'",
    "Reason about the question, then end with 'The answer is X.'",
    "Reason step by step, out loud. Recompute and double-check every value you take from the notes "
    "against the context. End with 'The answer is X.'",
)

# Verbosity 0 when the notes hold named values (the solve strategy's quantities): a code model
# sets up one line of Python over them far more reliably than it does prose arithmetic, and the
# sandbox computes it (``verify.computed_answer``).
COMPUTE_INSTRUCTION = (
    "The values in the notes are Python variables, already defined: never define them again. Reply "
    "with only the Python that computes the answer from them and any numbers the question adds: at "
    "most three lines, the last `answer = <expression>`. When a variable or an answered question "
    "already holds the answer, reply with just `answer = <it>`."
)

NO_NOTES = "(none)"


def answer_instruction(verbosity: int, *, computable: bool = False) -> str:
    return COMPUTE_INSTRUCTION if computable and verbosity == 0 else VERBOSITY_INSTRUCTIONS[verbosity]


def answer_messages(
    context: str, notes: str, question: str, verbosity: int, *, computable: bool = False
) -> list[Message]:
    """Context first and the question last, after the instruction, so that questions on one context
    share a cacheable prefix that ends just before the question (``answer_prefix_messages``).
    ``computable``: the notes define named values that a verbosity-0 answer may compute with."""
    user = (
        f"{_block('CONTEXT', context)}\n\n{_block('NOTES', notes or NO_NOTES)}\n\n"
        f"{answer_instruction(verbosity, computable=computable)}\n\nQUESTION: {question.strip()}"
    )
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": user}]


def context_only_messages(context: str, verbosity: int) -> list[Message]:
    """The paper's ablation: the model sees only c and must guess the question and its answer."""
    user = (
        f"{_block('CONTEXT', context)}\n\n"
        "The question about this context is hidden. Guess the most likely question and answer it.\n\n"
        f"{VERBOSITY_INSTRUCTIONS[verbosity]}"
    )
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": user}]


# Questions that share nothing past the prompt's question mark-up (a word, a digit, a bracket):
# what answer prompts with them have in common is the prefix every real question shares.
PREFIX_PLACEHOLDERS = ("What", "1", "(")


def answer_prefix_messages(
    context: str, notes: str, *, computable: bool = False, verbosity: int | None = 0
) -> list[list[Message]]:
    """The answer prompt with placeholder questions: a backend computes their common prefix
    ahead of time (``prepare_prefix``), so that a real question only evaluates its own part.
    ``verbosity``: the prefix of that level, its instruction included (up to ``QUESTION:``);
    None: the prefix every level shares (the context and the notes)."""
    if verbosity is None:
        levels = range(len(VERBOSITY_INSTRUCTIONS))
        return [answer_messages(context, notes, "What", v, computable=computable) for v in levels]
    return [
        answer_messages(context, notes, question, verbosity, computable=computable)
        for question in PREFIX_PLACEHOLDERS
    ]
