"""Two server processes on one SQLite file (WAL): both serve every context, and each sleep
job runs in exactly one of them. docs/server.md says what is supported."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

SERVER = """
import sys, uvicorn
from sleeptime.engine import Engine
from sleeptime.llm.fake import ScriptedModel
from sleeptime.server import create_app
from sleeptime.settings import load_settings

db, port = sys.argv[1], int(sys.argv[2])
settings = load_settings(
    db_url=db, idle_delay_s=0, scheduler_poll_s=0.05, job_max_attempts=1, sleep_workers=1,
    sleep_budget={"rounds": 1, "k": 1, "max_tokens": 32},
)
model = ScriptedModel(default="Notes: the answer is 42. FINISHED", delay_s=0.05)
engine = Engine(model=model, store=db, settings=settings)
uvicorn.run(create_app(engine, settings), host="127.0.0.1", port=port, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


def test_two_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SERVER, db, str(port)],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, proc in zip(urls, procs, strict=True):
            _wait_up(url, proc)
        clients = [httpx.Client(base_url=url, timeout=60) for url in urls]

        def create(i: int) -> str:
            r = clients[i % 2].post("/contexts", json={"text": f"Context {i}: Alice has {i} apples."})
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(create, range(20)))
        for client in clients:
            listed = {c["id"] for c in client.get("/contexts", params={"limit": 100}).json()["data"]}
            assert listed == set(ids)
        deadline = time.monotonic() + 120
        while clients[0].get("/scheduler/plan").json()["items"]:
            assert time.monotonic() < deadline, clients[0].get("/scheduler/plan").text
            time.sleep(0.2)
        for cid in ids:
            jobs = clients[1].get(f"/contexts/{cid}/jobs").json()["data"]
            assert [j["status"] for j in jobs] in (["done"], ["failed"]), jobs
            runs = clients[0].get(f"/contexts/{cid}/learned").json()["runs"]
            assert len(runs) == 1, runs  # claimed once, by one of the two
        for client in clients:
            client.close()
    finally:
        logs = []
        for proc in procs:
            proc.terminate()
            logs.append(proc.communicate(timeout=30)[1])
    for log in logs:
        assert "locked" not in log and "Traceback" not in log, log
