"""What the engine needs from storage. ``SQLStore`` (SQLite, PostgreSQL) implements it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from ..context import Context
from ..learned import LearnedContext
from ..llm.base import Usage

RunStatus = Literal["running", "done", "failed", "interrupted", "cancelled"]


@dataclass(frozen=True)
class SleepRun:
    """One attempt at ``S(c) -> c'``; recorded before it starts, closed when it ends."""

    id: str
    context_id: str
    context_version: int
    key: str
    strategy: str
    model: str
    status: RunStatus
    budget: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    learned_context_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        """How long it ran; None while it runs."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class QueryRecord:
    """A question asked about a context and the answer given."""

    id: str
    context_id: str
    context_version: int
    question: str
    answer: str
    usage: Usage
    latency_s: float
    model: str
    source: Literal["learned", "raw"]
    learned_context_id: str | None = None
    budget: dict[str, Any] = field(default_factory=dict)
    answers: tuple[str, ...] = ()
    created_at: datetime | None = None
    queue_wait_s: float | None = None  # of latency_s, the wait before the model call (the server's)


class Store(Protocol):
    # --- contexts (NotFoundError for unknown ids, also for another tenant's ids)
    def add_context(self, text: str, metadata: dict[str, Any], *, tenant: str = "default") -> Context: ...
    def get_context(
        self, context_id: str, *, version: int | None = None, tenant: str | None = None
    ) -> Context: ...
    def list_contexts(
        self, *, tenant: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Context]: ...
    def update_context(
        self, context_id: str, text: str, *, metadata: dict[str, Any] | None = None, tenant: str | None = None
    ) -> Context: ...
    def delete_context(self, context_id: str, *, tenant: str | None = None) -> None: ...

    # --- learned contexts and the runs that make them
    def start_run(
        self, context_id: str, version: int, *, key: str, strategy: str, model: str, budget: dict[str, Any]
    ) -> SleepRun: ...
    def finish_run(self, run_id: str, learned: LearnedContext) -> LearnedContext:
        """Store ``learned`` and mark the run done, in one transaction."""
        ...

    def record_run_usage(self, run_id: str, usage: Usage) -> None:
        """What a run still ``running`` has spent so far (a closed run is left alone)."""
        ...

    def fail_run(self, run_id: str, error: str, *, usage: Usage, status: RunStatus = "failed") -> None: ...
    def list_runs(self, context_id: str) -> list[SleepRun]: ...
    def find_learned(self, context_id: str, version: int, key: str) -> LearnedContext | None: ...
    def latest_learned(self, context_id: str, version: int) -> LearnedContext | None: ...
    def list_learned(self, context_id: str) -> list[LearnedContext]: ...
    def get_learned(self, learned_id: str) -> LearnedContext: ...

    # --- queries
    def record_query(self, query: QueryRecord) -> QueryRecord: ...
    def list_queries(self, context_id: str, *, limit: int = 100, offset: int = 0) -> list[QueryRecord]: ...

    def close(self) -> None: ...
