"""A real uvicorn server on a free loopback port, over SQLite and PostgreSQL.

``served(...)`` builds an Engine (a scripted model unless told otherwise), a
Scheduler (a fake clock and no worker threads unless told otherwise, so tests
step it with ``run_once``), the app, and serves it from a thread; the PostgreSQL
cases come from ``tests/store/conftest.py`` (skipped without
``SLEEPTIME_TEST_PG_URL``, failing under CI).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from store.conftest import fresh_pg_schema, sqlite_url  # tests/store, on sys.path like this package

from sleeptime.engine import Engine
from sleeptime.llm.base import LLM
from sleeptime.llm.fake import ScriptedModel
from sleeptime.scheduler import FakeClock, Scheduler
from sleeptime.scheduler.clock import SYSTEM_CLOCK, Clock
from sleeptime.server import create_app
from sleeptime.settings import Settings, load_settings

# Sleep notes a scripted model writes: one round (FINISHED), a number to find again.
NOTES = "Notes: the total is 42, so the answer is 42. FINISHED"

T = TypeVar("T")

__all__ = ["NOTES", "Served", "fresh_pg_schema", "sqlite_url"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once per backend."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with fresh_pg_schema() as url:
            yield url


class ServerThread:
    """uvicorn serving ``app`` from a thread, on a port the OS picked."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_config=None, log_level="info", lifespan="on", ws="none", http="h11")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@dataclass
class Served:
    url: str
    engine: Engine
    scheduler: Scheduler
    settings: Settings
    clock: Clock
    client: httpx.Client
    to_close: list[Any] = field(default_factory=list)

    def closing(self, client: T) -> T:
        """``client``, closed when the server stops."""
        self.to_close.append(client)
        return client

    def step(self, advance_s: float = 0.0) -> bool:
        """Move the fake clock and run one due job in this thread."""
        if isinstance(self.clock, FakeClock) and advance_s:
            self.clock.advance(advance_s)
        return self.scheduler.run_once()

    def drain(self, advance_s: float = 0.0) -> int:
        if isinstance(self.clock, FakeClock) and advance_s:
            self.clock.advance(advance_s)
        count = 0
        while self.scheduler.run_once():
            count += 1
        return count


@contextmanager
def serving(
    db_url: str,
    *,
    model: LLM | None = None,
    sleep_model: LLM | None = None,
    clock: Clock | None = None,
    workers: int = 0,
    headers: dict[str, str] | None = None,
    **settings: Any,
) -> Iterator[Served]:
    settings.setdefault("idle_delay_s", 30.0)
    settings.setdefault("sleep_budget", {"rounds": 2, "k": 1, "max_tokens": 64})
    resolved = load_settings(db_url=db_url, **settings)
    engine = Engine(
        model=model or ScriptedModel(default=NOTES), sleep_model=sleep_model, store=db_url, settings=resolved
    )
    used_clock = clock if clock is not None else (FakeClock() if workers == 0 else SYSTEM_CLOCK)
    scheduler = Scheduler(engine, resolved, clock=used_clock, workers=workers)
    app = create_app(engine, resolved, scheduler=scheduler)
    try:
        with (
            ServerThread(app) as server,
            httpx.Client(base_url=server.url, headers=headers, timeout=60) as client,
        ):
            served = Served(server.url, engine, scheduler, resolved, used_clock, client)
            try:
                yield served
            finally:
                for other in served.to_close:
                    other.close()
    finally:
        engine.close()


@pytest.fixture
def serve(db_url: str) -> Callable[..., Any]:
    """``with serve(**settings) as s:`` a server on this test's database."""

    def make(**kwargs: Any) -> Any:
        return serving(db_url, **kwargs)

    return make


def wait_until(predicate: Callable[[], bool], timeout_s: float = 30.0, interval_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval_s)
