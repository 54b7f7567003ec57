"""The store's contract, on real SQLite and PostgreSQL (see conftest.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sleeptime.context import MAX_CONTEXT_CHARS, Context, text_digest
from sleeptime.errors import ConfigurationError, InvalidInputError, NotFoundError, StoreError
from sleeptime.learned import LearnedContext
from sleeptime.llm.base import Usage
from sleeptime.store import QueryRecord, SQLStore, open_store
from sleeptime.store import statements as store_statements
from sleeptime.store.database import parse_url

from .conftest import fresh_pg_schema, sqlite_url

# --- helpers

UNICODE = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
TEXT = st.text(alphabet=UNICODE, min_size=1, max_size=2000)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet=UNICODE), inner, max_size=4),
    max_leaves=12,
)
METADATA = st.dictionaries(st.text(alphabet=UNICODE, max_size=20), JSON_VALUES, max_size=5)
DB_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def learned_for(ctx: Context, key: str = "k1", **changes: Any) -> LearnedContext:
    base = LearnedContext(
        id="",
        context_id=ctx.id,
        context_version=ctx.version,
        text="c prime",
        notes=("note one", "note two"),
        usage=Usage(prompt_tokens=120, completion_tokens=40, reasoning_tokens=5, calls=2),
        duration_s=1.25,
        model="fake-model",
        strategy="notes",
        budget={"max_tokens": 64, "k": 2},
        key=key,
        rounds_used=(1, 2),
        extra={"prompt_version": 3},
    )
    return replace(base, **changes)


def query_for(ctx: Context, question: str = "why?", **changes: Any) -> QueryRecord:
    base = QueryRecord(
        id="",
        context_id=ctx.id,
        context_version=ctx.version,
        question=question,
        answer="because",
        usage=Usage(10, 3, 0, 1),
        latency_s=0.125,
        model="fake-model",
        source="raw",
        budget={"max_tokens": 16},
        answers=("because", "since"),
    )
    return replace(base, **changes)


def start(store: SQLStore, ctx: Context, key: str = "k1") -> str:
    return store.start_run(ctx.id, ctx.version, key=key, strategy="notes", model="fake-model", budget={}).id


def count_rows(store: SQLStore, table: str, context_id: str) -> int:
    with store.engine.connect() as conn:
        sql = sa.text(f"SELECT COUNT(*) FROM {table} WHERE context_id = :c")
        return int(conn.execute(sql, {"c": context_id}).scalar_one())


def is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() == timedelta(0)


# --- contexts


def test_add_then_get_round_trips(store: SQLStore) -> None:
    added = store.add_context("The sky is blue.", {"source": "test", "n": [1, 2]})
    assert added.version == 1 and added.tenant == "default" and len(added.id) == 12
    assert store.get_context(added.id) == added
    assert is_utc(added.created_at) and is_utc(added.updated_at)
    assert abs(added.created_at - datetime.now(timezone.utc)) < timedelta(minutes=1)  # type: ignore[operator]


@DB_SETTINGS
@given(text=TEXT, metadata=METADATA)
def test_text_and_metadata_round_trip(store: SQLStore, text: str, metadata: dict[str, Any]) -> None:
    added = store.add_context(text, metadata)
    got = store.get_context(added.id)
    assert (got.text, got.metadata) == (text, metadata)
    assert got == added


@DB_SETTINGS
@given(first=TEXT, second=TEXT, metadata=METADATA)
def test_update_round_trips(store: SQLStore, first: str, second: str, metadata: dict[str, Any]) -> None:
    ctx = store.add_context(first, {})
    updated = store.update_context(ctx.id, second, metadata=metadata)
    assert store.get_context(ctx.id) == updated
    assert (updated.text, updated.metadata) == (second, metadata)
    assert store.get_context(ctx.id, version=1).text == first


def test_big_text_round_trips(store: SQLStore) -> None:
    text = ("é€😀 long context\n" * (MAX_CONTEXT_CHARS // 17))[:MAX_CONTEXT_CHARS]
    ctx = store.add_context(text, {})
    assert store.get_context(ctx.id).text == text
    assert store.update_context(ctx.id, text[::-1]).version == 2
    assert store.get_context(ctx.id, version=1).sha256 == text_digest(text)


@pytest.mark.parametrize("bad", ["nul \x00 byte", "lone \ud800 surrogate"])
def test_text_neither_backend_can_store_is_refused_alike(store: SQLStore, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        store.add_context(bad, {})
    ctx = store.add_context("fine", {})
    with pytest.raises(InvalidInputError):
        store.update_context(ctx.id, bad)
    assert store.get_context(ctx.id).version == 1


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": object()}, {"x": "\udc00"}])
def test_metadata_must_be_json(store: SQLStore, bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        store.add_context("text", bad)
    assert store.list_contexts() == []


def test_versions(store: SQLStore) -> None:
    ctx = store.add_context("one", {"a": 1})
    two = store.update_context(ctx.id, "two")
    three = store.update_context(ctx.id, "three", metadata={"b": 2})
    assert (two.version, three.version) == (2, 3)
    assert two.metadata == {"a": 1}, "metadata=None keeps the metadata"
    assert three.metadata == {"b": 2}, "metadata given replaces it"
    for version, text in [(1, "one"), (2, "two"), (3, "three")]:
        old = store.get_context(ctx.id, version=version)
        assert (old.version, old.text, old.sha256) == (version, text, text_digest(text))
    assert store.get_context(ctx.id) == three
    assert store.get_context(ctx.id, version=1).updated_at == ctx.created_at
    with pytest.raises(NotFoundError, match="no version 4"):
        store.get_context(ctx.id, version=4)


def test_unchanged_update_makes_no_version(store: SQLStore) -> None:
    ctx = store.add_context("same", {"a": 1})
    assert store.update_context(ctx.id, "same") == ctx
    assert store.update_context(ctx.id, "same", metadata={"a": 1}) == ctx


def test_metadata_only_update_keeps_the_version(store: SQLStore) -> None:
    ctx = store.add_context("same", {"a": 1})
    changed = store.update_context(ctx.id, "same", metadata={"a": 2})
    assert (changed.version, changed.metadata) == (1, {"a": 2})
    assert changed.updated_at is not None and ctx.updated_at is not None
    assert changed.updated_at >= ctx.updated_at
    assert store.get_context(ctx.id) == changed


def test_unknown_ids_are_not_found(store: SQLStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_context("nope")
    with pytest.raises(NotFoundError):
        store.update_context("nope", "text")
    with pytest.raises(NotFoundError):
        store.delete_context("nope")
    with pytest.raises(NotFoundError):
        store.start_run("nope", 1, key="k", strategy="s", model="m", budget={})
    with pytest.raises(NotFoundError):
        store.get_learned("nope")
    with pytest.raises(NotFoundError):
        store.finish_run("nope", learned_for(Context("nope", 1, "x")))
    with pytest.raises(NotFoundError):
        store.fail_run("nope", "boom", usage=Usage())
    with pytest.raises(NotFoundError):
        store.record_query(query_for(Context("nope", 1, "x")))
    assert store.list_runs("nope") == [] and store.list_learned("nope") == []
    assert store.list_queries("nope") == [] and store.find_learned("nope", 1, "k") is None
    assert store.latest_learned("nope", 1) is None


def test_list_contexts_in_creation_order_and_paginated(store: SQLStore) -> None:
    made = [store.add_context(f"text {i}", {"i": i}) for i in range(7)]
    store.update_context(made[0].id, "text 0, edited")
    listed = store.list_contexts()
    assert [c.id for c in listed] == [c.id for c in made]
    assert listed[0].version == 2 and listed[0].text == "text 0, edited"
    assert [c.id for c in store.list_contexts(limit=3, offset=2)] == [c.id for c in made[2:5]]
    assert store.list_contexts(offset=7) == []
    with pytest.raises(InvalidInputError):
        store.list_contexts(limit=-1)


def test_tenants_do_not_see_each_other(store: SQLStore) -> None:
    mine = store.add_context("mine", {}, tenant="alice")
    theirs = store.add_context("theirs", {}, tenant="bob")
    assert store.get_context(mine.id, tenant="alice").tenant == "alice"
    assert store.get_context(mine.id).tenant == "alice", "no tenant: any tenant"
    with pytest.raises(NotFoundError) as caught:
        store.get_context(mine.id, tenant="bob")
    assert caught.value.message == f"no context {mine.id!r}", "exactly like a missing context"
    with pytest.raises(NotFoundError):
        store.update_context(mine.id, "changed by bob", tenant="bob")
    with pytest.raises(NotFoundError):
        store.delete_context(mine.id, tenant="bob")
    assert store.get_context(mine.id) == mine
    assert [c.id for c in store.list_contexts(tenant="bob")] == [theirs.id]
    assert {c.id for c in store.list_contexts()} == {mine.id, theirs.id}
    assert store.update_context(mine.id, "v2", tenant="alice").version == 2
    store.delete_context(mine.id, tenant="alice")
    assert [c.id for c in store.list_contexts()] == [theirs.id]


# --- runs and learned contexts


def test_run_lifecycle(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    run = store.start_run(ctx.id, 1, key="k1", strategy="notes", model="fake-model", budget={"k": 2})
    assert (run.status, run.budget, run.finished_at) == ("running", {"k": 2}, None)
    assert store.list_runs(ctx.id) == [run]
    learned = learned_for(ctx, id="lc1")
    stored = store.finish_run(run.id, learned)
    assert stored == replace(learned, created_at=stored.created_at)
    assert is_utc(stored.created_at)
    [done] = store.list_runs(ctx.id)
    assert (done.status, done.learned_context_id, done.error) == ("done", "lc1", None)
    assert done.usage == learned.usage
    assert is_utc(done.finished_at) and done.started_at == run.started_at
    assert store.get_run(run.id) == done
    assert store.find_learned(ctx.id, 1, "k1") == stored
    assert store.latest_learned(ctx.id, 1) == stored
    assert store.get_learned("lc1") == stored
    assert store.list_learned(ctx.id) == [stored]


def test_finish_run_generates_an_id_when_none_given(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    stored = store.finish_run(start(store, ctx), learned_for(ctx, id=""))
    assert len(stored.id) == 16
    assert store.get_learned(stored.id) == stored


def test_finish_run_is_atomic(store: SQLStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = store.add_context("text", {})
    run_id = start(store, ctx)
    real_close_run = store_statements.close_run

    def close_then_crash(conn: sa.Connection, run_id: str, **kwargs: Any) -> None:
        real_close_run(conn, run_id, **kwargs)
        # Both writes happened inside the transaction: the crash must undo both.
        assert conn.execute(sa.text("SELECT COUNT(*) FROM learned_contexts")).scalar_one() == 1
        raise RuntimeError("crash between the writes and the commit")

    monkeypatch.setattr(store_statements, "close_run", close_then_crash)
    with pytest.raises(RuntimeError, match="crash"):
        store.finish_run(run_id, learned_for(ctx))
    monkeypatch.undo()

    assert store.find_learned(ctx.id, 1, "k1") is None
    assert store.list_learned(ctx.id) == []
    [run] = store.list_runs(ctx.id)
    assert (run.status, run.learned_context_id, run.finished_at) == ("running", None, None)
    assert store.finish_run(run_id, learned_for(ctx)).key == "k1", "and the run can still finish"


def test_second_finish_for_a_key_returns_the_first(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    first_run, second_run = start(store, ctx), start(store, ctx)
    first = store.finish_run(first_run, learned_for(ctx, id="first", text="first"))
    second = store.finish_run(second_run, learned_for(ctx, id="second", text="second"))
    assert second == first
    assert store.finish_run(first_run, learned_for(ctx, id="third")) == first, "finishing twice"
    assert [lc.id for lc in store.list_learned(ctx.id)] == ["first"]
    assert {(r.status, r.learned_context_id) for r in store.list_runs(ctx.id)} == {("done", "first")}
    with pytest.raises(NotFoundError):
        store.get_learned("second")


def test_concurrent_finishes_for_one_key_store_one(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    run_ids = [start(store, ctx) for _ in range(8)]
    barrier = threading.Barrier(len(run_ids))

    def finish(run_id: str) -> str:
        barrier.wait()
        return store.finish_run(run_id, learned_for(ctx, id=f"lc-{run_id}")).id

    with ThreadPoolExecutor(len(run_ids)) as pool:
        ids = set(pool.map(finish, run_ids))
    assert len(ids) == 1
    assert [lc.id for lc in store.list_learned(ctx.id)] == list(ids)
    assert {r.learned_context_id for r in store.list_runs(ctx.id)} == ids


def test_finish_run_refuses_a_learned_context_for_another_key(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    with pytest.raises(ValueError, match="learned context is for"):
        store.finish_run(start(store, ctx, key="k1"), learned_for(ctx, key="k2"))
    assert store.list_learned(ctx.id) == []


@pytest.mark.parametrize("status", ["failed", "interrupted", "cancelled"])
def test_fail_run(store: SQLStore, status: Any) -> None:
    ctx = store.add_context("text", {})
    run_id = start(store, ctx)
    store.fail_run(run_id, "the model timed out", usage=Usage(5, 1, 0, 1), status=status)
    [run] = store.list_runs(ctx.id)
    assert (run.status, run.error, run.usage) == (status, "the model timed out", Usage(5, 1, 0, 1))
    assert is_utc(run.finished_at) and run.learned_context_id is None


def test_fail_run_leaves_a_done_run_done(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    run_id = start(store, ctx)
    store.finish_run(run_id, learned_for(ctx))
    store.fail_run(run_id, "late failure", usage=Usage())
    assert store.get_run(run_id).status == "done"
    with pytest.raises(ValueError):
        store.fail_run(run_id, "x", usage=Usage(), status="done")


def test_interrupt_stale_runs(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    running = [start(store, ctx, key=f"k{i}") for i in range(3)]
    finished = start(store, ctx, key="done")
    store.finish_run(finished, learned_for(ctx, key="done"))
    assert store.interrupt_stale_runs() == 3
    for run_id in running:
        run = store.get_run(run_id)
        assert run.status == "interrupted" and run.error and is_utc(run.finished_at)
    assert store.get_run(finished).status == "done"
    assert store.interrupt_stale_runs() == 0
    # A run interrupted by a restart whose work then completes is still recorded.
    assert store.finish_run(running[0], learned_for(ctx, key="k0")).key == "k0"
    assert store.get_run(running[0]).status == "done"


def test_interrupt_stale_runs_started_before(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    old = start(store, ctx)
    cutoff = datetime.now(timezone.utc)
    new = start(store, ctx, key="k2")
    assert store.interrupt_stale_runs(started_before=cutoff) == 1
    assert (store.get_run(old).status, store.get_run(new).status) == ("interrupted", "running")


def test_latest_learned_is_for_exactly_that_version(store: SQLStore) -> None:
    v1 = store.add_context("one", {})
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    a = store.finish_run(start(store, v1, "a"), learned_for(v1, key="a", created_at=t0))
    b = store.finish_run(start(store, v1, "b"), learned_for(v1, key="b", created_at=t0 + timedelta(hours=1)))
    v2 = store.update_context(v1.id, "two")
    c = store.finish_run(start(store, v2, "a"), learned_for(v2, key="a", created_at=t0 + timedelta(hours=2)))
    assert store.latest_learned(v1.id, 1) == b
    assert store.latest_learned(v1.id, 2) == c
    assert store.latest_learned(v1.id, 3) is None
    assert store.list_learned(v1.id) == [c, b, a]
    assert store.find_learned(v1.id, 1, "a") == a and store.find_learned(v1.id, 2, "a") == c
    with pytest.raises(NotFoundError):
        store.start_run(v1.id, 3, key="k", strategy="s", model="m", budget={})


def test_learned_context_based_on_another(store: SQLStore) -> None:
    v1 = store.add_context("one", {})
    first = store.finish_run(start(store, v1), learned_for(v1))
    v2 = store.update_context(v1.id, "two")
    second = store.finish_run(start(store, v2), learned_for(v2, based_on=first.id))
    assert store.get_learned(second.id).based_on == first.id


# --- queries


def test_queries(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    lc = store.finish_run(start(store, ctx), learned_for(ctx))
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    from_learned = {"source": "learned", "learned_context_id": lc.id}
    recorded = [
        store.record_query(query_for(ctx, f"q{i}", created_at=t0 + timedelta(minutes=i), **from_learned))
        for i in range(5)
    ]
    assert recorded[0] == query_for(ctx, "q0", id=recorded[0].id, created_at=t0, **from_learned)
    assert store.list_queries(ctx.id) == recorded[::-1], "newest first"
    assert store.list_queries(ctx.id, limit=2, offset=1) == recorded[3:1:-1]
    plain = store.record_query(query_for(ctx, id="given-id"))
    assert plain.id == "given-id" and is_utc(plain.created_at)
    with pytest.raises(NotFoundError):
        store.record_query(query_for(replace(ctx, version=9)))
    with pytest.raises(ValueError):
        store.record_query(query_for(ctx, source="guess"))


@DB_SETTINGS
@given(question=TEXT, answer=st.text(alphabet=UNICODE, max_size=500), answers=st.lists(TEXT, max_size=3))
def test_query_text_round_trips(store: SQLStore, question: str, answer: str, answers: list[str]) -> None:
    ctx = store.add_context("text", {})
    stored = store.record_query(query_for(ctx, question, answer=answer, answers=tuple(answers)))
    [listed] = store.list_queries(ctx.id)
    assert listed == stored
    assert (listed.question, listed.answer, listed.answers) == (question, answer, tuple(answers))


# --- deleting


def test_delete_cascades_to_everything_of_that_context(store: SQLStore) -> None:
    ctx = store.add_context("one", {})
    other = store.add_context("other", {})
    first = store.finish_run(start(store, ctx), learned_for(ctx))
    ctx = store.update_context(ctx.id, "two")
    store.finish_run(start(store, ctx), learned_for(ctx, based_on=first.id))
    start(store, ctx, key="still running")
    store.record_query(query_for(ctx, source="learned", learned_context_id=first.id))
    kept = store.finish_run(start(store, other), learned_for(other))
    store.record_query(query_for(other))

    store.delete_context(ctx.id)
    for table in ("context_versions", "sleep_runs", "learned_contexts", "queries"):
        assert count_rows(store, table, ctx.id) == 0, table
        assert count_rows(store, table, other.id) == 1, table
    with pytest.raises(NotFoundError):
        store.get_context(ctx.id)
    with pytest.raises(NotFoundError):
        store.get_learned(first.id)
    assert store.get_learned(kept.id) == kept
    with pytest.raises(NotFoundError):
        store.delete_context(ctx.id)


# --- concurrency and persistence


def test_concurrent_updates_make_gapless_versions(store: SQLStore) -> None:
    ctx = store.add_context("start", {})
    threads, updates = 8, 20
    barrier = threading.Barrier(threads)

    def update(thread: int) -> list[int]:
        barrier.wait()
        return [store.update_context(ctx.id, f"thread {thread} update {i}").version for i in range(updates)]

    with ThreadPoolExecutor(threads) as pool:
        versions = list(pool.map(update, range(threads)))
    every = sorted(v for vs in versions for v in vs)
    assert every == list(range(2, threads * updates + 2)), "unique and gapless"
    assert all(vs == sorted(vs) for vs in versions), "each thread's versions increase"
    assert store.get_context(ctx.id).version == threads * updates + 1
    for thread, vs in enumerate(versions):
        for i, version in enumerate(vs):
            assert store.get_context(ctx.id, version=version).text == f"thread {thread} update {i}"


def test_concurrent_adds(store: SQLStore) -> None:
    with ThreadPoolExecutor(8) as pool:
        added = list(pool.map(lambda i: store.add_context(f"text {i}", {"i": i}), range(80)))
    assert len({c.id for c in added}) == 80
    assert {c.id for c in store.list_contexts(limit=1000)} == {c.id for c in added}


def test_data_survives_reopening(db_url: str) -> None:
    first = open_store(db_url)
    ctx = first.add_context("kept", {"a": 1})
    ctx = first.update_context(ctx.id, "kept, v2")
    lc = first.finish_run(start(first, ctx), learned_for(ctx))
    query = first.record_query(query_for(ctx))
    first.close()

    second = open_store(db_url)
    try:
        assert second.get_context(ctx.id) == ctx
        assert second.get_context(ctx.id, version=1).text == "kept"
        assert second.get_learned(lc.id) == lc
        assert second.list_queries(ctx.id) == [query]
    finally:
        second.close()


@pytest.mark.postgres
def test_times_are_utc_whatever_the_session_time_zone() -> None:
    with fresh_pg_schema() as url:
        parsed = sa.make_url(url)
        options = f"{parsed.query['options']} -c TimeZone=Asia/Kolkata"
        in_kolkata = parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)
        store = open_store(in_kolkata)
        try:
            ctx = store.add_context("text", {})
            got = store.get_context(ctx.id)
            assert got == ctx and is_utc(got.created_at) and is_utc(got.updated_at)
        finally:
            store.close()


# --- errors and configuration


def test_database_errors_become_store_errors(store: SQLStore) -> None:
    ctx = store.add_context("text", {})
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE queries"))
    with pytest.raises(StoreError, match="database error on") as caught:
        store.list_queries(ctx.id)
    assert isinstance(caught.value.__cause__, sa.exc.SQLAlchemyError)


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://user@host/db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+aiosqlite:///x.db",
        "postgresql+asyncpg://user@host/db",
        "postgresql://user@host",
    ],
)
def test_unusable_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_store(url)
    assert repr(url) in str(caught.value) or url in str(caught.value)


def test_configuration_errors_hide_the_password() -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_store("mysql://user:pa55word@host/db")
    assert "pa55word" not in str(caught.value) and "user:***@host" in str(caught.value)


def test_postgres_urls_use_psycopg_3() -> None:
    for url in ("postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"):
        assert parse_url(url).drivername == "postgresql+psycopg"


def test_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://someone:s3cret@127.0.0.1:1/nothing")
    message = str(caught.value)
    shown = "postgresql+psycopg://someone:***@127.0.0.1:1/nothing"
    assert message.startswith(f"cannot open the database at {shown}: ")
    assert "s3cret" not in message and "\n" not in message


def test_sqlite_creates_parent_directories(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path / "a" / "b"))
    try:
        assert store.add_context("x", {}).version == 1
    finally:
        store.close()
    assert (tmp_path / "a" / "b" / "store.db").is_file()


def test_sqlite_in_an_unusable_place_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError):
        open_store(sqlite_url(tmp_path / "file"))


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    store = open_store(sqlite_url(tmp_path))
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        store.close()
