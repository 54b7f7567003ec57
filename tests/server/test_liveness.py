"""On PostgreSQL, a job whose holder died is retried at once, not when its lease expires:
each scheduler holds an advisory lock for as long as its session lives."""

from __future__ import annotations

import subprocess
import sys

import pytest
from store.conftest import fresh_pg_schema

from sleeptime.engine import Engine
from sleeptime.llm.fake import ScriptedModel
from sleeptime.scheduler import FakeClock, Scheduler
from sleeptime.settings import load_settings
from sleeptime.store.liveness import Beacon, owner_prefix

# A scheduler in another process takes the context's job with an hour's lease, then is killed.
HOLDER = """
import os, signal, sys
from sleeptime.engine import Engine
from sleeptime.llm.fake import ScriptedModel
from sleeptime.scheduler import Scheduler
from sleeptime.settings import load_settings

url = sys.argv[1]
settings = load_settings(db_url=url, idle_delay_s=0, job_lease_s=3600)
engine = Engine(model=ScriptedModel(), store=url, settings=settings)
scheduler = Scheduler(engine, settings, workers=0)
scheduler.beacon.start()
scheduler.relay()
job = scheduler.jobs.claim(scheduler.owner_prefix + "0", now=scheduler.clock.now(), lease_s=3600)
print(job.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.postgres
def test_a_killed_holder_is_found_at_once() -> None:
    with fresh_pg_schema() as url:
        settings = load_settings(db_url=url, idle_delay_s=0, job_lease_s=3600)
        with Engine(model=ScriptedModel(), store=url, settings=settings) as engine:
            context = engine.add_context("Alice has 3 apples. She buys 39 more.")
            holder = subprocess.run(
                [sys.executable, "-c", HOLDER, url], capture_output=True, text=True, timeout=120
            )
            job_id = holder.stdout.strip()
            assert job_id and holder.returncode == -9, holder.stderr
            scheduler = Scheduler(engine, settings, workers=0)
            try:
                assert scheduler.jobs.get(job_id).status == "running"  # its lease runs for an hour
                assert scheduler.reap() == 1  # but its session, and so its lock, is gone
                again = scheduler.jobs.claim(
                    scheduler.owner_prefix + "0", now=scheduler.clock.now(), lease_s=60
                )
                assert again is not None and again.id == job_id and again.context_id == context.id
            finally:
                scheduler.stop()


@pytest.mark.postgres
def test_a_live_holder_keeps_its_job() -> None:
    with fresh_pg_schema() as url:
        settings = load_settings(db_url=url, idle_delay_s=0, job_lease_s=3600)
        with Engine(model=ScriptedModel(), store=url, settings=settings) as engine:
            engine.add_context("Bob has 5 pears.")
            clock = FakeClock()
            holder, other = (Scheduler(engine, settings, clock=clock, workers=0) for _ in range(2))
            holder.beacon.start()
            holder.relay()
            job = holder.jobs.claim(holder.owner_prefix + "0", now=clock.now(), lease_s=3600)
            assert job is not None and owner_prefix(job.lease_owner or "") == holder.owner_prefix
            assert other.reap() == 0 and other.jobs.claim("x:1:y:0", now=clock.now(), lease_s=60) is None
            holder.beacon.stop()  # as when its process ends
            assert other.reap() == 1
            # An owner without a liveness lock (another version, say) keeps its job until its lease ends.
            ghost = other.jobs.claim("elsewhere:1:x:0", now=clock.now(), lease_s=60)
            assert ghost is not None and other.reap() == 0
            other.stop()


def test_sqlite_has_no_beacon(tmp_path: object) -> None:
    with Engine(model=ScriptedModel(), store=f"sqlite:///{tmp_path}/b.db") as engine:
        beacon = Beacon(engine.store.engine, "h:1:t")  # type: ignore[attr-defined]
        beacon.start()
        assert not beacon.enabled and beacon.prefix == "h:1:t:" and not beacon.is_dead("h:2:u+live:0")
