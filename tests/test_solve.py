"""The solve strategy's exact logic with the scripted model: anticipate, run programs, vote, store entries.

The real-model path (SmolLM2 through llama.cpp) is at the end of this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from sleeptime import Budget, Engine, Usage
from sleeptime.answer import final_sentence
from sleeptime.budget import resolve_sleep
from sleeptime.entries import Anticipated, Entries, Quantity, Vote, majority
from sleeptime.learned import LearnedContext
from sleeptime.llm.base import Message
from sleeptime.llm.fake import ScriptedModel
from sleeptime.prompts import FALLBACK_QUESTION
from sleeptime.solve import parse_questions, solve_context
from sleeptime.verify import correct_final_arithmetic, recompute


def _learned(text: str, *, strategy: str, extra: dict[str, object] | None = None) -> LearnedContext:
    """A stored learned context with ``text`` as its one note (the fields a test does not look at fixed)."""
    return LearnedContext(
        id="x",
        context_id="c",
        context_version=1,
        text=text,
        notes=(text,),
        usage=Usage(),
        duration_s=0.0,
        model="m",
        strategy=strategy,
        budget={},
        key="k",
        extra=extra or {},
    )


CONTEXT = "Janet's ducks lay 16 eggs per day. She eats 3 for breakfast and bakes muffins with 4."


def program(answer_expr: str, **values: int) -> str:
    lines = [f"{k} = {v}" for k, v in values.items()]
    return "```python\n" + "\n".join([*lines, f"answer = {answer_expr}"]) + "\n```"


def questions(*qs: str) -> str:
    return json.dumps({"questions": list(qs)})


def budget(**over: int) -> object:
    return resolve_sleep(Budget(**{"questions": 2, "votes": 3, "rounds": 1, **over}))


def test_majority_answer_wins_and_its_values_become_quantities() -> None:
    model = ScriptedModel(
        [
            questions("How many eggs are left each day?", "How many eggs does she use each day?"),
            program("eggs - eaten - baked", eggs=16, eaten=3, baked=4),
            program("eggs - eaten", eggs=16, eaten=3),  # a wrong solution, outvoted
            program("laid - breakfast - muffins", laid=16, breakfast=3, muffins=4),
            program("eaten + baked", eaten=3, baked=4),
            program("eaten + baked", eaten=3, baked=4),
            program("eaten + baked", eaten=3, baked=4),
        ]
    )
    entries, usage, rounds = solve_context(model, CONTEXT, budget())
    # The second question's third vote is never asked: two agreeing votes of three decide it.
    assert rounds == 1 and usage.calls == 6
    first, second = entries.questions
    assert (first.answer, first.agree, first.solutions) == ("9", 2, 3)
    assert first.method == "program" and "eggs - eaten - baked" in first.program
    assert (second.answer, second.agree, second.solutions) == ("7", 2, 2)
    names = {q.name: q for q in entries.quantities}
    assert names["eggs"].value == 16 and names["eggs"].origin == "context"
    assert "answer" not in names
    text = entries.render()
    assert "eggs = 16" in text and "A: 9\n" in text and "(uncertain)" not in text


def test_program_calls_stop_at_the_fence_and_votes_are_sampled() -> None:
    model = ScriptedModel([questions("How many eggs are left?"), program("9"), program("8"), program("9")])
    solve_context(model, CONTEXT, budget(questions=1))
    params = [p for _, p in model.calls[1:]]
    assert len(params) == 3
    assert params[0].temperature == 0.0  # the first vote is greedy
    assert all(p.temperature > 0 for p in params[1:])
    assert len({p.seed for p in params}) == 3
    assert all(p.stop == ("\n```",) for p in params)
    # Anticipation is held to a JSON schema the backend enforces.
    assert model.calls[0][1].json_schema is not None


def test_failing_programs_fall_back_to_reasoning_with_checked_arithmetic() -> None:
    model = ScriptedModel(
        [
            questions("How many eggs are left?"),
            "```python\nimport os\nanswer = 9\n```",  # refused by the sandbox
            "```python\nanswer = undefined_name\n```",  # second failure: no third program asked
            "16 - 3 - 4 = 8, so the answer is 16 - 3 - 4 = 8.",  # wrong arithmetic, corrected
        ]
    )
    entries, _, _ = solve_context(model, CONTEXT, budget(questions=1))
    (only,) = entries.questions
    assert only.method == "reasoning" and only.answer == "9"


def test_later_rounds_resolve_only_disagreeing_questions() -> None:
    model = ScriptedModel(
        [
            questions("How many are left?", "How many are used?"),
            program("9"),
            program("8"),
            program("10"),  # q1 disagrees
            program("7"),
            program("7"),  # q2: two agreeing votes decide it
            program("9"),
            program("9"),  # round 2: q1 only
        ]
    )
    entries, usage, rounds = solve_context(model, CONTEXT, budget(rounds=3))
    # q2 is decided after two votes; round 2 re-solves q1 until 9 leads beyond reach (3 of 5).
    assert rounds == 2 and usage.calls == 8
    first = entries.questions[0]
    assert (first.answer, first.agree, first.solutions) == ("9", 3, 5)


def test_nothing_anticipated_falls_back_to_the_question_the_context_leads_to() -> None:
    model = ScriptedModel([json.dumps({"questions": []}), program("9"), program("9"), program("9")])
    entries, _, _ = solve_context(model, CONTEXT, budget())
    assert [q.question for q in entries.questions] == [FALLBACK_QUESTION]
    assert entries.questions[0].answer == "9"


def test_parse_questions_dedupes_and_reads_plain_lines() -> None:
    raw = questions("How many eggs?", "how many eggs", "What is the price per egg?")
    assert parse_questions(raw, 5) == ["How many eggs?", "What is the price per egg?"]
    assert parse_questions("1. How many eggs are left?\n2. What does she earn?", 1) == [
        "How many eggs are left?"
    ]


def test_majority_ties_go_to_the_greedy_vote() -> None:
    votes = [Vote("3", "program"), Vote("4", "program"), Vote("4", "program"), Vote("3", "program")]
    winner, count = majority(votes) or (None, 0)
    assert winner is not None and winner.answer == "3" and count == 2
    assert majority([]) is None


def test_entries_round_trip_and_old_learned_contexts_have_none() -> None:
    entries = Entries(
        quantities=(Quantity("eggs", 16, "context", 0),),
        questions=(Anticipated("How many?", "9", 2, 3, "program", "answer = 9"),),
        facts=("Eggs are sold daily.",),
    )
    assert Entries.from_dict(json.loads(json.dumps(entries.to_dict()))) == entries
    old = _learned("free notes", strategy="rethink")
    assert old.entries is None


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("The answer is 24 - 5 = 18.", "The answer is 24 - 5 = 19."),
        ("The answer is (12 + 3) * 2 = 31 apples.", "The answer is (12 + 3) * 2 = 30 apples."),
        ("The answer is $1,200 / 4 = $300.", "The answer is $1,200 / 4 = $300."),
        ("The answer is 18.", "The answer is 18."),
        ("2 + 2 = 5 first. The answer is 7 x 3 = 20.", "2 + 2 = 5 first. The answer is 7 x 3 = 21."),
        # The result written first is turned around (graders read the last number), and checked.
        ("The answer is 240 = 30 * 8", "The answer is 30 * 8 = 240"),
        ("The answer is 91 = 130 - 38.", "The answer is 130 - 38 = 92."),
    ],
)
def test_final_arithmetic_is_recomputed(text: str, fixed: str) -> None:
    assert correct_final_arithmetic(text) == fixed


# A looping model's final line: a long chain of numbers and operators with no "=" (a real reply on
# Multi-Query P2), with a result-first sentence, and one long line of words.
LOOPING_REPLIES = [
    "The answer is " + " + ".join(["15"] * 40) + " +",
    "The answer is 240 = " + " + ".join(["(15 )"] * 40) + " and so on",
    "Let me think " * 2_000,
]


def test_looping_replies_are_checked_in_bounded_time() -> None:
    """Each reply took the old patterns hours (their backtracking doubled with every operand); the
    child process is given 60 s, far above what it needs, so that a regression fails instead of
    hanging the suite."""
    script = (
        "import json, sys\n"
        "from sleeptime.answer import final_sentence\n"
        "from sleeptime.verify import correct_final_arithmetic\n"
        "for text in json.loads(sys.stdin.read()):\n"
        "    assert correct_final_arithmetic(text) == text\n"
        "    assert final_sentence(text)\n"
        "print('checked')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(LOOPING_REPLIES),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "checked"


def test_long_replies_keep_their_final_sentence_checked() -> None:
    """Past MAX_TAIL_CHARS only the last sentences are read, cut at a sentence boundary, so a
    calculation is never read from its middle ("2 + 3" out of "12 + 3")."""
    text = "x " * 3_000 + "\nSo 12 + 3 = 14. The total is 15."
    assert correct_final_arithmetic(text) == "x " * 3_000 + "\nSo 12 + 3 = 15. The total is 15."


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Work. The answer is 5. So the answer is 6.\nDone", "The answer is 5. So the answer is 6."),
        ("x\nThe total is 5.5 so the answer is 6\nmore", "5 so the answer is 6"),
        ("No sentence says it", "No sentence says it"),
        ("1. the answer is 3\nThe final answer is 4 apples. ok", "The final answer is 4 apples. ok"),
    ],
)
def test_final_sentence_runs_from_its_sentence_to_the_end_of_the_last_answer_line(
    text: str, sentence: str
) -> None:
    assert final_sentence(text) == sentence


def test_recompute_refuses_what_is_not_plain_arithmetic() -> None:
    assert recompute("eggs - 3") is None
    assert recompute("__import__('os')") is None
    assert recompute("2 ** 10") == 1024


def test_engine_default_sleep_is_solve_and_stores_entries(tmp_path: Path) -> None:
    def reply(messages: Sequence[Message]) -> str:
        user = messages[-1]["content"]
        if "JSON object" in user:
            return questions("How many eggs are left each day?")
        return program("eggs - eaten - baked", eggs=16, eaten=3, baked=4)

    model = ScriptedModel(default="The answer is 9.")
    model.extend([reply] * 2)  # anticipate, then the default budget's one program per question
    with Engine(model=model, store=f"sqlite:///{tmp_path}/solve.db") as engine:
        ctx = engine.add_context(CONTEXT)
        learned = engine.sleep(ctx.id)
        assert learned.strategy == "solve"
        assert learned.entries is not None and learned.entries.questions[0].answer == "9"
        assert learned.entries.questions[0].solutions == 1 and learned.usage.calls == 2
        again = engine.learned_context(ctx.id)
        assert again is not None and again.entries == learned.entries  # stored and read back
        assert "eggs = 16" in again.text
        answer = engine.ask(ctx.id, "How many eggs are left each day?")
        assert "eggs = 16" in model.calls[-1][0][-1]["content"]  # the answer prompt reads the entries
        assert answer.text == "The answer is 9."


def test_a_disputed_question_is_marked_and_its_computed_values_are_not_quantities() -> None:
    model = ScriptedModel(
        [
            questions("How many are left?", "How many are used?"),
            program("left", left=9),
            program("other", other=8),
            program("third", third=10),
            program("used", used=7),
            program("used", used=7),
            program("used", used=7),
        ]
    )
    entries, _, _ = solve_context(model, CONTEXT, budget())
    disputed, settled = entries.questions
    assert not disputed.settled and settled.settled
    text = entries.render()
    assert "A: 9 (uncertain)" in text and "A: 7\n" not in text and text.rstrip().endswith("A: 7")
    assert [q.name for q in entries.quantities] == ["used"]


def test_a_disputed_question_still_names_the_numbers_the_context_states() -> None:
    model = ScriptedModel(
        [
            questions("How many are left?", "How many are used?"),
            program("eggs - eaten - 4", eggs=16, eaten=3, spare=20),
            program("8"),
            program("10"),
            program("used", used=7),
            program("used", used=7),
            program("used", used=7),
        ]
    )
    entries, _, _ = solve_context(model, CONTEXT, budget())
    assert not entries.questions[0].settled
    # The settled question's values first; of the disputed winner only what the context states
    # (16 and 3), never its computed or invented values (spare = 20).
    assert [(q.name, q.value, q.origin) for q in entries.quantities] == [
        ("used", 7, "derived"),
        ("eggs", 16, "context"),
        ("eaten", 3, "context"),
    ]


def test_escalation_does_not_trust_an_uncertain_anticipated_answer() -> None:
    from sleeptime.escalation import supported_by_notes, trusted_notes

    entries = Entries(
        quantities=(Quantity("eggs", 16, "context", 0),),
        questions=(
            Anticipated("How many are left?", "9", 1, 3),  # disputed
            Anticipated("How many are used?", "7", 3, 3),
        ),
    )
    learned = _learned(entries.render(), strategy="solve", extra={"entries": entries.to_dict()})
    assert supported_by_notes("The answer is 9.", learned.text)  # the whole text mentions 9
    assert not supported_by_notes("The answer is 9.", trusted_notes(learned))
    assert supported_by_notes("The answer is 7.", trusted_notes(learned))
    assert supported_by_notes("The answer is 16.", trusted_notes(learned))
