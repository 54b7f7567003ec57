"""The server's tables: a 0001 database upgrades to head with its data, and the job queue's
claiming rules hold on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from sleeptime.store import open_store
from sleeptime.store.database import create_engine, parse_url
from sleeptime.store.jobs import JobStore
from sleeptime.store.keys import KeyStore
from sleeptime.store.migrate import current_revision, head_revision, upgrade


def test_a_0001_database_upgrades_to_head(db_url: str) -> None:
    engine = create_engine(parse_url(db_url))
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            ts = "'2024-05-06 07:08:09+00'" if conn.dialect.name == "postgresql" else "'2024-05-06 07:08:09'"
            conn.execute(
                sa.text(
                    "INSERT INTO contexts (id, tenant, current_version, metadata, created_at, updated_at) "
                    f"VALUES ('ctx1', 'acme', 1, '{{}}', {ts}, {ts})"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO context_versions (context_id, version, text, sha256, created_at) "
                    f"VALUES ('ctx1', 1, 'old text', 'x', {ts})"
                )
            )
            assert "sleep_jobs" not in sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        assert store.get_context("ctx1", tenant="acme").text == "old text"
        keys, jobs = KeyStore(store.engine), JobStore(store.engine)
        _, key = keys.create_key("acme")
        assert keys.tenant_of(key) == "acme" and keys.any_active()
        now = datetime.now(timezone.utc)
        # Never slept on: the upgrade (0004) put it in the outbox, which the scheduler relays.
        assert jobs.pending() == [("ctx1", "acme", 1)]
        [queued] = jobs.relay(now=now, due_at=now, max_attempts=3)
        assert (queued.context_id, queued.reason) == ("ctx1", "created") and jobs.pending() == []
        job = jobs.claim("me:1:a:0", now=now, lease_s=60)
        assert job is not None and (job.context_id, job.tenant, job.attempts) == ("ctx1", "acme", 1)
        store.delete_context("ctx1")
        assert jobs.list_jobs() == []  # cascades
    finally:
        store.close()


def test_one_queued_job_per_context_and_one_claim_at_a_time(db_url: str) -> None:
    store = open_store(db_url)
    try:
        jobs = JobStore(store.engine)
        context = store.add_context("text", {})
        now = datetime.now(timezone.utc)
        first = jobs.touch(
            context.id, now=now, due_at=now + timedelta(seconds=30), reason="created", max_attempts=3
        )
        again = jobs.touch(
            context.id, now=now, due_at=now + timedelta(seconds=60), reason="changed", max_attempts=3
        )
        assert first is not None and again is not None and first.id == again.id
        assert again.due_at == now + timedelta(seconds=60)
        assert jobs.claim("a:1:x:0", now=now + timedelta(seconds=59), lease_s=60) is None  # not due
        claimed = jobs.claim("a:1:x:0", now=now + timedelta(seconds=60), lease_s=60)
        assert claimed is not None and claimed.status == "running"
        # an edit during the run queues a second job, which waits for the first
        store.update_context(context.id, "new text")
        queued = jobs.touch(context.id, now=now, due_at=now, reason="changed", max_attempts=3)
        assert queued is not None and queued.id != claimed.id and queued.version == 2
        assert jobs.claim("b:1:x:0", now=now + timedelta(seconds=61), lease_s=60) is None
        assert jobs.finish(claimed.id, "a:1:x:0", "cancelled", now=now)
        assert not jobs.finish(claimed.id, "a:1:x:0", "done", now=now)  # no longer held
        assert jobs.claim("b:1:x:0", now=now + timedelta(seconds=61), lease_s=60) is not None
        dead = jobs.release_dead_owners("b:", lambda owner: True, now=now + timedelta(seconds=62))
        assert dead == 1
    finally:
        store.close()


def test_an_edit_and_its_job_are_one_transaction(db_url: str) -> None:
    """The outbox row is written with the version; relaying it queues the job and empties it."""
    store = open_store(db_url)
    try:
        jobs = JobStore(store.engine)
        now = datetime.now(timezone.utc)
        first = store.add_context("first text", {}, tenant="acme")
        second = store.add_context("second text", {}, tenant="acme")
        store.update_context(second.id, "second text, edited")
        store.update_context(first.id, "first text", metadata={"only": "metadata"})  # no new version
        assert jobs.pending() == [(first.id, "acme", 1), (second.id, "acme", 2)]
        assert jobs.list_jobs() == []  # what a crash right after the edits would leave
        queued = jobs.relay(now=now, due_at=now, max_attempts=3, context_id=second.id)
        assert [(j.context_id, j.version, j.reason) for j in queued] == [(second.id, 2, "changed")]
        assert jobs.pending() == [(first.id, "acme", 1)]
        store.update_context(second.id, "second text, edited twice")  # moves the queued job
        later = now + timedelta(seconds=5)
        relayed = jobs.relay(now=later, due_at=later + timedelta(seconds=30), max_attempts=3)
        assert sorted(j.context_id for j in relayed) == sorted([first.id, second.id])
        moved = next(j for j in relayed if j.context_id == second.id)
        assert moved.id == queued[0].id and moved.version == 3  # the queued job follows the edit
        assert {j.context_id for j in jobs.list_jobs()} == {first.id, second.id}
        assert jobs.pending() == [] and jobs.relay(now=now, due_at=now, max_attempts=3) == []
        store.add_context("third", {})
        store.delete_context(store.list_contexts()[-1].id)
        assert jobs.pending() == []  # the row went with its context
    finally:
        store.close()
