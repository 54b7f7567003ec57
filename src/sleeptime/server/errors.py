"""The one place where an error becomes an HTTP status and a JSON body.

Every error response has the body ``{"error": {"type": ..., "message": ..., "hint": ...}}``
(the ``message`` is where the ``openai`` client looks). A ``SleeptimeError`` maps by
its class; request validation gives 422; anything else is a bug: 500, logged with
its traceback but never with request bodies.
"""

from __future__ import annotations

import logging
import math
import sys
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

# All from the one error tree (errors.py); ``X as X``: re-exported for the server's modules.
from ..errors import AuthenticationError as AuthenticationError
from ..errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    BudgetExceededError,
    ConfigurationError,
    ContextTooLongError,
    InvalidInputError,
    MalformedOutputError,
    ModelUnavailableError,
    NotFoundError,
    RateLimitedError,
    SleeptimeError,
    StoreError,
)
from ..errors import MalformedAuthorizationError as MalformedAuthorizationError
from ..errors import ParamError as ParamError
from ..errors import PayloadTooLargeError as PayloadTooLargeError
from ..errors import QuotaExceededError as QuotaExceededError

log = logging.getLogger(__name__)


# Most specific first: the first matching class decides.
STATUS: list[tuple[type[SleeptimeError], int, str]] = [
    (AuthenticationError, 401, "unauthorized"),
    (PayloadTooLargeError, 413, "payload_too_large"),
    (ContextTooLongError, 413, "context_too_long"),
    (InvalidInputError, 400, "invalid_request"),
    (NotFoundError, 404, "not_found"),
    (QuotaExceededError, 429, "quota_exceeded"),
    (BudgetExceededError, 429, "budget_exceeded"),
    (BackendTimeoutError, 504, "backend_timeout"),
    (RateLimitedError, 503, "rate_limited"),
    (BackendUnavailableError, 503, "backend_unavailable"),
    (MalformedOutputError, 502, "backend_malformed_output"),
    (BackendError, 502, "backend_error"),
    (ModelUnavailableError, 503, "model_unavailable"),
    (StoreError, 503, "store_unavailable"),
    (ConfigurationError, 500, "configuration_error"),
    (SleeptimeError, 500, "error"),
]

HTTP_TYPES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}


OPENAI_PREFIX = "/v1/"


def openai_type(status: int) -> str:
    """OpenAI's error ``type`` for a status (sleeptime's own type goes in ``code``)."""
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_body(
    type_: str,
    message: str,
    hint: str = "",
    *,
    status: int = 400,
    openai: bool = False,
    param: str | None = None,
) -> dict[str, Any]:
    """``{"error": {"type", "message", "hint"}}``; on the /v1 routes OpenAI's shape
    ``{"error": {"message", "type", "param", "code"}}`` with the hint kept."""
    if openai:
        return {
            "error": {
                "message": message,
                "type": openai_type(status),
                "param": param,
                "code": type_,
                "hint": hint,
            }
        }
    return {"error": {"type": type_, "message": message, "hint": hint}}


def is_openai(path: str) -> bool:
    return path.startswith(OPENAI_PREFIX)


def status_of(exc: SleeptimeError) -> tuple[int, str]:
    for cls, status, type_ in STATUS:
        if isinstance(exc, cls):
            return status, type_
    return 500, "error"  # pragma: no cover - SleeptimeError is in the table


def error_response(exc: SleeptimeError, *, openai: bool = False) -> JSONResponse:
    status, type_ = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, (AuthenticationError, MalformedAuthorizationError)):
        headers["WWW-Authenticate"] = exc.challenge
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, (int, float)):
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if status >= 500:
        log.warning("request failed: %s: %s", type(exc).__name__, exc.message)
    body = error_body(
        type_, exc.message, exc.hint, status=status, openai=openai, param=getattr(exc, "param", None)
    )
    return JSONResponse(body, status_code=status, headers=headers)


def validation_param(exc: RequestValidationError) -> str | None:
    """The first field at fault, as OpenAI's ``param`` names it (``messages.0.role``)."""
    for err in exc.errors()[:1]:
        where = [str(p) for p in err.get("loc", ()) if p not in ("body", "header", "query", "path")]
        return ".".join(where) or None
    return None


def validation_message(exc: RequestValidationError) -> str:
    """Where and what, without echoing the input (it may be a context's text)."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def body_problem(cause: BaseException | None) -> str | None:
    """What made a body unparseable, in words (FastAPI only says "There was an error parsing the body")."""
    if isinstance(cause, RecursionError):
        return "the JSON body is nested too deeply to parse"
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not valid UTF-8 (invalid byte at offset {cause.start})"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return f"a number in the JSON body has more than {sys.get_int_max_str_digits():,} digits"
    if cause is not None:
        return f"the body could not be parsed ({type(cause).__name__})"
    return None


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def on_sleeptime_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SleeptimeError)
        return error_response(exc, openai=is_openai(request.url.path))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        body = error_body(
            "invalid_request",
            validation_message(exc),
            "see the OpenAPI schema at /openapi.json",
            status=422,
            openai=is_openai(request.url.path),
            param=validation_param(exc),
        )
        return JSONResponse(body, status_code=422)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        type_ = HTTP_TYPES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else type_
        problem = body_problem(exc.__cause__) if exc.status_code == 400 else None
        if problem is not None:
            message = problem
        body = error_body(type_, message, status=exc.status_code, openai=is_openai(request.url.path))
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def on_bug(request: Request, exc: Exception) -> JSONResponse:
        # The frames, not the message: a message may quote a prompt or a context.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error("internal error: %s\n%s", type(exc).__name__, frames)
        log.debug("internal error details", exc_info=exc)
        body = error_body(
            "internal_error",
            "internal server error",
            "the server log has the details",
            status=500,
            openai=is_openai(request.url.path),
        )
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(SleeptimeError, on_sleeptime_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_bug)
