"""Server-sent events for the streamed chat completions (``data: {...}`` lines, then
``data: [DONE]``), produced in a thread of their own."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi.responses import StreamingResponse

from ..errors import SleeptimeError
from .errors import error_body, status_of

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]


class _ClientGone(Exception):
    pass


def sse(produce: Callable[[Emit], None]) -> StreamingResponse:
    """Server-sent events from ``produce``, run start to end in one thread of its own.

    One thread, because an embedded model holds its lock across the generator and a
    lock must be released by the thread that took it. A client that goes away stops
    the generation at its next piece.
    """

    async def body() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        gone = threading.Event()

        def put(item: bytes | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is closed: the server is stopping
                gone.set()

        def emit(data: dict[str, Any]) -> None:
            if gone.is_set():
                raise _ClientGone
            put(b"data: " + json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n\n")

        def run() -> None:
            try:
                produce(emit)
            except _ClientGone:
                pass
            except SleeptimeError as exc:
                status, type_ = status_of(exc)
                body = error_body(type_, exc.message, exc.hint, status=status, openai=True)
                put(b"data: " + json.dumps(body).encode() + b"\n\n")
            except Exception as exc:
                log.error("internal error while streaming: %s", type(exc).__name__)
                log.debug("internal error details", exc_info=exc)
                put(
                    b"data: "
                    + json.dumps(
                        error_body("internal_error", "internal server error", status=500, openai=True)
                    ).encode()
                    + b"\n\n"
                )
            finally:
                put(None)

        threading.Thread(target=run, name="sleeptime-stream", daemon=True).start()
        try:
            while (item := await queue.get()) is not None:
                yield item
            yield b"data: [DONE]\n\n"
        finally:
            gone.set()

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
