"""Sleep-time compute, ``S(c) -> c'``: think about a context before any question arrives.

The ``rethink`` strategy follows the paper: the model writes notes about ``c``,
then repeatedly rewrites them *whole* (checking, adding, dropping) for up to
``rounds`` rounds or until it answers FINISHED. It needs no tool calling, so it
works with small local models. ``k`` independent runs are made and joined at
test time (the paper's scaling of sleep-time compute for non-reasoning models).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from . import prompts
from .budget import DEFAULT_STRATEGY as DEFAULT_STRATEGY  # its home is budget.py
from .budget import SleepBudget
from .entries import Entries
from .errors import InvalidInputError, MalformedOutputError
from .errors import SleepCancelled as SleepCancelled  # its home is errors.py; imported from here too
from .llm.base import LLM, Message, SamplingParams, Usage
from .solve import solve_context

# "solve" (solve.py) anticipates questions and solves them with sandboxed programs and votes;
# "rethink" is the paper's loop; "rethink-structured" asks for JSON {"notes", "finished"}
# enforced by the backend (llama.cpp grammars, OpenAI json_schema) instead of parsing free text.
STRATEGIES = ("solve", "rethink", "rethink-structured")

NOTES_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {"notes": {"type": "string"}, "finished": {"type": "boolean"}},
    "required": ["notes", "finished"],
    "additionalProperties": False,
}

ProgressCallback = Callable[[int], None]  # called with 1 after every model call
# Unusable output is the one cause sleep retries itself (llm/retry.py has the others).
FIRST_ROUND_ATTEMPTS = 3


@dataclass(frozen=True)
class Growth:
    """A context that grew by appended text, with the notes made on its earlier part."""

    old_text: str
    new_text: str
    notes: str


@dataclass(frozen=True)
class SleepOutcome:
    notes: tuple[str, ...]
    usage: Usage
    rounds_used: tuple[int, ...]
    duration_s: float
    entries: Entries | None = None  # the solve strategy's records, rendered into ``notes``


def sleep_on(
    llm: LLM,
    context: str,
    budget: SleepBudget,
    *,
    growth: Growth | None = None,
    cancel: threading.Event | None = None,
    on_call: ProgressCallback | None = None,
    strategy: str,
    parallel: int = 1,
) -> SleepOutcome:
    """Run ``strategy`` over ``context``; ``budget`` must be resolved.

    rethink: ``budget.k`` independent loops. solve: one run of ``solve.solve_context``
    (which starts afresh on a grown context: its questions are re-anticipated).
    ``parallel`` bounds concurrent calls: remote endpoints serve several at once,
    an embedded model serializes them anyway.
    """
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"unknown sleep strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
    if strategy == "solve":
        started = time.perf_counter()
        entries, usage, used = solve_context(
            llm, context, budget, cancel=cancel, on_call=on_call, parallel=parallel
        )
        return SleepOutcome(
            notes=(entries.render(),),
            usage=usage,
            rounds_used=(used,),
            duration_s=time.perf_counter() - started,
            entries=entries,
        )
    structured = strategy == "rethink-structured"
    rounds, k = budget.rounds, budget.k
    started = time.perf_counter()

    def one(index: int) -> tuple[str, Usage, int]:
        params = SamplingParams(
            max_tokens=budget.max_tokens,
            temperature=budget.temperature,
            seed=None if budget.seed is None else budget.seed + index,
            reasoning_effort=budget.reasoning_effort,
            json_schema=NOTES_SCHEMA if structured else None,
        )
        return rethink(
            llm, context, rounds=rounds, params=params, growth=growth, cancel=cancel, on_call=on_call
        )

    if k == 1 or parallel <= 1:
        results = [one(i) for i in range(k)]
    else:
        with ThreadPoolExecutor(max_workers=min(parallel, k)) as pool:
            results = list(pool.map(one, range(k)))
    usage = sum((r[1] for r in results), Usage())
    return SleepOutcome(
        notes=tuple(r[0] for r in results),
        usage=usage,
        rounds_used=tuple(r[2] for r in results),
        duration_s=time.perf_counter() - started,
    )


def rethink(
    llm: LLM,
    context: str,
    *,
    rounds: int,
    params: SamplingParams,
    growth: Growth | None = None,
    cancel: threading.Event | None = None,
    on_call: ProgressCallback | None = None,
) -> tuple[str, Usage, int]:
    """One rethink loop: returns (notes, usage, rounds used)."""
    usage = Usage()
    notes = ""
    used = 0
    for round_index in range(rounds):
        if cancel is not None and cancel.is_set():
            raise SleepCancelled("sleep cancelled: the context changed while sleeping on it")
        if round_index == 0 and growth is not None:
            messages = prompts.sleep_incremental_round(growth.old_text, growth.new_text, growth.notes)
        elif round_index == 0:
            messages = prompts.sleep_first_round(context)
        else:
            messages = prompts.sleep_rethink_round(context, notes)
        if params.json_schema is not None:
            messages = prompts.with_structured_reply(messages)
        text, call_usage = _call(llm, messages, params, first=round_index == 0)
        usage += call_usage
        used += 1
        if on_call is not None:
            on_call(1)
        rewritten, finished = parse_output(text, params)
        if rewritten:
            notes = rewritten
        if finished:
            break
    return notes, usage, used


def _call(llm: LLM, messages: list[Message], params: SamplingParams, *, first: bool) -> tuple[str, Usage]:
    """One round's model call. A first round with no notes (unusable output) is asked again,
    at most ``FIRST_ROUND_ATTEMPTS`` times; transport errors are the backend's to retry."""
    spent = Usage()
    for _ in range(FIRST_ROUND_ATTEMPTS):
        completion = llm.complete(messages, params)
        spent += completion.usage
        if not first or parse_output(completion.text, params)[0]:
            return completion.text, spent
    raise MalformedOutputError(f"{llm.name} wrote no notes in the first sleep round")


_FENCE = re.compile(r"^\s*(?:NOTES\s*:?\s*)?(?:<<<|```[a-z]*)\s*\n?|\n?\s*(?:>>>|```)\s*$", re.IGNORECASE)
_FINISHED_TAIL = re.compile(rf"\s*\**{prompts.FINISHED}\**[.!]?\s*$")


def parse_output(text: str, params: SamplingParams) -> tuple[str, bool]:
    """A round's output, as JSON when the schema was enforced, else as free text."""
    if params.json_schema is None:
        return parse_rewrite(text)
    try:
        data = json.loads(text)
    except ValueError:
        return parse_rewrite(text)  # a backend that ignored the schema: read it as text
    if not isinstance(data, dict):
        return "", False
    notes = data.get("notes")
    notes_text = notes.strip() if isinstance(notes, str) else ""
    return (notes_text if len(notes_text) >= 8 else ""), data.get("finished") is True


def parse_rewrite(text: str) -> tuple[str, bool]:
    """(new notes or "" to keep the old ones, whether the model says it is done)."""
    body = text.strip()
    finished = False
    if _FINISHED_TAIL.search(body):
        finished = True
        body = _FINISHED_TAIL.sub("", body).strip()
    body = _FENCE.sub("", body).strip()
    # A model that only echoes a heading has written nothing worth keeping.
    if len(body) < 8:
        body = ""
    return body, finished
