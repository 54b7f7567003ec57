"""``SQLStore``: the ``Store`` protocol on SQLite or PostgreSQL.

Every method is one short transaction of its own on a pooled connection, so one
store may be shared by threads. Writers take their locks first (``SELECT ... FOR
UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), which is what keeps
version numbers gapless under concurrent updates.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..context import Context, text_digest
from ..errors import InvalidInputError, NotFoundError
from ..learned import LearnedContext
from ..llm.base import Usage
from . import rows
from . import statements as st
from .base import QueryRecord, RunStatus, SleepRun, Store
from .database import EngineStore
from .outbox import note_new_version
from .schema import context_versions, contexts, learned_contexts, queries, sleep_runs

FAILED_STATUSES: tuple[RunStatus, ...] = ("failed", "interrupted", "cancelled")


class SQLStore(EngineStore):
    """Open one with ``sleeptime.store.open_store(url)``, which also migrates."""

    # --- transactions

    def _read(self) -> AbstractContextManager[Connection]:
        return self._conn()

    def _write(self) -> AbstractContextManager[Connection]:
        return self._conn(write=True)

    # --- contexts

    def add_context(self, text: str, metadata: dict[str, Any], *, tenant: str = "default") -> Context:
        rows.check_text(text, "context text")
        meta = rows.check_json(metadata or {}, "context metadata")
        if not tenant:
            raise InvalidInputError("tenant must not be empty")
        now = rows.utcnow()
        with self._write() as conn:
            context_id = st.insert_new_id(
                conn,
                contexts,
                {
                    "tenant": tenant,
                    "current_version": 1,
                    "metadata": meta,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            conn.execute(
                context_versions.insert().values(
                    context_id=context_id, version=1, text=text, sha256=text_digest(text), created_at=now
                )
            )
            note_new_version(conn, context_id, tenant, 1, now=now)
        return Context(context_id, 1, text, meta, created_at=now, updated_at=now, tenant=tenant)

    def get_context(
        self, context_id: str, *, version: int | None = None, tenant: str | None = None
    ) -> Context:
        with self._read() as conn:
            ctx = st.context_row(conn, context_id, tenant)
            return st.context_at(conn, ctx, version)

    def list_contexts(self, *, tenant: str | None = None, limit: int = 100, offset: int = 0) -> list[Context]:
        """Oldest first, each at its current version."""
        st.check_page(limit, offset)
        v = context_versions
        stmt = (
            sa.select(contexts, v.c.version, v.c.text)
            .join(v, sa.and_(v.c.context_id == contexts.c.id, v.c.version == contexts.c.current_version))
            .order_by(contexts.c.created_at, contexts.c.id)
            .limit(limit)
            .offset(offset)
        )
        if tenant is not None:
            stmt = stmt.where(contexts.c.tenant == tenant)
        with self._read() as conn:
            # Each row holds the context and its current version's columns at once.
            return [rows.context_from_row(r, r) for r in conn.execute(stmt).mappings()]

    def update_context(
        self, context_id: str, text: str, *, metadata: dict[str, Any] | None = None, tenant: str | None = None
    ) -> Context:
        """Write ``text`` as a new version; ``metadata``, when given, replaces the old.

        Versions follow the text: the same text with new metadata changes the
        metadata in place (learned contexts of the current version stay valid),
        and the same text with the same metadata changes nothing at all.
        """
        rows.check_text(text, "context text")
        meta = None if metadata is None else rows.check_json(metadata, "context metadata")
        now = rows.utcnow()
        with self._write() as conn:
            ctx = st.context_row(conn, context_id, tenant, for_update=True)
            current = st.version_row(conn, context_id, ctx["current_version"])
            same_text = current["text"] == text
            if same_text and (meta is None or meta == ctx["metadata"]):
                return rows.context_from_row(ctx, current)
            values: dict[str, Any] = {"updated_at": now}
            if meta is not None:
                values["metadata"] = meta
            if not same_text:
                values["current_version"] = ctx["current_version"] + 1
                conn.execute(
                    context_versions.insert().values(
                        context_id=context_id,
                        version=values["current_version"],
                        text=text,
                        sha256=text_digest(text),
                        created_at=now,
                    )
                )
                note_new_version(conn, context_id, ctx["tenant"], values["current_version"], now=now)
            conn.execute(contexts.update().where(contexts.c.id == context_id).values(**values))
            ctx = st.context_row(conn, context_id, None)
            return st.context_at(conn, ctx, None)

    def delete_context(self, context_id: str, *, tenant: str | None = None) -> None:
        """Delete the context with all its versions, runs, learned contexts and queries."""
        stmt = contexts.delete().where(contexts.c.id == context_id)
        if tenant is not None:
            stmt = stmt.where(contexts.c.tenant == tenant)
        with self._write() as conn:
            # The foreign keys cascade (schema.py), inside this one statement.
            if conn.execute(stmt).rowcount == 0:
                raise st.no_context(context_id)

    # --- runs and learned contexts

    def start_run(
        self, context_id: str, version: int, *, key: str, strategy: str, model: str, budget: dict[str, Any]
    ) -> SleepRun:
        run = SleepRun(
            id=rows.new_id(),
            context_id=context_id,
            context_version=version,
            key=key,
            strategy=strategy,
            model=model,
            status="running",
            budget=rows.check_json(budget, "budget"),
            started_at=rows.utcnow(),
        )
        with self._write() as conn:
            st.version_row(conn, context_id, version)
            conn.execute(
                sleep_runs.insert().values(
                    id=run.id,
                    context_id=context_id,
                    context_version=version,
                    key=key,
                    strategy=strategy,
                    model=model,
                    status=run.status,
                    budget=run.budget,
                    **rows.usage_values(run.usage),
                    started_at=run.started_at,
                )
            )
        return run

    def finish_run(self, run_id: str, learned: LearnedContext) -> LearnedContext:
        """Store ``learned`` and mark the run done, in one transaction.

        If a learned context with the same (context, version, key) exists already,
        that one is returned and the run points at it: nothing is stored twice.
        A run that was marked interrupted meanwhile is still closed as done, since
        its work is complete.
        """
        now = rows.utcnow()
        values = rows.learned_values(learned, now=now)
        with self._write() as conn:
            run = st.run_row(conn, run_id, for_update=True)
            made_for = (learned.context_id, learned.context_version, learned.key)
            run_for = (run["context_id"], run["context_version"], run["key"])
            if made_for != run_for:
                raise ValueError(f"learned context is for {made_for}, run {run_id} for {run_for}")
            stored = st.insert_learned(conn, values)
            st.close_run(conn, run_id, status="done", usage=learned.usage, learned_id=stored["id"], now=now)
            return rows.learned_from_row(stored)

    def record_run_usage(self, run_id: str, usage: Usage) -> None:
        """What a run still ``running`` has spent so far (a closed run is left alone), so that
        the scheduler's budgets count a long run while it goes and a crash leaves its spending."""
        stmt = (
            sleep_runs.update()
            .where(sleep_runs.c.id == run_id, sleep_runs.c.status == "running")
            .values(**rows.usage_values(usage))
        )
        with self._write() as conn:
            conn.execute(stmt)

    def fail_run(self, run_id: str, error: str, *, usage: Usage, status: RunStatus = "failed") -> None:
        """Close a run that did not produce a learned context. A run already done stays done."""
        if status not in FAILED_STATUSES:
            raise ValueError(f"fail_run status must be one of {FAILED_STATUSES}, not {status!r}")
        with self._write() as conn:
            run = st.run_row(conn, run_id, for_update=True)
            if run["status"] != "done":
                st.close_run(conn, run_id, status=status, usage=usage, error=error, now=rows.utcnow())

    def interrupt_stale_runs(self, *, started_before: datetime | None = None) -> int:
        """Mark every ``running`` run ``interrupted``; returns how many there were.

        Meant for startup after a crash, when nothing can still be running. With
        several processes on one database, pass ``started_before`` (e.g. this
        process's start time) so the others' live runs are left alone.
        """
        stmt = (
            sleep_runs.update()
            .where(sleep_runs.c.status == "running")
            .values(status="interrupted", error="the process running it stopped", finished_at=rows.utcnow())
        )
        if started_before is not None:
            stmt = stmt.where(sleep_runs.c.started_at < rows.to_utc(started_before))
        with self._write() as conn:
            return int(conn.execute(stmt).rowcount)

    def get_run(self, run_id: str) -> SleepRun:
        with self._read() as conn:
            return rows.run_from_row(st.run_row(conn, run_id))

    def list_runs(self, context_id: str) -> list[SleepRun]:
        """Newest first; empty for an unknown context."""
        stmt = (
            sa.select(sleep_runs)
            .where(sleep_runs.c.context_id == context_id)
            .order_by(sleep_runs.c.started_at.desc(), sleep_runs.c.id.desc())
        )
        with self._read() as conn:
            return [rows.run_from_row(r) for r in conn.execute(stmt).mappings()]

    def find_learned(self, context_id: str, version: int, key: str) -> LearnedContext | None:
        return self._one_learned(
            learned_contexts.c.context_id == context_id,
            learned_contexts.c.context_version == version,
            learned_contexts.c.key == key,
        )

    def latest_learned(self, context_id: str, version: int) -> LearnedContext | None:
        """The newest learned context made from exactly this version."""
        return self._one_learned(
            learned_contexts.c.context_id == context_id, learned_contexts.c.context_version == version
        )

    def list_learned(self, context_id: str) -> list[LearnedContext]:
        """Newest first, all versions; empty for an unknown context."""
        stmt = st.newest_learned().where(learned_contexts.c.context_id == context_id)
        with self._read() as conn:
            return [rows.learned_from_row(r) for r in conn.execute(stmt).mappings()]

    def get_learned(self, learned_id: str) -> LearnedContext:
        found = self._one_learned(learned_contexts.c.id == learned_id)
        if found is None:
            raise NotFoundError(f"no learned context {learned_id!r}")
        return found

    def _one_learned(self, *where: sa.ColumnElement[bool]) -> LearnedContext | None:
        with self._read() as conn:
            row = conn.execute(st.newest_learned().where(*where).limit(1)).mappings().first()
        return None if row is None else rows.learned_from_row(row)

    # --- queries

    def record_query(self, query: QueryRecord) -> QueryRecord:
        if query.source not in ("learned", "raw"):
            raise ValueError(f"query source must be 'learned' or 'raw', not {query.source!r}")
        values = rows.query_values(query, now=rows.utcnow())
        with self._write() as conn:
            st.version_row(conn, query.context_id, query.context_version)
            conn.execute(queries.insert().values(**values))
            row = conn.execute(sa.select(queries).where(queries.c.id == values["id"])).mappings().one()
        return rows.query_from_row(row)

    def set_query_latency(self, query_id: str, *, latency_s: float, queue_wait_s: float) -> None:
        """What the caller of a recorded query waited, measured where it asked (the server)."""
        with self._write() as conn:
            conn.execute(
                queries.update()
                .where(queries.c.id == query_id)
                .values(latency_s=float(latency_s), queue_wait_s=float(queue_wait_s))
            )

    def list_queries(self, context_id: str, *, limit: int = 100, offset: int = 0) -> list[QueryRecord]:
        """Newest first; empty for an unknown context."""
        st.check_page(limit, offset)
        stmt = (
            sa.select(queries)
            .where(queries.c.context_id == context_id)
            .order_by(queries.c.created_at.desc(), queries.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._read() as conn:
            return [rows.query_from_row(r) for r in conn.execute(stmt).mappings()]

    def close(self) -> None:
        self.engine.dispose()


if TYPE_CHECKING:
    # mypy proves here that SQLStore implements the Store protocol.
    _implements: type[Store] = SQLStore
