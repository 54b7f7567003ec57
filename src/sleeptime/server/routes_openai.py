"""An OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``.

A request that names a context (header ``X-Sleeptime-Context`` or ``context_id``
in the body) is a question about it: the last user message is answered like
``POST /contexts/{id}/ask`` (from the learned context if there is one, and
recorded as a query); the other messages are not used. Without a context the
messages go to the answering model as they are. ``stream: true`` sends
``chat.completion.chunk`` events and ``data: [DONE]``, as OpenAI does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from ..budget import Budget
from ..engine import Engine
from ..errors import NotFoundError, SleeptimeError
from ..llm.base import LLM, Message, SamplingParams, StreamingLLM, Usage
from . import quotas
from .auth import Tenant
from .deps import EngineDep, SchedulerDep, SettingsDep
from .errors import ParamError, error_body, status_of
from .routes_contexts import check_answer_tokens
from .schemas_openai import ChatRequest

log = logging.getLogger(__name__)
router = APIRouter(tags=["openai"])

Emit = Callable[[dict[str, Any]], None]
ContextHeader = Annotated[
    str | None,
    Header(
        alias="X-Sleeptime-Context",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Answer from this context's learned context.",
    ),
]


def _model_ids(engine: Engine) -> list[str]:
    names = [engine.model.name, engine.sleep_model.name]
    return list(dict.fromkeys(names))


def _model_card(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "sleeptime"}


@router.get("/v1/models", summary="Models (OpenAI-compatible)")
def list_models(_: Tenant, engine: EngineDep) -> dict[str, Any]:
    """The answering model (and the sleep model, if different)."""
    return {"object": "list", "data": [_model_card(n) for n in _model_ids(engine)]}


@router.get("/v1/models/{model_id:path}", summary="One model (OpenAI-compatible)")
def get_model(model_id: str, _: Tenant, engine: EngineDep) -> dict[str, Any]:
    if model_id not in _model_ids(engine):
        raise NotFoundError(f"no model {model_id!r}", hint="GET /v1/models lists them")
    return _model_card(model_id)


@router.post("/v1/chat/completions", summary="Chat completions (OpenAI-compatible)", response_model=None)
def chat_completions(
    body: ChatRequest,
    request: Request,
    tenant: Tenant,
    engine: EngineDep,
    scheduler: SchedulerDep,
    settings: SettingsDep,
    context_header: ContextHeader = None,
) -> dict[str, Any] | StreamingResponse:
    """With a context: ``T_b(q, c') -> a`` for the last user message. Without: the model itself."""
    if context_header and body.context_id and context_header != body.context_id:
        raise ParamError(
            "the X-Sleeptime-Context header and context_id name different contexts", param="context_id"
        )
    context_id = context_header or body.context_id
    check_answer_tokens(body.completion_tokens, settings)
    param = "max_completion_tokens" if body.max_completion_tokens is not None else "max_tokens"
    cost = quotas.ask_tokens(engine, Budget(n=body.n, max_tokens=body.completion_tokens))
    quotas.check_ask(quotas.quota_of(request), tenant, cost, param)
    if body.stream and (body.n or 1) > 1:
        raise ParamError("stream with n > 1 is not supported", param="n")
    reply = _Reply(body.model)
    if context_id is not None:
        engine.get_context(context_id, tenant=tenant)
        question = _last_user_message(body)
        budget = Budget(
            verbosity=body.verbosity,
            n=body.n,
            max_tokens=body.completion_tokens,
            temperature=body.temperature,
            seed=body.seed,
            reasoning_effort=body.reasoning_effort,
        )

        def produce_answer(emit: Emit | None) -> dict[str, Any]:
            with scheduler.gate.query():
                result = _answer(engine, context_id, question, budget, tenant, reply, emit)
            scheduler.context_queried(context_id)
            return result

        produce = produce_answer
    else:
        messages = _messages(body)
        params = SamplingParams(
            max_tokens=body.completion_tokens or engine.resolve_ask_budget(None).max_tokens,
            temperature=body.temperature if body.temperature is not None else 0.0,
            top_p=body.top_p if body.top_p is not None else 1.0,
            seed=body.seed if body.seed is not None else 0,
            n=body.n or 1,
            stop=body.stops(),
            reasoning_effort=body.reasoning_effort,
        )

        def produce_plain(emit: Emit | None) -> dict[str, Any]:
            with scheduler.gate.query():
                return _plain(engine.model, messages, params, reply, emit)

        produce = produce_plain
    if not body.stream:
        return produce(None)
    include_usage = body.stream_options is not None and body.stream_options.include_usage
    return _sse(lambda emit: reply.stream_usage(emit, produce(emit), include_usage))


def _last_user_message(body: ChatRequest) -> str:
    for message in reversed(body.messages):
        if message.role == "user" and message.text().strip():
            return message.text()
    raise ParamError(
        "no user message to answer", param="messages", hint="the last user message is the question"
    )


def _messages(body: ChatRequest) -> list[Message]:
    out: list[Message] = []
    for m in body.messages:
        role = "system" if m.role == "developer" else m.role
        out.append({"role": role, "content": m.text()})
    return out


class _Reply:
    """Builds ``chat.completion`` bodies and chunks for one request."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self.model = model

    def completion(self, model: str, texts: tuple[str, ...], usage: Usage, **extra: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": model,
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": t},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
                for i, t in enumerate(texts)
            ],
            "usage": _usage(usage),
            **extra,
        }

    def chunk(
        self, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }

    def stream_text(self, emit: Emit, model: str, pieces: Iterator[str], **extra: Any) -> str:
        emit(self.chunk(model, {"role": "assistant", "content": ""}, **extra))
        text = []
        for piece in pieces:
            text.append(piece)
            emit(self.chunk(model, {"content": piece}))
        emit(self.chunk(model, {}, "stop"))
        return "".join(text)

    def stream_usage(self, emit: Emit, result: dict[str, Any], include_usage: bool) -> None:
        if include_usage:
            emit({**self.chunk(result["model"], {}), "choices": [], "usage": result["usage"]})


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _plain(
    llm: LLM, messages: list[Message], params: SamplingParams, reply: _Reply, emit: Emit | None
) -> dict[str, Any]:
    """The messages to the model as they are."""
    if emit is None or not isinstance(llm, StreamingLLM):
        completion = llm.complete(messages, params)
        if emit is not None:
            reply.stream_text(emit, completion.model, iter([completion.text]))
        return reply.completion(completion.model, completion.texts, completion.usage)
    text = reply.stream_text(emit, llm.name, llm.stream(messages, params))
    usage = Usage(sum(llm.count_tokens(m["content"]) for m in messages), llm.count_tokens(text), 0, 1)
    return {"model": llm.name, "usage": _usage(usage)}


def _answer(
    engine: Engine,
    context_id: str,
    question: str,
    budget: Budget,
    tenant: str,
    reply: _Reply,
    emit: Emit | None,
) -> dict[str, Any]:
    """The question about a context: ``Engine.ask``, or ``Engine.ask_stream`` when streaming."""
    if emit is None:
        answer = engine.ask(context_id, question, budget, tenant=tenant)
        extra = _extension(
            answer.source, answer.learned_context_id, answer.context_version, answer.id, answer.note
        )
        return reply.completion(answer.model, answer.texts or (answer.text,), answer.usage, sleeptime=extra)
    stream = engine.ask_stream(context_id, question, budget, tenant=tenant)
    with stream:  # closed in this thread: an embedded model is released by the thread that took it
        extra = _extension(
            stream.source, stream.learned_context_id, stream.context_version, stream.id, stream.note
        )
        reply.stream_text(emit, stream.model, iter(stream), sleeptime=extra)
    answer = stream.answer
    return {"model": answer.model, "usage": _usage(answer.usage)}


def _extension(
    source: str, learned_id: str | None, version: int, query_id: str | None, note: str
) -> dict[str, Any]:
    return {
        "source": source,
        "learned_context_id": learned_id,
        "context_version": version,
        "query_id": query_id,
        "note": note,
    }


class _ClientGone(Exception):
    pass


def _sse(produce: Callable[[Emit], None]) -> StreamingResponse:
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
