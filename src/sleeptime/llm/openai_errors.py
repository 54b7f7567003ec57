"""The one place where OpenAI SDK and HTTP client exceptions become sleeptime errors (the
OpenAI-compatible backend's error map; other backends map their own errors where they call).

    openai.APITimeoutError, httpx TimeoutException, HTTP 408  -> BackendTimeoutError
    openai.RateLimitError (429)                              -> RateLimitedError(retry_after)
    APIConnectionError, other transport errors, HTTP 5xx     -> BackendUnavailableError
    HTTP 401 / 403                                           -> ConfigurationError (API key)
    HTTP 404 naming a model                                  -> ConfigurationError (model)
    HTTP 4xx about the context length                        -> ContextTooLongError
    other HTTP 4xx, 5xx reporting a validation error,
    other openai errors                                      -> BackendError
    unparsable response bodies                               -> MalformedOutputError

Messages name the backend and its base URL and quote at most a short piece of
the server's own error message: never request bodies (they hold the prompt)
and never the API key (servers sometimes echo it back; ``secrets`` are masked).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx
import openai

from ..errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigurationError,
    ContextTooLongError,
    MalformedOutputError,
    RateLimitedError,
    SleeptimeError,
)

_DETAIL_CHARS = 200

# Phrases servers use for "the prompt does not fit" (OpenAI, vLLM, llama.cpp, SGLang, Ollama).
_CONTEXT_LENGTH = re.compile(
    r"context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long"
    r"|input is too long|exceeds? (the )?(model'?s? )?(max|context)",
    re.IGNORECASE,
)

_VALIDATION = re.compile(r"\bvalidation errors?\b", re.IGNORECASE)
_ECHOED_INPUT = re.compile(r"""['"]input['"]\s*:""")


def _http_error_types() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(time-out types, other transport types) of every HTTP client the SDK may use."""
    timeouts: list[type[Exception]] = [httpx.TimeoutException]
    transport: list[type[Exception]] = [httpx.TransportError]
    try:
        import httpx2
    except ImportError:  # openai < 3 is built on httpx itself
        pass
    else:
        timeouts.append(httpx2.TimeoutException)
        transport.append(httpx2.TransportError)
    return tuple(timeouts), tuple(transport)


_TIMEOUTS, _TRANSPORT = _http_error_types()


@contextmanager
def map_backend_errors(
    backend: str,
    *,
    base_url: str | None = None,
    model: str | None = None,
    secrets: Sequence[str] = (),
) -> Iterator[None]:
    """Translate SDK and HTTP exceptions raised inside the block (``raise ... from exc``).

    ``sleeptime`` errors and programmer errors (TypeError and friends) pass through.
    Errors raised while a response streams in are translated too, so wrap the
    iteration as well as the call that opens the stream.
    """
    try:
        yield
    except SleeptimeError:
        raise
    except openai.APIStatusError as exc:
        where = _where(backend, base_url, exc)
        raise _status_error(exc, where, model, secrets) from exc
    except openai.APITimeoutError as exc:
        raise BackendTimeoutError(f"{_where(backend, base_url, exc)} did not answer in time") from exc
    except openai.APIConnectionError as exc:
        raise BackendUnavailableError(f"could not reach {_where(backend, base_url, exc)}") from exc
    except openai.APIResponseValidationError as exc:
        raise MalformedOutputError(
            f"{_where(backend, base_url, exc)} sent a response that does not match the OpenAI schema"
        ) from exc
    except _TIMEOUTS as exc:
        raise BackendTimeoutError(f"{_where(backend, base_url, None)} did not answer in time") from exc
    except _TRANSPORT as exc:
        # Raised outside the SDK's request wrapper, e.g. a stream cut off half-way.
        raise BackendUnavailableError(
            f"the connection to {_where(backend, base_url, None)} failed: {type(exc).__name__}"
        ) from exc
    except json.JSONDecodeError as exc:
        raise MalformedOutputError(f"{_where(backend, base_url, None)} sent a body that is not JSON") from exc
    except openai.OpenAIError as exc:
        detail = _shorten(_mask(str(exc), secrets))
        raise BackendError(f"{_where(backend, base_url, None)} failed: {detail}") from exc


def _status_error(
    exc: openai.APIStatusError, where: str, model: str | None, secrets: Sequence[str]
) -> SleeptimeError:
    status = exc.status_code
    detail = _shorten(_mask(_server_detail(exc.body), secrets))
    said = f": {detail}" if detail else ""
    if status == 429:
        return RateLimitedError(
            f"{where} is rate limiting (HTTP 429){said}", retry_after=retry_after_s(exc.response.headers)
        )
    if status == 408:
        return BackendTimeoutError(f"{where} timed out the request (HTTP 408){said}")
    if status >= 500 and _VALIDATION.search(detail):
        # llama-cpp-python's server answers requests that fail validation with 500;
        # sending the same request again cannot help.
        return BackendError(f"{where} rejected the request (HTTP {status}){said}")
    if status >= 500:
        return BackendUnavailableError(f"{where} failed (HTTP {status}){said}")
    if status in (401, 403):
        return ConfigurationError(
            f"{where} refused the credentials (HTTP {status}){said}",
            hint="check the API key (SLEEPTIME_OPENAI_API_KEY) and that it may use this model",
        )
    if status == 404 and (exc.code == "model_not_found" or "model" in detail.lower()):
        name = repr(model) if model else "the requested model"
        return ConfigurationError(
            f"{where} does not serve {name} (HTTP 404){said}",
            hint="list the endpoint's models (GET /v1/models) and use one of them as openai:MODEL",
        )
    if status == 404:
        return BackendError(
            f"{where} has no such endpoint (HTTP 404){said}",
            hint="check the base URL; OpenAI-compatible servers usually serve it under /v1",
        )
    if exc.code == "context_length_exceeded" or _CONTEXT_LENGTH.search(detail):
        return ContextTooLongError(f"{where} says the prompt is too long (HTTP {status}){said}")
    return BackendError(f"{where} rejected the request (HTTP {status}){said}")


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date), if given."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _where(backend: str, base_url: str | None, exc: openai.APIError | None) -> str:
    if base_url is None and exc is not None:
        url = exc.request.url
        # Scheme, host and path only: query strings can carry credentials.
        base_url = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}"
    return f"{backend} backend at {base_url}" if base_url else f"{backend} backend"


def _server_detail(body: object) -> str:
    """The server's human-readable error message.

    Only message fields are read: FastAPI validation errors also carry an
    ``input`` field that echoes the request, prompt included.
    """
    text = ""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(error, str):
            text = error
        elif isinstance(body.get("message"), str):
            text = body["message"]
        elif isinstance(body.get("detail"), str):
            text = body["detail"]
        elif isinstance(body.get("detail"), list):
            text = "; ".join(
                f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg', '')}"
                for item in body["detail"]
                if isinstance(item, dict)
            )
    elif isinstance(body, str):
        text = body
    # Some servers (llama-cpp-python) put the validation error's repr, echoed input and
    # all, into the message itself: keep only what comes before the first echo.
    return _ECHOED_INPUT.split(text, maxsplit=1)[0]


def _mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _shorten(text: str) -> str:
    """One line of at most ``_DETAIL_CHARS``; applied after masking, so no secret is cut in half."""
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


__all__ = ["map_backend_errors", "retry_after_s"]
