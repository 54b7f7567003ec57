"""Test-time compute, ``T_b(q, c') -> a``: answer a question with a (small) budget.

The released reference code gives the model both the learned context ``c'`` and
the raw context ``c``; so do we. The test-time-only baseline is the same call
with empty notes, so the two differ in nothing but ``c'``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from . import prompts
from .budget import Budget
from .errors import InvalidInputError
from .llm.base import LLM, Completion, Message, SamplingParams, Usage
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

    @property
    def short(self) -> str:
        """The final 'The answer is X' sentence when the model wrote one, else the whole text."""
        return final_sentence(self.text)


def validate_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InvalidInputError("question is empty", hint="ask something about the context")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInputError(
            f"question has {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}"
        )
    return question.strip()


def answer_params(budget: Budget) -> SamplingParams:
    return SamplingParams(
        max_tokens=budget.max_tokens or 512,
        temperature=budget.temperature or 0.0,
        seed=budget.seed,
        n=budget.n or 1,
        reasoning_effort=budget.reasoning_effort,
    )


def build_answer_messages(
    llm: LLM, context: str, notes: str, question: str, budget: Budget, *, truncate: bool = False
) -> list[Message]:
    """The answer prompt; the context (never the notes or question) is cut if asked and needed."""
    max_tokens = budget.max_tokens or 512
    reserved = max_tokens + llm.count_tokens(notes) + llm.count_tokens(question)
    context = fit_text(llm, context, reserved=reserved, truncate=truncate)
    verbosity = 0 if budget.verbosity is None else budget.verbosity
    return prompts.answer_messages(context, notes, question, verbosity)


def respond(
    llm: LLM, context: str, notes: str, question: str, budget: Budget, *, truncate: bool = False
) -> Completion:
    """``T_b(q, c') -> a``: one model call with the notes (empty for the baseline) and the question."""
    messages = build_answer_messages(llm, context, notes, question, budget, truncate=truncate)
    return llm.complete(messages, answer_params(budget))


_FINAL = re.compile(r"[^.\n]*\bthe (?:final )?answer is\b[^\n]*", re.IGNORECASE)


def final_sentence(text: str) -> str:
    found = _FINAL.findall(text)
    return found[-1].strip() if found else text.strip()
