"""An OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``.

A request that names a context (header ``X-Sleeptime-Context`` or ``context_id``
in the body) is a question about it: the last user message is answered like
``POST /contexts/{id}/ask`` (from the learned context if there is one, and
recorded as a query); the other messages are not used. Without a context the
messages go to the answering model as they are. ``stream: true`` sends
``chat.completion.chunk`` events and ``data: [DONE]``, as OpenAI does. Which
request fields are honoured, ignored or refused: ``openai_params.py``.

The reply's ``model`` is the model that answered (as OpenAI names the snapshot
that served a request), whatever name the request gave.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from ..engine import Engine
from ..errors import NotFoundError
from ..llm.base import LLM, Completion, Message, SamplingParams, StreamingLLM, Usage
from . import latency, openai_params, quotas
from .auth import Tenant
from .deps import EngineDep, SchedulerDep, SettingsDep
from .errors import ParamError
from .schemas_openai import ChatRequest
from .sse import Emit, sse

router = APIRouter(tags=["openai"])

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
    started = latency.received_at(request)
    if context_header and body.context_id and context_header != body.context_id:
        raise ParamError(
            "the X-Sleeptime-Context header and context_id name different contexts", param="context_id"
        )
    context_id = context_header or body.context_id
    openai_params.check_supported(body, with_context=context_id is not None)
    param = "max_completion_tokens" if body.max_completion_tokens is not None else "max_tokens"
    if body.completion_tokens is not None and body.completion_tokens > settings.max_answer_tokens:
        raise ParamError(
            f"{param} {body.completion_tokens:,} is over this server's limit of "
            f"{settings.max_answer_tokens:,}",
            param=param,
        )
    budget = openai_params.budget(body)
    quotas.check_ask(quotas.quota_of(request), tenant, quotas.ask_tokens(engine, budget), param)
    reply = _Reply(started, body.stops())
    if context_id is not None:
        engine.get_context(context_id, tenant=tenant)
        question = _last_user_message(body)
        max_tokens = engine.resolve_ask_budget(budget).max_tokens

        def produce_answer(emit: Emit | None) -> dict[str, Any]:
            with scheduler.gate.query():
                result = _answer(engine, context_id, question, budget, tenant, reply, emit, max_tokens)
            scheduler.context_queried(context_id)
            return result

        produce = produce_answer
    else:
        messages = openai_params.messages(body)
        # The client's own messages, not a terse answer prompt: the most generous verbosity's default.
        params = openai_params.sampling(body, engine.resolve_ask_budget({"verbosity": 4}).max_tokens)

        def produce_plain(emit: Emit | None) -> dict[str, Any]:
            with scheduler.gate.query():
                return _plain(engine.model, messages, params, reply, emit)

        produce = produce_plain
    if not body.stream:
        return produce(None)
    include_usage = body.stream_options is not None and body.stream_options.include_usage
    return sse(lambda emit: reply.stream_usage(emit, produce(emit), include_usage))


def _last_user_message(body: ChatRequest) -> str:
    for message in reversed(body.messages):
        if message.role == "user" and message.text().strip():
            return message.text()
    raise ParamError(
        "no user message to answer", param="messages", hint="the last user message is the question"
    )


class _Reply:
    """Builds ``chat.completion`` bodies and chunks for one request."""

    def __init__(self, started: float, stops: tuple[str, ...]) -> None:
        self.id = f"chatcmpl-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self.started = started
        self.stops = stops

    def completion(
        self, completion: Completion, texts: tuple[str, ...] | None = None, **extra: Any
    ) -> dict[str, Any]:
        choices = []
        for i, text in enumerate(texts if texts is not None else completion.texts):
            reported = completion.finish_reasons[i] if i < len(completion.finish_reasons) else "stop"
            cut, stopped = openai_params.cut_at_stop(text, self.stops)
            choices.append(
                {
                    "index": i,
                    "message": {"role": "assistant", "content": cut, "refusal": None},
                    "finish_reason": "stop" if stopped else ("length" if reported == "length" else "stop"),
                    "logprobs": None,
                }
            )
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": completion.model,
            "choices": choices,
            "usage": _usage(completion.usage),
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

    def stream_text(self, emit: Emit, model: str, pieces: Iterator[str], **extra: Any) -> bool:
        """Send the pieces (up to a stop sequence); whether a stop sequence ended them."""
        emit(self.chunk(model, {"role": "assistant", "content": ""}, **extra))
        stopped = [False]
        for piece in openai_params.until_stop(pieces, self.stops, stopped):
            emit(self.chunk(model, {"content": piece}))
        return stopped[0]

    def stream_end(self, emit: Emit, model: str, finish: str, **extra: Any) -> None:
        emit(self.chunk(model, {}, finish, **extra))

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
    if emit is None or not isinstance(llm, StreamingLLM) or params.json_schema is not None:
        completion = llm.complete(messages, params)
        if emit is None:
            return reply.completion(completion)
        stopped = reply.stream_text(emit, completion.model, iter([completion.text]))
        reason = completion.finish_reasons[0] if completion.finish_reasons else "stop"
        reply.stream_end(emit, completion.model, "stop" if stopped or reason != "length" else "length")
        return {"model": completion.model, "usage": _usage(completion.usage)}
    parts: list[str] = []

    def collect() -> Iterator[str]:
        for piece in llm.stream(messages, params):
            parts.append(piece)
            yield piece

    stopped = reply.stream_text(emit, llm.name, collect())
    text = "".join(parts)
    usage = Usage(sum(llm.count_tokens(m["content"]) for m in messages), llm.count_tokens(text), 0, 1)
    finish = openai_params.finish_reason(None, usage.completion_tokens, params.max_tokens, stopped=stopped)
    reply.stream_end(emit, llm.name, finish)
    return {"model": llm.name, "usage": _usage(usage)}


def _answer(
    engine: Engine,
    context_id: str,
    question: str,
    budget: Any,
    tenant: str,
    reply: _Reply,
    emit: Emit | None,
    max_tokens: int,
) -> dict[str, Any]:
    """The question about a context: ``Engine.ask``, or ``Engine.ask_stream`` when streaming."""
    if emit is None:
        answer = engine.ask(context_id, question, budget, tenant=tenant)
        completion = Completion(
            answer.texts or (answer.text,),
            answer.usage,
            answer.model,
            answer.latency_s,
            None,
            answer.finish_reasons,
        )
        extra = _extension(
            answer.source, answer.learned_context_id, answer.context_version, answer.id, answer.note
        )
        seen, wait = latency.record(engine, answer.id, reply.started, answer.latency_s)
        return reply.completion(completion, sleeptime={**extra, "latency_s": seen, "queue_wait_s": wait})
    stream = engine.ask_stream(context_id, question, budget, tenant=tenant)
    with stream:  # closed in this thread: an embedded model is released by the thread that took it
        extra = _extension(
            stream.source, stream.learned_context_id, stream.context_version, stream.id, stream.note
        )
        stopped = reply.stream_text(emit, stream.model, iter(stream), sleeptime=extra)
    answer = stream.answer
    finish = openai_params.finish_reason(
        answer.finish_reasons[0] if answer.finish_reasons else None,
        answer.usage.completion_tokens,
        max_tokens,
        stopped=stopped,
    )
    seen, wait = latency.record(engine, answer.id, reply.started, answer.latency_s)
    reply.stream_end(emit, answer.model, finish, sleeptime={"latency_s": seen, "queue_wait_s": wait})
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
