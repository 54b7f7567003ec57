"""The records every benchmark loader returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class QA:
    """An extra question about a context, with its verified answer.
    ``source`` says where it came from: "original", "derived", "variant" or "generated:<model>"."""

    question: str
    answer: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"question": self.question, "answer": self.answer, "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QA:
        return cls(str(data["question"]), str(data["answer"]), str(data.get("source", "")))


@dataclass(frozen=True)
class Example:
    """One benchmark item: context ``c``, question ``q`` and the gold answer.

    ``full_problem`` is the unsplit text; ``extra_questions`` hold further
    questions on the same context (multi-query datasets); ``meta`` holds
    source-specific fields (template id, year, gold files, ...).
    """

    id: str
    dataset: str
    context: str
    question: str
    answer: str
    full_problem: str
    extra_questions: tuple[QA, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def questions(self) -> tuple[QA, ...]:
        """The original question first, then the extra ones."""
        return (QA(self.question, self.answer, "original"), *self.extra_questions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset": self.dataset,
            "context": self.context,
            "question": self.question,
            "answer": self.answer,
            "full_problem": self.full_problem,
            "extra_questions": [qa.to_dict() for qa in self.extra_questions],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        return cls(
            id=str(data["id"]),
            dataset=str(data["dataset"]),
            context=str(data["context"]),
            question=str(data["question"]),
            answer=str(data["answer"]),
            full_problem=str(data.get("full_problem", "")),
            extra_questions=tuple(QA.from_dict(q) for q in data.get("extra_questions", ())),
            meta=dict(data.get("meta", {})),
        )


def gsm_gold(answer_text: str) -> str:
    """GSM gold: the text after ``####`` with ``$`` and ``,`` removed (``"1,234"`` -> ``"1234"``)."""
    _, sep, tail = answer_text.rpartition("####")
    if not sep:
        raise ValueError("a GSM answer must contain '####'")
    return tail.strip().replace("$", "").replace(",", "").strip()


def aime_gold(answer: str | int) -> str:
    """AIME gold: the integer without zero padding (``"025"`` -> ``"25"``)."""
    text = str(answer).strip()
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"an AIME answer is an integer, not {answer!r}")
    return str(int(text))


__all__ = ["QA", "Example", "aime_gold", "gsm_gold"]
