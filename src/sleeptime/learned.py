"""A learned context ``c'``: what sleep-time compute wrote down about ``c``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .entries import Entries
from .llm.base import Usage


@dataclass(frozen=True)
class LearnedContext:
    """``text`` is what test time reads: the ``k`` notes joined (see ``join_notes``).

    ``key`` identifies what produced it (context version, strategy, prompt version,
    model, sampling parameters): sleeping twice with the same key costs nothing.
    """

    id: str
    context_id: str
    context_version: int
    text: str
    notes: tuple[str, ...]
    usage: Usage
    duration_s: float
    model: str
    strategy: str
    budget: dict[str, Any]
    key: str
    rounds_used: tuple[int, ...] = ()
    created_at: datetime | None = None
    based_on: str | None = None  # the learned context an incremental run started from
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def entries(self) -> Entries | None:
        """The solve strategy's records (``entries.py``); None for free-text notes (rethink, older ones)."""
        data = self.extra.get("entries")
        return Entries.from_dict(data) if isinstance(data, dict) else None


def join_notes(notes: tuple[str, ...] | list[str]) -> str:
    """The paper concatenates k independent learned contexts at test time."""
    kept = [n.strip() for n in notes if n.strip()]
    if len(kept) <= 1:
        return kept[0] if kept else ""
    return "\n\n".join(f"[Notes {i}]\n{note}" for i, note in enumerate(kept, 1))
