"""How one question is answered under one condition, and how the answer is graded.

``ask`` is the default: ``Engine.ask`` from the learned context (sleep-time) or
without it (test-time only), and for the context-only ablation a direct call to
the engine's model with ``prompts.context_only_messages``. Experiments with
their own way of asking (``swe``: several steps) pass their own ``Asker``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import prompts
from ..answer import answer_params
from ..budget import Budget
from ..engine import Engine
from ..errors import InvalidInputError, MalformedOutputError
from ..llm.base import Usage
from .config import Condition
from .datasets import QA, Example
from .grading import final_answer_text, grade_aime, grade_gsm, parse_number

# Single-statement AIME problems have no context; the engine stores none, so both
# conditions get this sentence instead.
EMPTY_CONTEXT = "(This problem has no context beyond its question.)"
# Failures that are the model's (unusable output, a prompt that cannot fit): recorded
# as a wrong answer. Anything else (a server down, a time-out) stops the run, to resume later.
MODEL_FAILURES = (MalformedOutputError, InvalidInputError)


@dataclass(frozen=True)
class Attempt:
    """What one condition produced for one question."""

    text: str
    usage: Usage
    latency_s: float
    texts: tuple[str, ...] = ()
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AskRequest:
    engine: Engine
    context_id: str
    context_text: str
    example: Example
    qa: QA
    condition: Condition
    budget: Budget
    learned_id: str | None = None  # the learned context a sleep-time answer uses; None: raw context

    @property
    def use_learned(self) -> bool:
        """Answer from the named learned context (sleep-time whose sleep succeeded), else raw."""
        return self.condition.kind == "sleep" and self.learned_id is not None


Asker = Callable[[AskRequest], Attempt]
Grader = Callable[[Example, QA, str], float]


def ask(request: AskRequest) -> Attempt:
    """The default asker: ``Engine.ask`` (sleep / test-time), or the context-only ablation."""
    cond, engine = request.condition, request.engine
    if cond.kind == "context-only":
        messages = prompts.context_only_messages(request.context_text, cond.verbosity)
        done = engine.model.complete(messages, answer_params(engine.resolve_ask_budget(request.budget)))
        return Attempt(done.text, done.usage, done.latency_s, done.texts, "context-only")
    answer = engine.ask(
        request.context_id,
        request.qa.question,
        request.budget,
        learned_id=request.learned_id,
        use_learned=request.use_learned,
        truncate=True,
        record=False,
    )
    return Attempt(answer.text, answer.usage, answer.latency_s, answer.texts, answer.source)


def grade(example: Example, qa: QA, text: str) -> float:
    """1.0 or 0.0: AIME by its integer, numeric gold numerically as GSM, other gold (Hub
    datasets) by the final answer's text, case and surrounding punctuation ignored."""
    if example.dataset.startswith("stateful-aime"):
        return float(grade_aime(text, qa.answer))
    if parse_number(qa.answer) is not None:
        return float(grade_gsm(text, qa.answer))
    said = final_answer_text(text).strip().strip(".").strip().lower()
    return float(said == qa.answer.strip().strip(".").strip().lower())


def context_text(example: Example) -> str:
    """The context the engine stores for an example (a sentence when it has none)."""
    return example.context.strip() or EMPTY_CONTEXT


__all__ = [
    "EMPTY_CONTEXT",
    "MODEL_FAILURES",
    "AskRequest",
    "Asker",
    "Attempt",
    "Grader",
    "ask",
    "context_text",
    "grade",
]
