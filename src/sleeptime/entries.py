"""A learned context as entries, not one blob.

The ``solve`` strategy (``solve.py``) stores what it worked out as records:
quantities (a named value, read from the context or derived by a program),
anticipated questions with their voted answer, agreement and the program that
produced it, and derived facts. Test time reads them rendered as text
(``render``); later sleeps edit entries instead of rewriting everything.
Learned contexts of the older free-text form have no entries and load as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Value = int | float | str | bool
Method = Literal["program", "reasoning"]


@dataclass(frozen=True)
class Quantity:
    name: str
    value: Value
    origin: Literal["context", "derived"] = "derived"
    question: int | None = None  # the anticipated question whose program computed it


@dataclass(frozen=True)
class Anticipated:
    """A question sleep time foresaw, and the answer most of its solutions reached."""

    question: str
    answer: str
    agree: int  # solutions that reached ``answer``
    solutions: int  # solutions attempted
    method: Method = "program"
    program: str = ""

    @property
    def confidence(self) -> float:
        return self.agree / self.solutions if self.solutions else 0.0

    @property
    def settled(self) -> bool:
        """More than half of the solutions reached the answer."""
        return 2 * self.agree > self.solutions


@dataclass(frozen=True)
class Entries:
    quantities: tuple[Quantity, ...] = ()
    questions: tuple[Anticipated, ...] = ()
    facts: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.quantities or self.questions or self.facts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantities": [asdict(q) for q in self.quantities],
            "questions": [asdict(q) for q in self.questions],
            "facts": list(self.facts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Entries:
        data = data or {}
        return cls(
            quantities=tuple(Quantity(**q) for q in data.get("quantities", [])),
            questions=tuple(Anticipated(**q) for q in data.get("questions", [])),
            facts=tuple(str(f) for f in data.get("facts", [])),
        )

    def values(self) -> dict[str, Value]:
        """The quantities by name: the variables a verbosity-0 answer computes with."""
        return {q.name: q.value for q in self.quantities}

    def render(self) -> str:
        """The text test time reads: values first (to compute with), then answered questions."""
        parts: list[str] = []
        if self.quantities:
            # Written as Python assignments: the names are the variables a terse answer computes with.
            lines = [f"{q.name} = {_literal(q.value)}" for q in self.quantities]
            parts.append("Values worked out ahead of time (Python variables):\n" + "\n".join(lines))
        if self.questions:
            # No vote counts in the text: small models copy them into their answers.
            lines = [
                f"- Q: {q.question}\n  A: {q.answer}" + ("" if q.settled else " (uncertain)")
                for q in self.questions
            ]
            parts.append("Likely questions, answered ahead of time:\n" + "\n".join(lines))
        if self.facts:
            parts.append("Facts:\n" + "\n".join(f"- {f}" for f in self.facts))
        return "\n\n".join(parts)


def format_value(value: Value) -> str:
    """Numbers as a person writes them: 18, 2.5, 0.3333 (not 0.33333333333333337)."""
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return f"{value:.6g}" if abs(value) < 1e15 else f"{value:.6e}"


def format_result(value: Value) -> str:
    """A program's result as a person writes it, float noise rounded off first (26.9999999 -> 27)."""
    return format_value(round(value, 6) if isinstance(value, float) else value)


def _literal(value: Value) -> str:
    return repr(value) if isinstance(value, str) else format_value(value)


@dataclass(frozen=True)
class Vote:
    """One solution's result, for majority voting."""

    answer: str
    method: Method
    program: str = ""
    values: dict[str, Value] = field(default_factory=dict)


def majority(votes: list[Vote]) -> tuple[Vote, int] | None:
    """The answer most votes reached (ties: the earliest, i.e. the greedy one) and its count."""
    if not votes:
        return None
    counts: dict[str, int] = {}
    for vote in votes:
        counts[vote.answer] = counts.get(vote.answer, 0) + 1
    best = max(counts.values())
    winner = next(v for v in votes if counts[v.answer] == best)
    return winner, best


__all__ = ["Anticipated", "Entries", "Quantity", "Vote", "format_result", "format_value", "majority"]
