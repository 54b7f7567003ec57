"""Response bodies about what the server did and will do: sleep runs and the learned
contexts they made, the scheduler's plan, and token statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from .schemas import JobOut, RecordOut, UsageOut


class ChangeOut(BaseModel):
    """What a run changed in the learned context, against the one before it."""

    previous_learned_context_id: str | None
    chars_before: int
    chars_after: int
    lines_added: int
    lines_removed: int


class RunOut(RecordOut):
    id: str
    context_version: int
    status: str = Field(description="running, done, failed, interrupted or cancelled.")
    model: str
    strategy: str
    budget: dict[str, Any]
    usage: UsageOut
    duration_s: float | None
    error: str | None
    learned_context_id: str | None
    started_at: datetime | None
    finished_at: datetime | None
    changes: ChangeOut | None = None


class LearnedOut(RecordOut):
    id: str
    context_version: int
    current: bool = Field(description="Made from the context's current version (else: history).")
    text: str
    notes: list[str]
    usage: UsageOut
    duration_s: float
    model: str
    strategy: str
    budget: dict[str, Any]
    rounds_used: list[int]
    based_on: str | None = Field(description="The learned context an incremental run grew.")
    created_at: datetime | None
    runs: list[RunOut] = Field(description="The runs that produced it.")


class LearnedList(BaseModel):
    data: list[LearnedOut] = Field(description="Newest first, all versions.")
    runs: list[RunOut] = Field(description="Every run, newest first, including failed and cancelled ones.")


class PlanItemOut(BaseModel):
    job: JobOut
    action: Literal["run", "wait", "blocked", "running"]
    reason: str
    estimated_tokens: int | None = Field(description="Worst case of the run's tokens.")


class PlanOut(BaseModel):
    now: datetime
    items: list[PlanItemOut]


class SleepOut(BaseModel):
    job: JobOut | None = Field(description="The job (null for a dry run).")
    learned: LearnedOut | None = Field(None, description="The learned context, when `wait` saw it finish.")
    plan: PlanOut | None = Field(None, description="For a dry run: what would run.")


class TokensOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int


class ContextStats(BaseModel):
    context_id: str
    sleep_tokens: TokensOut
    sleep_runs: int
    test_tokens: TokensOut
    queries: int
    queries_from_learned: int
    queries_from_raw: int
    avg_completion_tokens_learned: float | None
    avg_completion_tokens_raw: float | None
    break_even_queries: int | None = Field(
        description="Queries answered from the learned context after which sleeping paid for itself "
        "(generated tokens, test-time ones weighted test_time_weight); null: not (yet) cheaper."
    )
    paid_off: bool | None


class StatsOut(BaseModel):
    test_time_weight: float
    queries_served: int
    sleep_tokens: TokensOut
    test_tokens: TokensOut
    contexts: list[ContextStats]
