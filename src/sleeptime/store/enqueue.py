"""Queueing a context's sleep job: at most one job per context is ``queued``.

An edit, a request or a query on a context that already has a queued job moves that
job (its version, due time and budget: debounce) instead of adding another, so a
burst of edits costs one sleep. ``JobStore.touch`` and ``JobStore.relay`` (``jobs.py``)
both queue through ``enqueue``, in a transaction that holds the context's row lock
(``lock_context``): the lock an edit takes too, so editing and queueing one context
happen one at a time, and in that order (no deadlock between an edit and a relay).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ..errors import NotFoundError
from . import rows
from .schema import contexts, sleep_jobs

# Why a job is queued; "queried" only ever moves an existing job.
JobReason = Literal["created", "changed", "requested", "queried", "retry"]


def lock_context(conn: Connection, context_id: str, *, missing_ok: bool = False) -> RowMapping:
    """The context's id, tenant and current version, its row locked until the transaction ends
    (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction already excludes other writers)."""
    stmt = sa.select(contexts.c.id, contexts.c.tenant, contexts.c.current_version).where(
        contexts.c.id == context_id
    )
    row = conn.execute(stmt.with_for_update()).mappings().first()
    if row is None and not missing_ok:
        raise NotFoundError(f"no context {context_id!r}")
    return row  # type: ignore[return-value]  # None only when missing_ok


def queued_job(conn: Connection, context_id: str) -> RowMapping | None:
    """The context's one queued job, if it has one."""
    j = sleep_jobs
    stmt = sa.select(j).where(j.c.context_id == context_id, j.c.status == "queued").limit(1)
    return conn.execute(stmt).mappings().first()


def enqueue(
    conn: Connection,
    ctx: RowMapping,
    *,
    now: datetime,
    due_at: datetime,
    reason: JobReason,
    max_attempts: int,
    budget: dict[str, Any] | None = None,
) -> str | None:
    """Queue a job for the locked context ``ctx`` (from ``lock_context``) or move its queued one;
    the queued job's id, or None when ``queried`` found nothing to move.

    ``created``/``changed``/``requested`` set the due time (and the budget, when given);
    ``queried`` only pushes back a job that waits for idleness, and never creates one.
    """
    context_id = ctx["id"]
    queued = queued_job(conn, context_id)
    if queued is not None:
        values: dict[str, Any] = {"version": ctx["current_version"], "updated_at": now}
        if reason == "queried":
            if queued["reason"] in ("created", "changed"):
                values["due_at"] = max(rows.to_utc(queued["due_at"]), due_at)
        else:
            values.update(reason=reason, due_at=due_at)
            if budget is not None:
                values["budget"] = budget
        conn.execute(sleep_jobs.update().where(sleep_jobs.c.id == queued["id"]).values(**values))
        return str(queued["id"])
    if reason == "queried":
        return None
    job_id = rows.new_id()
    conn.execute(
        sleep_jobs.insert().values(
            id=job_id,
            context_id=context_id,
            tenant=ctx["tenant"],
            version=ctx["current_version"],
            reason=reason,
            budget=budget,
            status="queued",
            due_at=due_at,
            attempts=0,
            max_attempts=max_attempts,
            created_at=now,
            updated_at=now,
        )
    )
    return job_id
