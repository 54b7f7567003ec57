"""The latency a caller saw: from the moment the server received the request to its answer,
recorded with the query as ``latency_s``, and ``queue_wait_s``, the part of it spent outside
the model call (waiting for a thread, for the store, for a sleep call to yield). The model
call's own time is the backend's measure (for the embedded model it includes waiting for
the model to be free)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..engine import Engine


class Stamp:
    """ASGI middleware, outermost: notes when each request arrived."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["received_at"] = time.perf_counter()
        await self.app(scope, receive, send)


def received_at(request: Request) -> float:
    stamped = getattr(request.state, "received_at", None)
    return stamped if isinstance(stamped, float) else time.perf_counter()


def record(
    engine: Engine, query_id: str | None, received: float, model_latency_s: float
) -> tuple[float, float]:
    """(latency_s, queue_wait_s) as of now, stored with the query ``query_id``."""
    seen = time.perf_counter() - received
    wait = max(0.0, seen - model_latency_s)
    if query_id is not None:
        engine.record_latency(query_id, latency_s=seen, queue_wait_s=wait)
    return seen, wait
