"""Durability: SIGKILL the server mid-run, start it again, and the run is retried; several
server processes on one PostgreSQL database never run a job twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from store.conftest import fresh_pg_schema

from sleeptime.store import open_store
from sleeptime.store.jobs import JobStore

from .conftest import wait_until

LONG_TEXT = (
    "A warehouse holds 120 crates. Each crate holds 24 boxes, and each box holds 6 jars. "
    "On Monday 15 crates are shipped; on Tuesday 8 crates arrive. A jar costs $3.50 and a "
    "box is sold at a 10% discount on the price of its jars."
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(db_url: str, tmp_path: Path, name: str) -> Iterator[tuple[subprocess.Popen[bytes], httpx.Client]]:
    port = _free_port()
    env = {
        **os.environ,
        "SLEEPTIME_SLEEP_BUDGET": json.dumps(
            {"rounds": 2, "k": 1, "max_tokens": 96, "temperature": 0.0, "seed": 0}
        ),
        "SLEEPTIME_ASK_BUDGET": json.dumps(
            {"verbosity": 0, "n": 1, "max_tokens": 16, "temperature": 0.0, "seed": 0}
        ),
        "SLEEPTIME_N_THREADS": "1",  # llama.cpp's spinning threads crawl on a busy 2-core machine
        "SLEEPTIME_JOB_LEASE_S": "30",  # longer than the test: only the dead-owner check can free it
        "SLEEPTIME_SCHEDULER_POLL_S": "0.2",
        "SLEEPTIME_IDLE_DELAY_S": "3600",
        "SLEEPTIME_N_CTX": "2048",
    }
    log = (tmp_path / f"{name}.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "sleeptime",
        "--model",
        "smollm2-135m",
        "--db",
        db_url,
        "serve",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    try:

        def healthy() -> bool:
            assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()
            try:
                return client.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, timeout_s=120, interval_s=0.1)
        yield proc, client
    finally:
        client.close()
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.mark.usefixtures("smollm2_path")
def test_sigkill_mid_run_then_restart_retries_the_run(db_url: str, tmp_path: Path) -> None:
    with _server(db_url, tmp_path, "first") as (proc, client):
        target = client.post("/contexts", json={"text": LONG_TEXT}).json()["id"]
        other = client.post("/contexts", json={"text": "Bob has 5 pears and eats 2."}).json()["id"]
        answers = [
            client.post(f"/contexts/{other}/ask", json={"question": q}).json()["id"]
            for q in ("How many?", "Why?")
        ]
        job = client.post(f"/contexts/{target}/sleep", json={}).json()["job"]
        store = open_store(db_url)
        try:
            wait_until(
                lambda: [r.status for r in store.list_runs(target)] == ["running"],
                timeout_s=60,
                interval_s=0.02,
            )
            time.sleep(0.3)
            assert [r.status for r in store.list_runs(target)] == ["running"], "the run ended before the kill"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)  # reaped: the restarted server sees the owner is gone
            assert JobStore(store.engine).get(job["id"]).status == "running"
        finally:
            store.close()

    with _server(db_url, tmp_path, "second") as (_, client):
        wait_until(
            lambda: client.get(f"/contexts/{target}/jobs").json()["data"][0]["status"] == "done",
            timeout_s=240,
        )
        [done] = client.get(f"/contexts/{target}/jobs").json()["data"]
        assert done["id"] == job["id"] and done["attempts"] == 2
        learned = client.get(f"/contexts/{target}/learned").json()
        assert len(learned["data"]) == 1 and learned["data"][0]["text"].strip()
        assert [r["status"] for r in learned["runs"]] == ["done", "interrupted"]
        assert learned["data"][0]["runs"][0]["id"] == learned["runs"][0]["id"]
        assert sorted(c["id"] for c in client.get("/contexts").json()["data"]) == sorted([target, other])
        queries = client.get(f"/contexts/{other}/queries").json()["data"]
        assert sorted(q["id"] for q in queries) == sorted(answers)
        asked = client.post(f"/contexts/{target}/ask", json={"question": "How many crates are left?"}).json()
        assert asked["source"] == "learned"


WORKER = """
import sys, time
from sleeptime.engine import Engine
from sleeptime.llm.fake import ScriptedModel
from sleeptime.scheduler import Scheduler
from sleeptime.settings import load_settings

url, name = sys.argv[1], sys.argv[2]
settings = load_settings(db_url=url, sleep_workers=2, scheduler_poll_s=0.05, idle_delay_s=0,
                         sleep_budget={"rounds": 1, "k": 1, "max_tokens": 32})
model = ScriptedModel(default="Notes: counted it, the answer is 7. FINISHED", delay_s=0.15, name=name)
engine = Engine(model=model, store=url, settings=settings)
scheduler = Scheduler(engine, settings)
scheduler.start()
deadline = time.time() + 90
while time.time() < deadline and scheduler.jobs.list_jobs(statuses=("queued", "running"), limit=1):
    time.sleep(0.1)
scheduler.stop()
engine.close()
"""


@pytest.mark.postgres
def test_two_processes_never_run_the_same_job(tmp_path: Path) -> None:
    with fresh_pg_schema() as url:
        store = open_store(url)
        try:
            jobs = JobStore(store.engine)
            ids = []
            for i in range(24):
                context = store.add_context(f"Context {i}: {i} apples and {i + 1} pears.", {})
                now = jobs_now()
                jobs.touch(context.id, now=now, due_at=now, reason="requested", max_attempts=3)
                ids.append(context.id)
            procs = [
                subprocess.Popen([sys.executable, "-c", WORKER, url, f"proc{i}"], stderr=subprocess.PIPE)
                for i in range(2)
            ]
            for proc in procs:
                _, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err.decode()
            models: dict[str, int] = {}
            for cid in ids:
                runs = store.list_runs(cid)
                assert [r.status for r in runs] == ["done"], cid  # one run per job, never two
                [learned] = store.list_learned(cid)
                models[learned.model] = models.get(learned.model, 0) + 1
                assert [j.status for j in jobs.list_jobs(context_id=cid)] == ["done"]
            assert set(models) == {"proc0", "proc1"}, models  # both did share the work
        finally:
            store.close()


def jobs_now() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
