"""What the OpenAI-compatible endpoint does with each Chat Completions field.

- Honoured: ``messages``, ``max_completion_tokens`` (and its old name ``max_tokens``),
  ``temperature``, ``top_p`` (without a context), ``seed``, ``n``, ``stop``,
  ``response_format`` (``json_object`` / ``json_schema``, without a context: the
  backend constrains the output to the schema), ``stream`` and
  ``stream_options.include_usage``, ``reasoning_effort``, ``verbosity``.
- Answered as text: ``tools`` / ``functions`` with ``tool_choice`` / ``function_call``
  unset, ``"auto"`` or ``"none"``; the model never calls a tool. ``tool`` and
  ``function`` messages reach the model as user messages.
- Ignored, as harmless: ``user``, ``safety_identifier``, ``prompt_cache_key``,
  ``metadata``, ``store``, ``service_tier``, ``parallel_tool_calls``, ``prediction``,
  ``stream_options.include_obfuscation``, ``logprobs: false``, zero penalties, an
  empty ``logit_bias``, ``modalities: ["text"]``.
- Refused with a 400 naming the field: anything else the models here cannot do
  (``logprobs: true``, penalties, a logit bias, forced tool calls, audio, images,
  web search, ``stream`` with ``n > 1``, and with a context ``top_p`` or
  ``response_format``, since the answer prompt is sleeptime's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..budget import Budget
from ..llm.base import Message, ReasoningEffort, Role, SamplingParams
from .errors import ParamError
from .schemas_openai import ChatRequest

VERBOSITY = {"low": 0, "medium": 2, "high": 4}
EFFORT: dict[str, ReasoningEffort | None] = {
    "none": None,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
}
TEXT_TOOL_CHOICES = (None, "none", "auto")
ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "user",
    "function": "user",
}


def check_supported(body: ChatRequest, *, with_context: bool) -> None:
    """Refuse (400, naming the field) what cannot be honoured."""
    refusals: list[tuple[bool, str, str]] = [
        (bool(body.logprobs), "logprobs", "log probabilities are not returned by this server"),
        (bool(body.top_logprobs), "top_logprobs", "log probabilities are not returned by this server"),
        (bool(body.frequency_penalty), "frequency_penalty", "penalties are not supported; send 0 or omit it"),
        (bool(body.presence_penalty), "presence_penalty", "penalties are not supported; send 0 or omit it"),
        (bool(body.logit_bias), "logit_bias", "a logit bias is not supported; omit it"),
        (
            body.tool_choice not in TEXT_TOOL_CHOICES,
            "tool_choice",
            "the models here answer in text and call no tool",
        ),
        (
            body.function_call not in TEXT_TOOL_CHOICES,
            "function_call",
            "the models here answer in text and call no function",
        ),
        (body.audio is not None or "audio" in (body.modalities or ()), "modalities", "no audio output"),
        (body.web_search_options is not None, "web_search_options", "no web search"),
        (bool(body.stream) and (body.n or 1) > 1, "n", "stream with n > 1 is not supported"),
    ]
    if with_context:
        refusals += [
            (body.top_p is not None and body.top_p != 1.0, "top_p", "top_p is not supported with a context"),
            (
                body.response_format is not None and body.response_format.type != "text",
                "response_format",
                "with a context the answer follows sleeptime's answer prompt; structured output "
                "is available without a context",
            ),
        ]
    for refused, param, why in refusals:
        if refused:
            raise ParamError(f"{param}: {why}", param=param)
    for i, message in enumerate(body.messages):
        if isinstance(message.content, list):
            for j, part in enumerate(message.content):
                if part.type not in ("text", "refusal"):
                    raise ParamError(
                        f"messages.{i}.content.{j}: {part.type} parts are not supported (text only)",
                        param=f"messages.{i}.content",
                    )


def json_schema(body: ChatRequest) -> dict[str, Any] | None:
    """The schema the output must follow, for ``response_format``."""
    fmt = body.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object"}
    if fmt.json_schema is None or fmt.json_schema.schema_ is None:
        raise ParamError(
            "response_format.json_schema.schema is required for json_schema", param="response_format"
        )
    return fmt.json_schema.schema_


def messages(body: ChatRequest) -> list[Message]:
    """The messages as the model takes them: developer ones as system, tool and function
    results as user messages."""
    return [{"role": ROLES[m.role], "content": m.text()} for m in body.messages]


def sampling(body: ChatRequest, default_max_tokens: int) -> SamplingParams:
    """Sampling for the messages as they are (no context)."""
    return SamplingParams(
        max_tokens=body.completion_tokens or default_max_tokens,
        temperature=body.temperature if body.temperature is not None else 0.0,
        top_p=body.top_p if body.top_p is not None else 1.0,
        seed=body.seed if body.seed is not None else 0,
        n=body.n or 1,
        stop=body.stops(),
        reasoning_effort=effort(body),
        json_schema=json_schema(body),
    )


def budget(body: ChatRequest) -> Budget:
    """The test-time budget of a question about a context."""
    verbosity = VERBOSITY[body.verbosity] if isinstance(body.verbosity, str) else body.verbosity
    return Budget(
        verbosity=verbosity,
        n=body.n,
        max_tokens=body.completion_tokens,
        temperature=body.temperature,
        seed=body.seed,
        reasoning_effort=effort(body),
    )


def effort(body: ChatRequest) -> ReasoningEffort | None:
    return EFFORT[body.reasoning_effort] if body.reasoning_effort is not None else None


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """``text`` up to the first stop sequence; whether one was found."""
    found = [text.index(s) for s in stops if s in text]
    return (text[: min(found)], True) if found else (text, False)


def until_stop(pieces: Iterator[str], stops: tuple[str, ...], seen: list[bool]) -> Iterator[str]:
    """The pieces up to the first stop sequence (which may span pieces). The rest is
    read but not sent, so that the answer is still recorded; ``seen[0]`` says whether
    a stop sequence ended it."""
    if not stops:
        yield from pieces
        return
    hold = max(len(s) for s in stops) - 1
    pending, done = "", False
    for piece in pieces:
        if done:
            continue
        pending += piece
        text, cut = cut_at_stop(pending, stops)
        if cut:
            done, seen[0] = True, True
            if text:
                yield text
            continue
        if len(pending) > hold:
            out, pending = pending[: len(pending) - hold], pending[len(pending) - hold :] if hold else ""
            yield out
    if pending and not done:
        yield pending


def finish_reason(reported: str | None, completion_tokens: int, max_tokens: int, *, stopped: bool) -> str:
    """OpenAI's finish_reason: "length" when max_tokens cut the answer, else "stop".
    Streams report no reason, so the token count decides there."""
    if stopped:
        return "stop"
    if reported == "length" or completion_tokens >= max_tokens:
        return "length"
    return "stop"
