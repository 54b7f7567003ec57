"""Bodies of the OpenAI-compatible endpoint: the fields of ``POST /v1/chat/completions`` that
sleeptime understands, plus two of its own (``context_id``, ``verbosity``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .schemas import MAX_SEED, Effort, Request, Text


class ContentPart(Request):
    type: Literal["text"] = Field(description="Only text parts are understood.")
    text: Text


class ChatMessage(Request):
    role: Literal["system", "developer", "user", "assistant"]
    content: Text | list[ContentPart] | None = None
    name: str | None = Field(None, max_length=64)

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(Request):
    include_usage: bool = Field(False, description="Send a last chunk with the usage.")


class ChatRequest(Request):
    model: str = Field(max_length=200, description="Echoed back; the server's answering model answers.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=512)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=131072)
    max_completion_tokens: int | None = Field(None, ge=1, le=131072)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    n: int | None = Field(None, ge=1, le=8)
    stop: str | list[str] | None = Field(None, description="Up to 4 stop sequences (without a context).")
    user: str | None = Field(None, max_length=256, description="Accepted and ignored.")
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0, description="Accepted and ignored.")
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0, description="Accepted and ignored.")
    reasoning_effort: Effort | None = None
    context_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="sleeptime: answer the last user message from this context's learned context "
        "(or send the header X-Sleeptime-Context).",
    )
    verbosity: int | None = Field(
        None, ge=0, le=4, description="sleeptime: test-time verbosity with a context."
    )

    @property
    def completion_tokens(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens

    def stops(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop[:4])
