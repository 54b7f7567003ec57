"""The sleep outbox (table ``sleep_outbox``): an edit and its sleep job in one transaction.

The transaction that makes a context's new version also writes the context's
outbox row (``note_new_version``, called by ``SQLStore``): an edit is never stored
without the fact that it wants a sleep. ``JobStore.relay`` turns rows into queued
jobs with the scheduler's clock and deletes them in one transaction (``take``).
A crash between an edit and its relay leaves the row for the next relay (every
worker poll, and at start), so no scan for forgotten contexts is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from . import rows
from .enqueue import lock_context
from .schema import learned_contexts, sleep_outbox

OutboxReason = Literal["created", "changed"]  # what the job is queued for


def note_new_version(conn: Connection, context_id: str, tenant: str, version: int, *, now: datetime) -> None:
    """Write the outbox row for a context's new version, in the transaction that made it."""
    o = sleep_outbox
    now = rows.to_utc(now)
    moved = conn.execute(
        o.update()
        .where(o.c.context_id == context_id)
        .values(version=version, reason="changed", updated_at=now)
    ).rowcount
    if not moved:
        conn.execute(
            o.insert().values(
                context_id=context_id,
                tenant=tenant,
                version=version,
                reason="created" if version == 1 else "changed",
                created_at=now,
                updated_at=now,
            )
        )


def any_pending(conn: Connection, *, context_id: str | None = None) -> bool:
    """Whether a relay has work: a read, so that an idle worker's poll takes no write lock."""
    stmt = sa.select(sleep_outbox.c.context_id).limit(1)
    if context_id is not None:
        stmt = stmt.where(sleep_outbox.c.context_id == context_id)
    return conn.execute(stmt).first() is not None


def take(conn: Connection, *, context_id: str | None = None) -> Iterator[tuple[RowMapping, OutboxReason]]:
    """Delete the outbox rows (or ``context_id``'s) in this write transaction, oldest first,
    yielding (the context's locked row, the reason) for those whose current version has no
    learned context yet (one slept on by hand, e.g. with the CLI, needs no job)."""
    o = sleep_outbox
    pending = sa.select(o.c.context_id).order_by(o.c.created_at, o.c.context_id)
    if context_id is not None:
        pending = pending.where(o.c.context_id == context_id)
    for cid in conn.execute(pending).scalars().all():
        # The context's lock first, as the edit took it: an edit and a relay cannot deadlock.
        ctx = lock_context(conn, cid, missing_ok=True)
        row = conn.execute(sa.select(o.c.reason).where(o.c.context_id == cid)).first()
        if ctx is None or row is None:  # deleted, or relayed by another process meanwhile
            continue
        conn.execute(o.delete().where(o.c.context_id == cid))
        learned = sa.select(learned_contexts.c.id).where(
            learned_contexts.c.context_id == cid, learned_contexts.c.context_version == ctx["current_version"]
        )
        if conn.execute(learned.limit(1)).first() is None:
            yield ctx, cast(OutboxReason, row[0])


def pending(conn: Connection, *, limit: int = 100) -> list[tuple[str, str, int]]:
    """(context id, tenant, version) of the rows the next relay turns into jobs, oldest first."""
    o, lc = sleep_outbox, learned_contexts
    slept = sa.exists().where(lc.c.context_id == o.c.context_id, lc.c.context_version == o.c.version)
    stmt = (
        sa.select(o.c.context_id, o.c.tenant, o.c.version)
        .where(~slept)
        .order_by(o.c.created_at, o.c.context_id)
    )
    return [(r[0], r[1], r[2]) for r in conn.execute(stmt.limit(limit)).all()]
