"""The SQL that ``SQLStore``'s methods share. Each function runs inside the
caller's transaction; none commits. (Module level, so tests can break one.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from ..context import Context
from ..errors import InvalidInputError, NotFoundError
from ..llm.base import Usage
from . import rows
from .base import RunStatus
from .schema import context_versions, contexts, learned_contexts, sleep_runs

CONTEXT_ID_BYTES = 6  # 12 hex digits: short enough to type; collisions are retried


def no_context(context_id: str) -> NotFoundError:
    return NotFoundError(f"no context {context_id!r}")


def check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise InvalidInputError(f"limit and offset must not be negative (got {limit}, {offset})")


def context_row(
    conn: Connection, context_id: str, tenant: str | None, *, for_update: bool = False
) -> RowMapping:
    stmt = sa.select(contexts).where(contexts.c.id == context_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    # Another tenant's context is reported exactly like a missing one.
    if row is None or (tenant is not None and row["tenant"] != tenant):
        raise no_context(context_id)
    return row


def version_row(conn: Connection, context_id: str, version: int) -> RowMapping:
    v = context_versions
    stmt = sa.select(v).where(v.c.context_id == context_id, v.c.version == version)
    row = conn.execute(stmt).mappings().first()
    if row is None:
        if conn.execute(sa.select(contexts.c.id).where(contexts.c.id == context_id)).first() is None:
            raise no_context(context_id)
        raise NotFoundError(f"context {context_id!r} has no version {version}")
    return row


def context_at(conn: Connection, ctx: RowMapping, version: int | None) -> Context:
    row = version_row(conn, ctx["id"], ctx["current_version"] if version is None else version)
    return rows.context_from_row(ctx, row)


def row_by_id(
    conn: Connection, table: sa.Table, row_id: str, what: str, *, for_update: bool = False
) -> RowMapping:
    """The row of ``table`` whose id is ``row_id``; NotFoundError ("no {what} ...") if none."""
    stmt = sa.select(table).where(table.c.id == row_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFoundError(f"no {what} {row_id!r}")
    return row


def run_row(conn: Connection, run_id: str, *, for_update: bool = False) -> RowMapping:
    return row_by_id(conn, sleep_runs, run_id, "sleep run", for_update=for_update)


def newest_learned() -> sa.Select[Any]:
    return sa.select(learned_contexts).order_by(
        learned_contexts.c.created_at.desc(), learned_contexts.c.id.desc()
    )


def insert_ignoring_conflict(conn: Connection, table: sa.Table, values: dict[str, Any], *unique: str) -> bool:
    """INSERT ... ON CONFLICT (unique) DO NOTHING; True if the row went in.

    On PostgreSQL a concurrent insert of the same key makes this wait for the
    other transaction and then do nothing, instead of failing.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    # SQLAlchemy reports an INSERT's rowcount only when asked to.
    return bool(conn.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount == 1)


def insert_new_id(conn: Connection, table: sa.Table, values: dict[str, Any]) -> str:
    for _ in range(8):
        new = rows.new_id(CONTEXT_ID_BYTES)
        if insert_ignoring_conflict(conn, table, {"id": new, **values}, "id"):
            return new
    raise RuntimeError(f"no free id in {table.name} after 8 tries")  # ~never: 2**48 ids


def insert_learned(conn: Connection, values: dict[str, Any]) -> RowMapping:
    """The stored learned context for ``values``' key: the new row, or the one already there."""
    insert_ignoring_conflict(conn, learned_contexts, values, "context_id", "context_version", "key")
    lc = learned_contexts
    stmt = sa.select(lc).where(
        lc.c.context_id == values["context_id"],
        lc.c.context_version == values["context_version"],
        lc.c.key == values["key"],
    )
    return conn.execute(stmt).mappings().one()


def close_run(
    conn: Connection,
    run_id: str,
    *,
    status: RunStatus,
    usage: Usage,
    now: datetime,
    learned_id: str | None = None,
    error: str | None = None,
) -> None:
    conn.execute(
        sleep_runs.update()
        .where(sleep_runs.c.id == run_id)
        .values(
            status=status,
            **rows.usage_values(usage),
            learned_context_id=learned_id,
            error=error,
            finished_at=now,
        )
    )
