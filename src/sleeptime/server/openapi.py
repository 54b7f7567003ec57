"""The OpenAPI document tells the whole truth, so generated clients and fuzzers agree with
the server: every status a route can answer (with the error body and headers), and the
limits of this server (``max_answer_tokens``, ``max_context_chars``) as schema maxima.

FastAPI documents only the success status and 422; the rest is added here, in one table
that docs/server.md repeats.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ..settings import Settings

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message", "hint"],
            "properties": {
                "type": {"type": "string", "description": "invalid_request, unauthorized, not_found, ..."},
                "message": {"type": "string"},
                "hint": {"type": "string", "description": "How to fix it (may be empty)."},
            },
        }
    },
}
# The /v1 routes answer in OpenAI's error shape, plus sleeptime's hint.
OPENAI_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"], "description": "The request field at fault."},
                "code": {"type": ["string", "null"]},
                "hint": {"type": "string"},
            },
        }
    },
}

WHY = {
    400: "Input the server refuses (e.g. max_tokens over a limit, an unknown budget field's value), "
    "an unparseable body, or a malformed Authorization header.",
    401: "No API key where one is needed, or an unknown or revoked key.",
    404: "No such id, or another tenant's.",
    409: "A request with this Idempotency-Key is still being answered (Retry-After says when to retry).",
    413: "A body over max_request_bytes, a text over max_context_chars, or too long for the model's window.",
    422: "The request does not match this schema, or its Idempotency-Key was used for another request.",
    429: "A quota of the key's tenant or a token budget is spent (Retry-After says when to retry).",
    502: "The model failed or answered unusably.",
    503: "The model, its endpoint or the database is unavailable.",
    504: "The model did not answer in time.",
}
HEADERS: dict[int, dict[str, Any]] = {
    400: {"WWW-Authenticate": {"description": 'Bearer error="invalid_request" for a malformed header.'}},
    401: {
        "WWW-Authenticate": {
            "required": True,
            "description": 'Bearer, or Bearer error="invalid_token" for an unknown key (RFC 6750).',
        }
    },
    409: {"Retry-After": {"description": "Seconds to wait before retrying."}},
    429: {"Retry-After": {"description": "Seconds until the quota has room again."}},
}
MODEL_CALLS = {("post", "/contexts/{context_id}/ask"), ("post", "/v1/chat/completions")}
STORES_TEXT = {
    ("post", "/contexts"),
    ("put", "/contexts/{context_id}"),
    ("post", "/contexts/{context_id}/append"),
}
UNAUTHENTICATED = {"/healthz"}


def statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer."""
    if path in UNAUTHENTICATED:
        return set()
    codes = {400, 401, 429, 503}
    if operation.get("parameters") or "requestBody" in operation:
        codes.add(422)
    if "requestBody" in operation:
        codes.add(413)
    if method == "post":
        codes |= {409, 422}  # Idempotency-Key (docs/server.md)
    if "{" in path:
        codes.add(404)
    if (method, path) in MODEL_CALLS:
        codes |= {404, 413, 502, 504}  # the chat route may name a context too
    if (method, path) in STORES_TEXT:
        codes.add(413)
    return codes


def _response(status: int, openai: bool) -> dict[str, Any]:
    ref = "#/components/schemas/" + ("OpenAIError" if openai else "Error")
    response: dict[str, Any] = {
        "description": WHY[status],
        "content": {"application/json": {"schema": {"$ref": ref}}},
    }
    for name, header in HEADERS.get(status, {}).items():
        header = {**header, "schema": {"type": "integer" if name == "Retry-After" else "string"}}
        response.setdefault("headers", {})[name] = header
    return response


def _set_maximum(schema: dict[str, Any], model: str, field: str, key: str, value: int) -> None:
    prop = schema["components"]["schemas"].get(model, {}).get("properties", {}).get(field)
    if prop is None:
        return
    for option in prop.get("anyOf", [prop]):
        if option.get("type") in ("integer", "string"):
            option[key] = value


def complete(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``schema`` with every error response and this server's limits."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"], components["OpenAIError"] = ERROR, OPENAI_ERROR
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                # A database that never had a key needs none (single-user mode, docs/server.md).
                operation["security"] = [*operation["security"], {}]
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses(method, path, operation)):
                responses[str(status)] = _response(status, path.startswith("/v1/"))
    for model, field in [
        ("AskBudget", "max_tokens"),
        ("ChatRequest", "max_tokens"),
        ("ChatRequest", "max_completion_tokens"),
    ]:
        _set_maximum(schema, model, field, "maximum", settings.max_answer_tokens)
    for model in ("ContextCreate", "ContextReplace", "ContextAppend"):
        _set_maximum(schema, model, "text", "maxLength", settings.max_context_chars)
    return schema


def install(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` return the completed document."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(plain(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
