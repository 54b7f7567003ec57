"""Test-time compute, ``T_b(q, c') -> a``: answer a question with a (small) budget.

The released reference code gives the model both the learned context ``c'`` and
the raw context ``c``; so do we. The test-time-only baseline is the same call
with empty notes, so the two differ in nothing but ``c'``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from . import prompts
from .budget import AskBudget
from .entries import Value
from .errors import InvalidInputError
from .llm.base import LLM, Completion, Message, SamplingParams, StreamingLLM, Usage
from .verify import computed_answer
from .window import fit_text

Source = Literal["learned", "raw"]
MAX_QUESTION_CHARS = 20_000


@dataclass(frozen=True)
class Answer:
    """An answer. ``texts`` holds all ``n`` samples; ``text`` is the first.

    ``source`` says what it was answered from: ``"learned"`` (a learned context
    of the context's current version, ``learned_context_id``) or ``"raw"``
    (the context alone: no learned context yet, or the baseline was asked for).
    """

    text: str
    usage: Usage
    latency_s: float
    source: Source
    context_id: str
    context_version: int
    question: str
    model: str
    learned_context_id: str | None = None
    texts: tuple[str, ...] = ()
    time_to_first_token_s: float | None = None
    budget: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    created_at: datetime | None = None
    note: str = ""
    escalated: bool = False  # answered with the escalation budget (``Engine.ask(escalate=...)``)
    finish_reasons: tuple[str, ...] = ()  # per sample: "stop", or "length" when max_tokens cut it

    @property
    def short(self) -> str:
        """The final 'The answer is X' sentence when the model wrote one, else the whole text."""
        return final_sentence(self.text)

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data: the CLI's ``--json`` and the server's answer body."""
        return {
            "id": self.id,
            "context_id": self.context_id,
            "context_version": self.context_version,
            "question": self.question,
            "answer": self.text,
            "answers": list(self.texts or (self.text,)),
            "source": self.source,
            "learned_context_id": self.learned_context_id,
            "usage": {**self.usage.to_dict(), "total_tokens": self.usage.total_tokens},
            "latency_s": self.latency_s,
            "time_to_first_token_s": self.time_to_first_token_s,
            "model": self.model,
            "budget": self.budget,
            "note": self.note,
            "escalated": self.escalated,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


class AnswerStream:
    """An answer as it is generated (``Engine.ask_stream``). Iterate once for its text
    pieces; then ``answer`` is the finished ``Answer`` (recorded, unless asked not to).

    What it is answered from is known before the first piece: ``source``,
    ``context_id``, ``context_version``, ``learned_context_id``, ``note``, ``model``
    and ``id``, the query id it will be recorded under (None when not recorded).
    """

    def __init__(
        self,
        pieces: Generator[str, None, Completion],
        finish: Callable[[Completion], Answer],
        *,
        source: Source,
        context_id: str,
        context_version: int,
        learned_context_id: str | None,
        note: str,
        model: str,
        id: str | None,
    ) -> None:
        self._pieces, self._finish = pieces, finish
        self.source, self.context_id, self.context_version = source, context_id, context_version
        self.learned_context_id, self.note, self.model, self.id = learned_context_id, note, model, id
        self._iterator: Generator[str, None, None] | None = None
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        if self._iterator is not None:
            raise RuntimeError("an AnswerStream can be iterated only once")
        self._iterator = self._run()
        return self._iterator

    def _run(self) -> Generator[str, None, None]:
        completion = yield from self._pieces
        self._answer = self._finish(completion)

    @property
    def answer(self) -> Answer:
        if self._answer is None:
            raise RuntimeError("the answer is not finished: iterate over the stream to its end first")
        return self._answer

    def close(self) -> None:
        """Stop generating (a client went away); nothing is recorded. An embedded model is
        released here, so close from the thread that iterated."""
        (self._iterator or self._pieces).close()

    def __enter__(self) -> AnswerStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def validate_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InvalidInputError("question is empty", hint="ask something about the context")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInputError(
            f"question has {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}"
        )
    return question.strip()


def answer_params(budget: AskBudget, *, program: bool = False) -> SamplingParams:
    """``program``: the reply is a program in a fence, whose end stops it (no explanation after)."""
    return SamplingParams(
        max_tokens=budget.max_tokens,
        temperature=budget.temperature,
        seed=budget.seed,
        n=budget.n,
        reasoning_effort=budget.reasoning_effort,
        stop=(prompts.PROGRAM_FENCE_END,) if program else (),
    )


_BLANK = re.compile(r"_{3,}")


def is_cloze(question: str) -> bool:
    """A sentence with a blank to fill in (``___``), as Multi-Query's derived questions are."""
    return _BLANK.search(question) is not None


@dataclass(frozen=True)
class AnswerInput:
    """What one answer prompt is made of: the context (cut to the model's window if
    ``truncate`` and needed; never the notes or question), the notes (empty for the
    baseline), the question and its budget. ``values``: the learned context's named
    quantities, which a verbosity-0 answer computes with. ``new_facts``: the question brings
    numbers the context does not have (``escalation.adds_facts``)."""

    context: str
    notes: str
    question: str
    budget: AskBudget
    values: Mapping[str, Value] = field(default_factory=dict)
    truncate: bool = False
    new_facts: bool = False

    @property
    def program(self) -> bool:
        """Answered with a program over the context and the question: verbosity 0 on a learned
        context with named values, when the question adds facts. The terse line over the notes
        cannot combine new facts reliably on a small model; a program written for the question, as
        sleep time writes them, can (docs/results.md), for about 100 tokens instead of 300.

        Not a cloze ("... 6 batches * 16 minutes = ___ minutes"): its new numbers are the quoted
        step's own, and a program re-solves the whole problem instead of filling the blank (on
        development cloze questions 0 of 12 right against 5 of 12 for the terse line)."""
        computes = bool(self.values) and self.budget.verbosity == 0
        return self.new_facts and computes and not is_cloze(self.question)

    @property
    def params(self) -> SamplingParams:
        return answer_params(self.budget, program=self.program)

    @property
    def inputs(self) -> Mapping[str, Value] | None:
        """What a reply written as Python runs with (``verify.computed_answer``): the learned values,
        for the line written over the notes; nothing for a program, which was written without seeing
        them, so a name it forgot to assign fails instead of silently taking a learned quantity's
        value; None (never run) without learned values (the baseline)."""
        if self.program:
            return {}
        return self.values or None


def build_answer_messages(llm: LLM, given: AnswerInput) -> list[Message]:
    notes = "" if given.program else given.notes
    reserved = given.budget.max_tokens + llm.count_tokens(notes) + llm.count_tokens(given.question)
    context = fit_text(llm, given.context, reserved=reserved, truncate=given.truncate)
    if given.program:  # the prompt sleep time solves its anticipated questions with, for this one
        return prompts.solve_with_program(context, given.question)
    return prompts.answer_messages(
        context, notes, given.question, given.budget.verbosity, computable=bool(given.values)
    )


def respond(llm: LLM, given: AnswerInput) -> Completion:
    """``T_b(q, c') -> a``: one model call with the notes and the question."""
    completion = llm.complete(build_answer_messages(llm, given), given.params)
    return checked(completion, given.inputs)


def checked(completion: Completion, inputs: Mapping[str, Value] | None = None) -> Completion:
    """Every sample with its computation run over ``inputs`` when it wrote one (``AnswerInput.inputs``),
    else the arithmetic of its final sentence recomputed (``verify.py``)."""
    texts = tuple(computed_answer(t, inputs) for t in completion.texts)
    return completion if texts == completion.texts else replace(completion, texts=texts)


def respond_stream(llm: LLM, given: AnswerInput) -> Generator[str, None, Completion]:
    """``respond``, yielding the text as it is generated; returns the ``Completion``.

    A backend that cannot stream, or ``n > 1`` samples, gives one call and one piece.
    Streams report no usage, so it is counted with the model's tokenizer. A computed
    answer's result ('The answer is X.') comes as a last piece once the program has run.
    """
    messages = build_answer_messages(llm, given)
    params = given.params
    if not isinstance(llm, StreamingLLM) or params.n > 1:
        completion = checked(llm.complete(messages, params), given.inputs)
        if completion.text:
            yield completion.text
        return completion
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    for piece in llm.stream(messages, params):
        if first is None:
            first = time.perf_counter() - started
        parts.append(piece)
        yield piece
    text = "".join(parts)
    usage = Usage(sum(llm.count_tokens(m["content"]) for m in messages), llm.count_tokens(text), 0, 1)
    done = checked(
        Completion((text,), usage, llm.name, time.perf_counter() - started, first, ("stop",)), given.inputs
    )
    if done.text.startswith(text) and len(done.text) > len(text):
        yield done.text[len(text) :]
    # Otherwise the stored answer has its final arithmetic corrected; the pieces went out as written.
    return done


_ANSWER_IS = re.compile(r"\bthe (?:final )?answer is\b", re.IGNORECASE)


def final_sentence(text: str) -> str:
    """From the start of the sentence of the line's first 'the answer is' to the end of the line that
    has the last; the whole text if none. (Found by position: a pattern that scans back over a
    sentence is quadratic in a looping reply's one long line.)"""
    hits = [m.start() for m in _ANSWER_IS.finditer(text)]
    if not hits:
        return text.strip()
    line_start = text.rfind("\n", 0, hits[-1]) + 1
    first = next(at for at in hits if at >= line_start)
    start = max(text.rfind(".", line_start, first) + 1, line_start)
    line_end = text.find("\n", hits[-1])
    return text[start : line_end if line_end >= 0 else None].strip()
