"""The ``solve`` sleep strategy: anticipate, solve with programs, verify, vote.

``S(c) -> c'`` the way a careful person would use the time before questions come:

1. **Anticipate** (one call, JSON enforced by the backend): the ``questions``
   most likely to be asked, the one the context is leading to first.
2. **Solve** each with ``votes`` independent programs (the first greedy, the rest
   sampled), run in the sandbox (``sandbox.py``); when no program of a question
   runs, one step-by-step solution is the fallback, its arithmetic recomputed.
3. **Vote**: the majority answer is kept with its agreement as a confidence, and
   the winning program's named values become quantities test time can compute with.
4. Further ``rounds`` re-solve the questions with no majority answer yet, with
   as many votes again, and stop early once every question has one.

The result is stored as entries (``entries.py``), rendered to text for the
answer prompt. Nothing here evaluates model output outside the sandbox.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

from . import prompts
from .budget import SleepBudget
from .entries import Anticipated, Entries, Quantity, Vote, format_result, format_value, majority
from .errors import SleepCancelled, SleeptimeError
from .escalation import numbers_in, stated_answer
from .llm.base import LLM, Message, SamplingParams, Usage, UsageMeter
from .sandbox import extract_code, parse_number, run_program
from .verify import correct_final_arithmetic

ProgressCallback = Callable[[int], None]
MAX_QUESTION_CHARS = 300
MAX_PROGRAM_TOKENS = 384
# Sampled votes: diverse enough to disagree on a shaky solution, not so hot that most are wrong.
VOTE_TEMPERATURE = 0.5
# A quantity list longer than this costs test-time prefill for little gain.
MAX_QUANTITIES = 40


def solve_context(
    llm: LLM,
    context: str,
    budget: SleepBudget,
    *,
    cancel: threading.Event | None = None,
    on_call: ProgressCallback | None = None,
    parallel: int = 1,
) -> tuple[Entries, Usage, int]:
    """Anticipate and solve; returns (entries, usage, rounds used)."""
    meter = UsageMeter(llm)  # the calls of every thread of this sleep

    def call(messages: list[Message], params: SamplingParams) -> str:
        if cancel is not None and cancel.is_set():
            raise SleepCancelled("sleep cancelled: the context changed while sleeping on it")
        completion = meter.complete(messages, params)
        if on_call is not None:
            on_call(1)
        return completion.text

    questions = anticipate(call, context, budget)
    votes: list[list[Vote]] = [[] for _ in questions]
    attempts = [0 for _ in questions]

    def vote_in_turn(index: int, first_vote: int) -> None:
        """The votes of one question back to back (KV prefix reuse), stopping when the rest
        cannot change the majority, or when the model cannot write a program that runs for it."""
        failed = 0
        for v in range(budget.votes):
            if _decided(votes[index], remaining=budget.votes - v):
                return
            attempts[index] += 1
            vote = solve_once(call, context, questions[index], budget, first_vote + v)
            if vote is not None:
                votes[index].append(vote)
            elif not votes[index] and (failed := failed + 1) >= 2:
                return

    used = 0
    for round_index in range(budget.rounds):
        todo = [i for i in range(len(questions)) if round_index == 0 or not _settled(votes[i])]
        if not todo:
            break
        used += 1
        first_vote = round_index * budget.votes
        if parallel > 1:  # a remote endpoint: every vote of the round at once
            jobs = [(i, first_vote + v) for i in todo for v in range(budget.votes)]

            def one(job: tuple[int, int]) -> Vote | None:
                return solve_once(call, context, questions[job[0]], budget, job[1])

            with ThreadPoolExecutor(max_workers=min(parallel, len(jobs))) as pool:
                found = list(pool.map(one, jobs))
            for (index, _), vote in zip(jobs, found, strict=True):
                attempts[index] += 1
                if vote is not None:
                    votes[index].append(vote)
        else:
            for index in todo:
                vote_in_turn(index, first_vote)
        for index in todo:
            if not votes[index]:
                attempts[index] += 1
                fallback = solve_by_reasoning(call, context, questions[index], budget)
                if fallback is not None:
                    votes[index].append(fallback)
    entries = tally(context, questions, votes, attempts=attempts)
    return entries, meter.usage, used


Call = Callable[[list[Message], SamplingParams], str]


def anticipate(call: Call, context: str, budget: SleepBudget) -> list[str]:
    count = budget.questions
    params = SamplingParams(
        max_tokens=min(budget.max_tokens, 64 + 48 * count),
        temperature=budget.temperature,
        seed=budget.seed,
        reasoning_effort=budget.reasoning_effort,
        json_schema=prompts.questions_schema(count),
    )
    text = call(prompts.anticipate_questions(context, count), params)
    # A model too small to anticipate still gets the question every context leads to.
    return parse_questions(text, count) or [prompts.FALLBACK_QUESTION]


def parse_questions(text: str, count: int) -> list[str]:
    """The anticipated questions from the JSON reply (or, from a backend that ignored the schema,
    from lines ending in '?'), de-duplicated, at most ``count``."""
    found: list[str] = []
    try:
        data = json.loads(text)
        raw = data.get(prompts.QUESTIONS_SCHEMA_KEY, []) if isinstance(data, dict) else []
        found = [str(q) for q in raw if isinstance(q, str)]
    except ValueError:
        found = [line.strip(" -*0123456789.)\t") for line in text.splitlines() if line.strip().endswith("?")]
    kept: list[str] = []
    seen: set[str] = set()
    for question in found:
        cleaned = " ".join(question.split())[:MAX_QUESTION_CHARS]
        key = cleaned.lower().rstrip("?")
        if len(cleaned) >= 8 and key not in seen:
            seen.add(key)
            kept.append(cleaned)
    return kept[:count]


def _vote_params(budget: SleepBudget, vote_index: int, *, program: bool) -> SamplingParams:
    greedy = vote_index == 0
    temperature = budget.temperature
    return SamplingParams(
        # A short program needs far fewer tokens than prose; the fence's end stops the reply
        # before the explanation small models like to add.
        max_tokens=min(budget.max_tokens, MAX_PROGRAM_TOKENS) if program else budget.max_tokens,
        temperature=temperature if greedy else max(temperature, VOTE_TEMPERATURE),
        seed=None if budget.seed is None else budget.seed + vote_index,
        stop=(prompts.PROGRAM_FENCE_END,) if program else (),
        reasoning_effort=budget.reasoning_effort,
    )


def solve_once(
    call: Call,
    context: str,
    question: str,
    budget: SleepBudget,
    vote_index: int,
) -> Vote | None:
    """One program for ``question``, run in the sandbox; None when it does not give an answer."""
    try:
        messages = prompts.solve_with_program(context, question)
        text = call(messages, _vote_params(budget, vote_index, program=True))
    except SleeptimeError as exc:
        if not exc.retryable:
            raise
        return None  # one lost vote; the backend already retried its transport errors
    program = extract_code(text)
    result = run_program(program)
    value = result.answer if result.ok else None
    if value is None or isinstance(value, bool):
        return None
    return Vote(answer=normalize(value), method="program", program=program, values=dict(result.values))


def solve_by_reasoning(call: Call, context: str, question: str, budget: SleepBudget) -> Vote | None:
    """Chain of thought, its final ``expression = result`` recomputed (``verify.py``)."""
    text = correct_final_arithmetic(
        call(prompts.solve_with_reasoning(context, question), _vote_params(budget, 0, program=False))
    )
    stated = stated_answer(text).strip().rstrip(".")
    numbers = re.findall(r"-?[\d,]*\.?\d+", stated)
    if numbers:
        number = parse_number(numbers[-1])
        if number is not None:
            return Vote(answer=normalize(number), method="reasoning")
    return Vote(answer=stated[:200], method="reasoning") if len(stated) >= 1 else None


def normalize(value: float | int | str) -> str:
    if isinstance(value, str):
        number = parse_number(value)
        return " ".join(value.split()) if number is None else format_value(number)
    return format_result(value)


def _decided(votes: list[Vote], *, remaining: int) -> bool:
    """No ``remaining`` votes could take the lead from the current leader."""
    counts = [n for _, n in Counter(v.answer for v in votes).most_common(2)] + [0, 0]
    return counts[0] > counts[1] + remaining


def _settled(votes: list[Vote]) -> bool:
    """A question is settled once one answer has more than half of its solutions."""
    won = majority(votes)
    return won is not None and 2 * won[1] > len(votes)


def tally(context: str, questions: list[str], votes: list[list[Vote]], *, attempts: list[int]) -> Entries:
    """Entries from the votes: each question's majority answer, and named values. A settled
    question's winning program gives all its values; a disputed one's only the numbers the
    context states (a reading of the text, not a computation, so naming it is safe where the
    programs disagree on the answer; its computed values would mislead more than help). Earlier
    questions first, settled before disputed; a name keeps its first value."""
    answered: list[Anticipated] = []
    settled: list[tuple[int, Vote]] = []
    disputed: list[tuple[int, Vote]] = []
    for index, (question, question_votes) in enumerate(zip(questions, votes, strict=True)):
        won = majority(question_votes)
        if won is None:
            continue
        winner, agree = won
        entry = Anticipated(
            question=question,
            answer=winner.answer,
            agree=agree,
            solutions=max(attempts[index], len(question_votes)),
            method=winner.method,
            program=winner.program,
        )
        answered.append(entry)
        (settled if entry.settled else disputed).append((index, winner))
    given = numbers_in(context)
    quantities: dict[str, Quantity] = {}
    for readings_only, winners in ((False, settled), (True, disputed)):
        for index, winner in winners:
            for name, value in winner.values.items():
                if name == "answer" or isinstance(value, (bool, str)) or name in quantities:
                    continue
                from_context = Fraction(str(value)) in given
                if readings_only and not from_context:
                    continue
                if len(quantities) >= MAX_QUANTITIES:
                    break
                quantities[name] = Quantity(
                    name=name, value=value, origin="context" if from_context else "derived", question=index
                )
    return Entries(quantities=tuple(quantities.values()), questions=tuple(answered))


__all__ = ["anticipate", "parse_questions", "solve_context", "tally"]
