"""Raw ASGI for the middlewares that answer before the app does, or hand it a body they have
read already: the body limit (``app.py``) and ``Idempotency-Key`` (``idempotency.py``)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.types import Message, Receive, Scope, Send

from . import errors

Headers = Sequence[tuple[bytes, bytes]]


async def respond(
    send: Send, status: int, content_type: str | None, body: bytes, headers: Headers = ()
) -> None:
    """A whole response in one body message."""
    sent = [(b"content-length", str(len(body)).encode()), *headers]
    if content_type:
        sent.append((b"content-type", content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": sent})
    await send({"type": "http.response.body", "body": body})


async def send_error(
    send: Send, scope: Scope, status: int, type_: str, message: str, hint: str, *, headers: Headers = ()
) -> None:
    """The error body the app's handlers send (``errors.error_body``; OpenAI's shape on /v1)."""
    openai = errors.is_openai(scope.get("path", ""))
    body = errors.error_body(type_, message, hint, status=status, openai=openai)
    await respond(send, status, "application/json", json.dumps(body).encode(), headers)


def whole_body(body: bytes) -> Message:
    """The request message of a body read to its end."""
    return {"type": "http.request", "body": body, "more_body": False}


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` first, then the client's own (a disconnect, say)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
