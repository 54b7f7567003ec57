"""The durable sleep-job queue (table ``sleep_jobs``), shared by every server process.

A job asks for ``S(c) -> c'`` on a context's current version once it is due.
At most one job per context is ``queued``: edits and queries move its due time
(debounce) instead of adding more (``enqueue.py``). A worker claims a due job by taking a lease
(``lease_owner``, ``lease_expires_at``) and renews it while it works; a job
whose lease ran out (its process died) is claimed again, which is how a killed
run is retried, up to ``max_attempts``.

Claiming locks: ``SELECT ... FOR UPDATE SKIP LOCKED`` and the context's row on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite; either way one job of a context runs
at a time, in one process.

New versions reach the queue through the outbox (``outbox.py``, ``relay``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from . import outbox, rows
from .database import EngineStore
from .enqueue import JobReason, enqueue, lock_context, queued_job
from .schema import contexts, sleep_jobs, sleep_runs
from .statements import row_by_id

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED: tuple[JobStatus, ...] = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    id: str
    context_id: str
    tenant: str
    version: int
    reason: str
    status: JobStatus
    due_at: datetime
    attempts: int
    max_attempts: int
    budget: dict[str, Any] | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    run_id: str | None = None
    learned_context_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None


class JobStore(EngineStore):
    """The queue on a store's SQLAlchemy engine (``SQLStore.engine``). Times come from the caller's clock."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.postgres = engine.dialect.name == "postgresql"

    # --- producing

    def touch(
        self,
        context_id: str,
        *,
        now: datetime,
        due_at: datetime,
        reason: JobReason,
        max_attempts: int,
        budget: dict[str, Any] | None = None,
    ) -> Job | None:
        """Queue a job for the context's current version, or move the queued one.

        ``created``/``changed``/``requested`` set the due time (and the budget, when
        given); ``queried`` only pushes back a job that waits for idleness, and
        never creates one. Returns the queued job, if there is one.
        """
        now, due_at = rows.to_utc(now), rows.to_utc(due_at)
        with self._conn(write=True) as conn:
            ctx = lock_context(conn, context_id)
            job_id = enqueue(
                conn, ctx, now=now, due_at=due_at, reason=reason, max_attempts=max_attempts, budget=budget
            )
            return None if job_id is None else _job(_job_row(conn, job_id))

    def relay(
        self, *, now: datetime, due_at: datetime, max_attempts: int, context_id: str | None = None
    ) -> list[Job]:
        """Queue (or move) a job for each outbox row, or only ``context_id``'s, deleting the rows
        in the same transaction (``outbox.take``). Returns the jobs queued or moved."""
        now, due_at = rows.to_utc(now), rows.to_utc(due_at)
        with self._conn() as conn:
            if not outbox.any_pending(conn, context_id=context_id):
                return []
        jobs: list[Job] = []
        with self._conn(write=True) as conn:
            for ctx, reason in outbox.take(conn, context_id=context_id):
                job_id = enqueue(conn, ctx, now=now, due_at=due_at, reason=reason, max_attempts=max_attempts)
                if job_id is not None:
                    jobs.append(_job(_job_row(conn, job_id)))
        return jobs

    def pending(self, *, limit: int = 100) -> list[tuple[str, str, int]]:
        """(context id, tenant, version) of the edits the next ``relay`` turns into jobs."""
        with self._conn() as conn:
            return outbox.pending(conn, limit=limit)

    # --- consuming

    def claim(self, owner: str, *, now: datetime, lease_s: float) -> Job | None:
        """Lease the next due job to ``owner``; None when nothing is due.

        A job whose lease expired is taken back: the run it left ``running`` is
        marked interrupted, and past ``max_attempts`` the job fails instead.
        """
        now = rows.to_utc(now)
        with self._conn(write=True) as conn:
            for _ in range(16):
                row = conn.execute(self._candidates(now)).mappings().first()
                if row is None:
                    return None
                lock_context(conn, row["context_id"], missing_ok=True)
                if conn.execute(_busy(row["context_id"], row["id"], now)).first() is not None:
                    return None  # another process took this context meanwhile (PostgreSQL)
                if row["status"] == "running":
                    _interrupt_runs(conn, row["context_id"], now)
                    error = "the process running it stopped (its lease expired)"
                    if queued_job(conn, row["context_id"]) is not None:
                        _close(conn, row["id"], "cancelled", now, error=f"{error}; superseded by a newer job")
                        continue
                    if row["attempts"] >= row["max_attempts"]:
                        _close(conn, row["id"], "failed", now, error=gave_up(row["attempts"], error))
                        continue
                conn.execute(
                    sleep_jobs.update()
                    .where(sleep_jobs.c.id == row["id"])
                    .values(
                        status="running",
                        attempts=row["attempts"] + 1,
                        lease_owner=owner,
                        lease_expires_at=now + timedelta(seconds=lease_s),
                        updated_at=now,
                    )
                )
                return _job(_job_row(conn, row["id"]))
        return None

    def _candidates(self, now: datetime) -> sa.Select[Any]:
        j = sleep_jobs
        due = sa.or_(
            sa.and_(j.c.status == "queued", j.c.due_at <= now),
            sa.and_(j.c.status == "running", j.c.lease_expires_at < now),
        )
        stmt = (
            sa.select(j)
            .where(due, ~sa.exists(_busy(j.c.context_id, j.c.id, now)))
            .order_by(j.c.due_at, j.c.id)
            .limit(1)
        )
        if self.postgres:
            stmt = stmt.with_for_update(skip_locked=True, of=j)
        return stmt

    def heartbeat(self, job_id: str, owner: str, *, now: datetime, lease_s: float) -> tuple[bool, int | None]:
        """Renew the lease: (still ours, the context's current version or None if deleted)."""
        now = rows.to_utc(now)
        j = sleep_jobs
        with self._conn(write=True) as conn:
            renewed = conn.execute(
                j.update()
                .where(j.c.id == job_id, j.c.lease_owner == owner, j.c.status == "running")
                .values(lease_expires_at=now + timedelta(seconds=lease_s))
            ).rowcount
            version = conn.execute(
                sa.select(contexts.c.current_version)
                .select_from(j.join(contexts, contexts.c.id == j.c.context_id))
                .where(j.c.id == job_id)
            ).scalar_one_or_none()
        return renewed == 1, version

    def finish(
        self,
        job_id: str,
        owner: str,
        status: JobStatus,
        *,
        now: datetime,
        error: str | None = None,
        version: int | None = None,
        run_id: str | None = None,
        learned_id: str | None = None,
    ) -> bool:
        """Close a job this owner holds; False if it is no longer ours."""
        values: dict[str, Any] = {"run_id": run_id, "learned_context_id": learned_id}
        if version is not None:
            values["version"] = version
        with self._conn(write=True) as conn:
            if not _owned(conn, job_id, owner):
                return False
            _close(conn, job_id, status, rows.to_utc(now), error=error, **values)
            return True

    def requeue(
        self,
        job_id: str,
        owner: str,
        *,
        now: datetime,
        due_at: datetime,
        error: str | None,
        count_attempt: bool = True,
        reason: JobReason = "retry",
    ) -> Job | None:
        """Put a job this owner holds back in the queue (or cancel it if a newer one waits)."""
        now = rows.to_utc(now)
        with self._conn(write=True) as conn:
            row = _owned(conn, job_id, owner)
            if row is None:
                return None
            if queued_job(conn, row["context_id"]) is not None:
                _close(conn, job_id, "cancelled", now, error=f"superseded by a newer job; {error}")
            else:
                conn.execute(
                    sleep_jobs.update()
                    .where(sleep_jobs.c.id == job_id)
                    .values(
                        status="queued",
                        reason=reason,
                        due_at=rows.to_utc(due_at),
                        attempts=row["attempts"] if count_attempt else max(0, row["attempts"] - 1),
                        lease_owner=None,
                        lease_expires_at=None,
                        last_error=error,
                        updated_at=now,
                    )
                )
            return _job(_job_row(conn, job_id))

    def release_dead_owners(self, prefix: str, is_dead: Callable[[str], bool], *, now: datetime) -> int:
        """Expire the leases of owners starting with ``prefix`` (this host) whose process is gone,
        so a restarted server retries their jobs at once instead of after the lease."""
        now = rows.to_utc(now)
        j = sleep_jobs
        with self._conn(write=True) as conn:
            held = conn.execute(
                sa.select(j.c.id, j.c.lease_owner).where(
                    j.c.status == "running", j.c.lease_owner.startswith(prefix, autoescape=True)
                )
            ).all()
            dead = [job_id for job_id, owner in held if owner is not None and is_dead(owner)]
            if dead:
                conn.execute(
                    j.update().where(j.c.id.in_(dead)).values(lease_expires_at=now - timedelta(seconds=1))
                )
        return len(dead)

    # --- reading

    def get(self, job_id: str) -> Job:
        with self._conn() as conn:
            return _job(_job_row(conn, job_id))

    def list_jobs(
        self,
        *,
        context_id: str | None = None,
        tenant: str | None = None,
        statuses: tuple[JobStatus, ...] | None = None,
        limit: int = 100,
    ) -> list[Job]:
        """Newest first (queued ones: soonest due first when ``statuses`` is ("queued",))."""
        j = sleep_jobs
        stmt = sa.select(j).limit(limit)
        if statuses == ("queued",):
            stmt = stmt.order_by(j.c.due_at, j.c.id)
        else:
            stmt = stmt.order_by(j.c.created_at.desc(), j.c.id.desc())
        if context_id is not None:
            stmt = stmt.where(j.c.context_id == context_id)
        if tenant is not None:
            stmt = stmt.where(j.c.tenant == tenant)
        if statuses is not None:
            stmt = stmt.where(j.c.status.in_(statuses))
        with self._conn() as conn:
            return [_job(r) for r in conn.execute(stmt).mappings()]


