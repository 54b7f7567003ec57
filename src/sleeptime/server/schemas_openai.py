"""Bodies of the OpenAI-compatible endpoint: every field of OpenAI's Chat Completions
request, so that SDKs and LangChain work unchanged, plus sleeptime's ``context_id``.

What each field does here (honoured, ignored, or refused with a 400 naming it) is
decided in ``openai_params.py`` and listed in docs/server.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from .schemas import MAX_SEED, Request, Text

OpenAIEffort = Literal["none", "minimal", "low", "medium", "high"]


class ContentPart(Request):
    type: Literal["text", "refusal", "image_url", "input_audio", "file"] = Field(
        description="Only text (and refusal) parts can be answered; others are refused with a 400."
    )
    text: Text | None = None
    refusal: Text | None = None
    image_url: dict[str, Any] | None = None
    input_audio: dict[str, Any] | None = None
    file: dict[str, Any] | None = None

    def as_text(self) -> str:
        return self.text or self.refusal or ""


class ChatMessage(Request):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Text | list[ContentPart] | None = None
    name: str | None = Field(None, max_length=256)
    tool_calls: list[dict[str, Any]] | None = Field(None, description="Kept in the history as sent.")
    tool_call_id: str | None = Field(None, max_length=256)
    function_call: dict[str, Any] | None = None
    refusal: Text | None = None
    audio: dict[str, Any] | None = None

    def text(self) -> str:
        if self.content is None:
            return self.refusal or ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.as_text() for part in self.content)


class StreamOptions(Request):
    include_usage: bool = Field(False, description="Send a last chunk with the usage.")
    include_obfuscation: bool | None = Field(None, description="Accepted and ignored.")


class JsonSchemaFormat(Request):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    name: str = Field(max_length=64)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema", description="The JSON Schema to follow.")
    strict: bool | None = None


class ResponseFormat(Request):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


Stop = Text | Annotated[list[Text], Field(max_length=4)]


class ChatRequest(Request):
    model: str = Field(
        max_length=200,
        description="Any name: the server's answering model answers (and is named in the reply).",
    )
    messages: list[ChatMessage] = Field(min_length=1, max_length=512)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(
        None, ge=1, le=131072, description="Deprecated name of max_completion_tokens."
    )
    max_completion_tokens: int | None = Field(None, ge=1, le=131072)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    n: int | None = Field(None, ge=1, le=8)
    stop: Stop | None = Field(None, description="Up to 4 sequences; the text ends before the first one.")
    response_format: ResponseFormat | None = None
    logprobs: bool | None = Field(None, description="true is refused: no log probabilities are returned.")
    top_logprobs: int | None = Field(None, ge=0, le=20)
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0, description="0 only.")
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0, description="0 only.")
    logit_bias: dict[str, float] | None = Field(None, description="Empty only.")
    tools: list[dict[str, Any]] | None = Field(
        None, description="Accepted; answers are text, never tool calls."
    )
    tool_choice: str | dict[str, Any] | None = Field(None, description="none or auto; others are refused.")
    parallel_tool_calls: bool | None = None
    functions: list[dict[str, Any]] | None = Field(None, description="Deprecated tools: answered as text.")
    function_call: str | dict[str, Any] | None = Field(None, description="none or auto; others are refused.")
    reasoning_effort: OpenAIEffort | None = None
    verbosity: int | Literal["low", "medium", "high"] | None = Field(
        None,
        description="sleeptime's answer verbosity 0-4 with a context (OpenAI's low, medium, high: 0, 2, 4).",
    )
    user: str | None = Field(None, max_length=256, description="Accepted and ignored.")
    safety_identifier: str | None = Field(None, max_length=256, description="Accepted and ignored.")
    prompt_cache_key: str | None = Field(None, max_length=256, description="Accepted and ignored.")
    metadata: dict[str, str] | None = Field(None, description="Accepted and ignored.")
    store: bool | None = Field(
        None, description="Accepted and ignored (questions about a context are always recorded)."
    )
    service_tier: str | None = Field(None, max_length=64, description="Accepted and ignored.")
    modalities: list[Literal["text", "audio"]] | None = Field(None, description="text only.")
    audio: dict[str, Any] | None = Field(None, description="Refused: no audio output.")
    prediction: dict[str, Any] | None = Field(None, description="Accepted and ignored.")
    web_search_options: dict[str, Any] | None = Field(None, description="Refused: no web search.")
    context_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="sleeptime: answer the last user message from this context's learned context "
        "(or send the header X-Sleeptime-Context).",
    )

    @property
    def completion_tokens(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens

    def stops(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return tuple(s for s in ((self.stop,) if isinstance(self.stop, str) else self.stop) if s)
