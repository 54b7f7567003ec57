"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for failure injection.

Each request takes the next ``Reply`` of the script (or ``default`` when it runs
out) and is recorded, so tests can check both what the client did and what it
sent. ``http.server`` rather than uvicorn: a fault server must be able to send
exactly the wrong bytes, hang, and stop without waiting for an event loop.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    hang_s: float = 0.0
    events: tuple[bytes, ...] | None = None  # Server-sent events, sent one by one


@dataclass(frozen=True)
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]  # names in lower case
    at: float


def _json(status: int, payload: object, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    return Reply(status, json.dumps(payload).encode(), (("Content-Type", "application/json"), *headers))


def chat(
    *texts: str, usage: bool = True, reasoning_tokens: int | None = None, cached_tokens: int | None = None
) -> Reply:
    """A normal chat completion with one choice per text."""
    payload: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "fault-model",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
            for i, t in enumerate(texts)
        ],
    }
    if usage:
        payload["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        if reasoning_tokens is not None:
            payload["usage"]["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
        if cached_tokens is not None:
            payload["usage"]["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    return _json(200, payload)


def error(
    status: int, message: str = "boom", *, headers: Iterable[tuple[str, str]] = (), **extra: Any
) -> Reply:
    return _json(status, {"error": {"message": message, "type": "error", **extra}}, headers)


def hang(seconds: float) -> Reply:
    """Say nothing for ``seconds`` (the server releases it early at shutdown)."""
    return Reply(hang_s=seconds)


def malformed_json() -> Reply:
    return Reply(200, b'{"id": "chatcmpl-1", "choices": [', (("Content-Type", "application/json"),))


def empty_choices() -> Reply:
    return _json(
        200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m", "choices": []}
    )


def null_content() -> Reply:
    choice = {"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "stop"}
    return _json(
        200, {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [choice]}
    )


def streamed(*pieces: str, usage: bool = True) -> Reply:
    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "fault-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    events = [event({"role": "assistant", "content": ""})]
    events += [event({"content": p}) for p in pieces]
    events.append(event({}, "stop"))
    if usage:
        tail = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fault-model"}
        tail |= {
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 9},
        }
        events.append(f"data: {json.dumps(tail)}\n\n".encode())
    events.append(b"data: [DONE]\n\n")
    return Reply(200, headers=(("Content-Type", "text/event-stream"),), events=tuple(events))


def echo_logprobs(tokens: list[str], logprobs: list[float | None], generated: str | None = ".") -> Reply:
    """A legacy completion echoing ``"".join(tokens)``, plus one generated token when given."""
    offsets, at = [], 0
    for token in tokens:
        offsets.append(at)
        at += len(token)
    text = "".join(tokens)
    if generated is not None:
        tokens, logprobs, offsets = [*tokens, generated], [*logprobs, -0.5], [*offsets, at]
        text += generated
    choice = {
        "index": 0,
        "text": text,
        "finish_reason": "length",
        "logprobs": {
            "tokens": tokens,
            "token_logprobs": logprobs,
            "text_offset": offsets,
            "top_logprobs": None,
        },
    }
    return _json(
        200, {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m", "choices": [choice]}
    )


@dataclass
class FaultServer:
    """Start with ``start()``; ``url`` is the base URL to give the client (ends in /v1)."""

    default: Reply = field(default_factory=lambda: chat("default answer"))
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FaultServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                server._serve(self, json.loads(raw) if raw else {})

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fault-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _serve(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(
                Request(
                    handler.path, body, {k.lower(): v for k, v in handler.headers.items()}, time.monotonic()
                )
            )
            reply = self._script.popleft() if self._script else self.default
        if reply.hang_s and self._release.wait(reply.hang_s):
            return
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers:
                handler.send_header(name, value)
            if reply.events is None:
                handler.send_header("Content-Length", str(len(reply.body)))
                handler.end_headers()
                handler.wfile.write(reply.body)
            else:
                handler.send_header("Cache-Control", "no-cache")
                handler.send_header("Connection", "close")
                handler.end_headers()
                for event in reply.events:
                    handler.wfile.write(event)
                    handler.wfile.flush()
                handler.close_connection = True
        except (BrokenPipeError, ConnectionResetError):  # the client gave up first: that was the point
            pass