def _busy(context_id: Any, job_id: Any, now: datetime) -> sa.Select[Any]:
    """Another job of the same context holds a live lease."""
    other = sleep_jobs.alias("other")
    return sa.select(other.c.id).where(
        other.c.context_id == context_id,
        other.c.id != job_id,
        other.c.status == "running",
        other.c.lease_expires_at >= now,
    )


def _owned(conn: Connection, job_id: str, owner: str) -> RowMapping | None:
    j = sleep_jobs
    stmt = sa.select(j).where(j.c.id == job_id, j.c.lease_owner == owner, j.c.status == "running")
    return conn.execute(stmt.with_for_update()).mappings().first()


def _close(conn: Connection, job_id: str, status: JobStatus, now: datetime, **values: Any) -> None:
    error = values.pop("error", None)
    conn.execute(
        sleep_jobs.update()
        .where(sleep_jobs.c.id == job_id)
        .values(
            status=status,
            last_error=error,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
            **values,
        )
    )


def _interrupt_runs(conn: Connection, context_id: str, now: datetime) -> None:
    r = sleep_runs
    conn.execute(
        r.update()
        .where(r.c.context_id == context_id, r.c.status == "running", r.c.started_at < now)
        .values(status="interrupted", error="the process running it stopped", finished_at=now)
    )


def _job_row(conn: Connection, job_id: str) -> RowMapping:
    return row_by_id(conn, sleep_jobs, job_id, "sleep job")


def _job(row: RowMapping) -> Job:
    return rows.record_from_row(Job, row)


def gave_up(attempts: int, error: str) -> str:
    """The error text of a job that hit ``max_attempts``."""
    return f"gave up after {attempts} attempt(s); last: {error}"
