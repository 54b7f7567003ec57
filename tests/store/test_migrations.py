"""Migrations: old databases upgrade with their data, and schema.py cannot drift
from what the migrations build."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sleeptime.errors import StoreError
from sleeptime.store import SQLStore, open_store
from sleeptime.store.database import create_engine, parse_url
from sleeptime.store.migrate import (
    MIGRATIONS_DIR,
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    script_directory,
    upgrade,
)
from sleeptime.store.schema import metadata

FIRST = "0001"


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    made = create_engine(parse_url(db_url))
    try:
        yield made
    finally:
        made.dispose()


def test_revisions_form_one_line_starting_at_0001() -> None:
    script = script_directory()
    revisions = list(script.walk_revisions())  # head first
    assert revisions[-1].revision == FIRST and revisions[-1].down_revision is None
    assert len(script.get_heads()) == 1
    assert head_revision() == revisions[0].revision
    # Every file in versions/ is a revision, so pyproject's package-data glob ships them all.
    files = {p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")}
    assert {Path(r.path).name for r in revisions} == files
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()


def _insert_rows_at_0001(conn: sa.Connection) -> None:
    """Rows as 0001 defined them, in plain SQL: no sleeptime code decides what they look like."""
    if conn.dialect.name == "postgresql":
        ts = "'2024-05-06 07:08:09.123456+00'"
    else:
        ts = "'2024-05-06 07:08:09.123456'"  # how SQLAlchemy writes a UTC datetime to SQLite
    for statement in [
        f"""INSERT INTO contexts (id, tenant, current_version, metadata, created_at, updated_at)
            VALUES ('ctx000000001', 'acme', 2, '{{"source": "old"}}', {ts}, {ts})""",
        f"""INSERT INTO context_versions (context_id, version, text, sha256, created_at) VALUES
            ('ctx000000001', 1, 'first text', 'x', {ts}),
            ('ctx000000001', 2, 'second text', 'y', {ts})""",
        f"""INSERT INTO learned_contexts (id, context_id, context_version, key, text, notes,
                prompt_tokens, completion_tokens, reasoning_tokens, calls, duration_s, model, strategy,
                budget, rounds_used, based_on, extra, created_at)
            VALUES ('lc01', 'ctx000000001', 2, 'key-1', 'learned text', '["n1", "n2"]',
                10, 20, 3, 2, 1.5, 'm', 'notes', '{{"k": 2}}', '[1, 1]', NULL, '{{}}', {ts})""",
        f"""INSERT INTO sleep_runs (id, context_id, context_version, key, strategy, model, status, budget,
                prompt_tokens, completion_tokens, reasoning_tokens, calls, error, learned_context_id,
                started_at, finished_at)
            VALUES ('run01', 'ctx000000001', 2, 'key-1', 'notes', 'm', 'done', '{{}}',
                10, 20, 3, 2, NULL, 'lc01', {ts}, {ts}),
                   ('run02', 'ctx000000001', 2, 'key-2', 'notes', 'm', 'running', '{{}}',
                0, 0, 0, 0, NULL, NULL, {ts}, NULL)""",
        f"""INSERT INTO queries (id, context_id, context_version, question, answer, answers,
                prompt_tokens, completion_tokens, reasoning_tokens, calls, latency_s, model, source,
                learned_context_id, budget, created_at)
            VALUES ('q01', 'ctx000000001', 2, 'why?', 'because', '["because"]',
                5, 1, 0, 1, 0.25, 'm', 'learned', 'lc01', '{{}}', {ts})""",
    ]:
        conn.execute(sa.text(statement))


def test_upgrading_a_0001_database_keeps_its_data(db_url: str, engine: sa.Engine) -> None:
    upgrade(engine, FIRST)
    with engine.begin() as conn:
        assert current_revision(conn) == FIRST
        _insert_rows_at_0001(conn)
    engine.dispose()

    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
        ctx = store.get_context("ctx000000001", tenant="acme")
        assert (ctx.version, ctx.text, ctx.metadata) == (2, "second text", {"source": "old"})
        assert ctx.created_at == when
        assert store.get_context("ctx000000001", version=1).text == "first text"
        learned = store.get_learned("lc01")
        assert (learned.notes, learned.rounds_used, learned.usage.total_tokens) == (("n1", "n2"), (1, 1), 30)
        assert store.find_learned("ctx000000001", 2, "key-1") == learned
        statuses = {r.id: r.status for r in store.list_runs("ctx000000001")}
        assert statuses == {"run01": "done", "run02": "running"}
        [query] = store.list_queries("ctx000000001")
        assert (query.answers, query.source, query.created_at) == (("because",), "learned", when)
        assert store.interrupt_stale_runs() == 1
    finally:
        store.close()


def test_models_match_the_migrated_schema(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE, "target_metadata": metadata}
        )
        differences = compare_metadata(context, metadata)
    assert differences == [], "schema.py and migrations/versions disagree; add a migration"


def test_downgrade_to_nothing_and_back(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with engine.connect() as conn:
        assert current_revision(conn) is None
        assert set(sa.inspect(conn).get_table_names()) <= {VERSION_TABLE}
    upgrade(engine)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()


def test_a_newer_schema_is_refused(db_url: str, engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer than this version of sleeptime"):
        open_store(db_url)


def test_opening_twice_is_harmless(db_url: str) -> None:
    for _ in range(2):
        store = open_store(db_url)
        store.add_context("text", {})
        store.close()
    store = open_store(db_url)
    try:
        assert len(store.list_contexts()) == 2
    finally:
        store.close()


def test_concurrent_first_opens_migrate_once(db_url: str) -> None:
    opens = 6
    barrier = threading.Barrier(opens)

    def open_one(_: int) -> SQLStore:
        barrier.wait()
        return open_store(db_url)

    with ThreadPoolExecutor(opens) as pool:
        stores = list(pool.map(open_one, range(opens)))
    try:
        with stores[0].engine.connect() as conn:
            versions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        assert versions == [head_revision()]
        assert stores[-1].add_context("works", {}).version == 1
    finally:
        for store in stores:
            store.close()
