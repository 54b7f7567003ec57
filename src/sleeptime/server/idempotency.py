"""``Idempotency-Key`` on POSTs: the first answer is stored with the key and replayed to
a retry, so a client that lost an answer (a dropped connection, a server killed after
its commit) can send the request again without writing twice.

- A key is 1 to 255 printable ASCII characters, per tenant, kept ``idempotency_ttl_s``.
- The same key with another request (method, path, query or body) is 422
  ``idempotency_key_reused``; while the first request is still being answered, 409
  ``idempotency_key_in_use`` with ``Retry-After``.
- A replayed answer has the header ``Idempotent-Replayed: true``.
- Answers with 5xx or 429 are not stored (retrying may succeed). The answer is stored
  before it is sent (streams: when they end), so only a crash in the moment between the
  request's own commit and that store leaves the key claimed; a retry then waits until
  the claim's process is found dead (same host) or ``idempotency_lease_s`` has passed,
  and runs the request again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import SleeptimeError
from ..scheduler import HOST, _owner_is_dead
from ..settings import Settings
from ..store.idempotency import IdempotencyStore
from . import asgi
from .auth import Authenticator

HEADER = b"idempotency-key"
MAX_KEY_CHARS = 255


class Idempotency:
    """ASGI middleware; inside ``BodyLimit``, so bodies are already bounded."""

    def __init__(
        self, app: ASGIApp, *, store: IdempotencyStore, auth: Authenticator, settings: Settings
    ) -> None:
        self.app = app
        self.store = store
        self.auth = auth
        self.ttl_s = settings.idempotency_ttl_s
        self.lease_s = settings.idempotency_lease_s
        self.owner = f"{HOST}:{os.getpid()}:{secrets.token_hex(3)}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        if scope["type"] != "http" or scope["method"] != "POST" or HEADER not in headers:
            await self.app(scope, receive, send)
            return
        key = headers[HEADER].decode("latin-1")
        if not (0 < len(key) <= MAX_KEY_CHARS and key.isascii() and key.isprintable()):
            await _refuse(
                send,
                scope,
                400,
                "invalid_request",
                f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters",
            )
            return
        body = await _read_body(receive)
        replay = asgi.replay([asgi.whole_body(body)], receive)
        try:
            tenant = await run_in_threadpool(self.auth.tenant, Request(scope))
        except SleeptimeError:  # the app refuses it the same way, and nothing is stored
            await self.app(scope, replay, send)
            return
        fingerprint = hashlib.sha256(
            b"\n".join(
                [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body]
            )
        ).hexdigest()
        begun = await run_in_threadpool(
            self.store.begin,
            tenant,
            key,
            fingerprint,
            self.owner,
            now=datetime.now(timezone.utc),
            ttl_s=self.ttl_s,
            lease_s=self.lease_s,
            is_dead=lambda owner: owner.startswith(f"{HOST}:") and _owner_is_dead(owner),
        )
        if begun.outcome == "replay":
            assert begun.status_code is not None
            extra = [(b"idempotent-replayed", b"true")]
            await asgi.respond(send, begun.status_code, begun.content_type, begun.body or b"", extra)
        elif begun.outcome == "mismatch":
            await _refuse(
                send,
                scope,
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used for another request",
            )
        elif begun.outcome == "in_progress":
            await _refuse(
                send,
                scope,
                409,
                "idempotency_key_in_use",
                "a request with this Idempotency-Key is still being answered",
                retry_after=1,
            )
        else:
            await self._first(scope, replay, send, tenant, key)

    async def _first(self, scope: Scope, receive: Receive, send: Send, tenant: str, key: str) -> None:
        """Run the request; store its answer (before sending it, unless it streams)."""
        start: Message | None = None
        chunks: list[bytes] = []
        streaming = False

        async def capture(message: Message) -> None:
            nonlocal start, streaming
            if message["type"] == "http.response.start":
                start = message
                content_type = dict(message.get("headers") or []).get(b"content-type", b"")
                streaming = content_type.startswith(b"text/event-stream")
                if streaming:
                    await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            last = not message.get("more_body", False)
            if last:  # stored before the client can see the end, and so retry
                await self._store(start, chunks, tenant, key)
            if streaming:
                await send(message)
            elif last:
                assert start is not None
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks)})

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await run_in_threadpool(self.store.abandon, tenant, key, self.owner)
            raise

    async def _store(self, start: Message | None, chunks: list[bytes], tenant: str, key: str) -> None:
        status = int(start["status"]) if start is not None else 500
        if status >= 500 or status == 429:
            await run_in_threadpool(self.store.abandon, tenant, key, self.owner)
            return
        assert start is not None
        content_type = dict(start.get("headers") or []).get(b"content-type", b"").decode("latin-1") or None
        await run_in_threadpool(
            self.store.finish, tenant, key, self.owner, status, content_type, b"".join(chunks)
        )


async def _read_body(receive: Receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        more = bool(message.get("more_body", False))
    return body


async def _refuse(
    send: Send, scope: Scope, status: int, type_: str, message: str, *, retry_after: int | None = None
) -> None:
    hint = "send each new request with a new key; retry only the same request with the same key"
    headers = [(b"retry-after", str(retry_after).encode())] if retry_after is not None else []
    await asgi.send_error(send, scope, status, type_, message, hint, headers=headers)
