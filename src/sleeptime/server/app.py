"""The FastAPI application: ``create_app(engine, settings, scheduler=...)``.

Routes run in FastAPI's thread pool (the engine is synchronous); the scheduler's
workers start with the app and stop with it. Served by ``sleeptime serve``
(uvicorn); the OpenAPI schema is at ``/openapi.json``, its pages at ``/docs``
(Swagger UI) and ``/redoc``, with their scripts and styles served by this server
(``fastapi-offline``'s packaged copies), so they work offline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from ..engine import Engine
from ..errors import ConfigurationError
from ..scheduler import Scheduler
from ..settings import Settings
from ..store import SQLStore
from ..store.idempotency import IdempotencyStore
from ..store.keys import KeyStore
from ..store.quotas import QuotaStore
from . import asgi, errors, openapi, routes_contexts, routes_openai, routes_stats
from .auth import Authenticator
from .idempotency import Idempotency
from .latency import Stamp

DESCRIPTION = """Sleep-time compute as a service: store contexts; the server thinks about each one
while it is idle (S(c) -> c') and answers questions from what it learned (T_b(q, c') -> a).
Errors have the body `{"error": {"type", "message", "hint"}}`. See docs/server.md."""
# Where /docs and /redoc load their scripts, styles and icon from (this server, never a CDN).
DOCS_ASSETS_URL = "/docs-assets"


def create_app(
    engine: Engine, settings: Settings | None = None, *, scheduler: Scheduler | None = None
) -> FastAPI:
    """The app for ``engine``. Without ``scheduler`` one is made from the settings;
    either way its workers run while the app does."""
    settings = settings or engine.settings
    if not isinstance(engine.store, SQLStore):
        raise ConfigurationError("the server needs a SQL store (SQLite or PostgreSQL)")
    sched = scheduler or Scheduler(engine, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(sched.start)
        try:
            yield
        finally:
            await run_in_threadpool(sched.stop)

    app = FastAPIOffline(
        title="sleeptime",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS_URL,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.scheduler = sched
    app.state.auth = Authenticator(KeyStore(engine.store.engine), host=settings.server_host)
    app.state.quotas = QuotaStore(engine.store.engine)
    errors.install(app)
    app.include_router(routes_contexts.router)
    app.include_router(routes_stats.router)
    app.include_router(routes_openai.router)

    @app.get("/healthz", tags=["server"], summary="Liveness")
    def healthz() -> dict[str, str]:
        """No authentication: for load balancers and process supervisors."""
        return {"status": "ok"}

    # The last added runs first: bodies are bounded before Idempotency-Key reads them.
    app.add_middleware(
        Idempotency, store=IdempotencyStore(engine.store.engine), auth=app.state.auth, settings=settings
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(Stamp)  # outermost: latency_s counts from the request's arrival
    openapi.install(app, settings)
    return app


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413, before the app reads them.

    A declared Content-Length is checked at once; a chunked body is read up to the
    limit and then handed on (bodies are small: a few MiB at most).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await self._refuse(send, scope, 400, "invalid_request", "invalid Content-Length header")
                return
            if too_big:
                await self._too_large(send, scope)
                return
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, asgi.replay([message], receive), send)
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self.max_bytes:
                await self._too_large(send, scope)
                return
        await self.app(scope, asgi.replay([asgi.whole_body(body)], receive), send)

    async def _too_large(self, send: Send, scope: Scope) -> None:
        await self._refuse(
            send,
            scope,
            413,
            "payload_too_large",
            f"the request body is larger than this server's limit of {self.max_bytes:,} bytes",
        )

    @staticmethod
    async def _refuse(send: Send, scope: Scope, status: int, type_: str, message: str) -> None:
        await asgi.send_error(send, scope, status, type_, message, "see max_request_bytes in docs/server.md")
