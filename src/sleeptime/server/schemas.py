"""Request and response bodies: pydantic models whose descriptions feed the OpenAPI schema.

Requests refuse unknown fields (``extra="forbid"``) and loose types (``strict``: ``"0"``
or ``true`` is not an integer); text fields refuse what no store can keep (NUL, lone
surrogates) and, where the engine needs text, blank text, so such input is a 422, never
a 500. The JSON schema says so too (``pattern``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..answer import MAX_QUESTION_CHARS, Answer
from ..budget import Budget
from ..context import Context

MAX_METADATA_BYTES = 65_536
MAX_SEED = 2**31 - 1
MAX_OFFSET = 10**9


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def small_json(value: dict[str, Any]) -> dict[str, Any]:
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, RecursionError, UnicodeEncodeError):
        raise ValueError("metadata must be JSON (valid Unicode, no NaN)") from None
    if len(encoded) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is larger than {MAX_METADATA_BYTES:,} bytes")
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text must not be empty or only whitespace")
    return value


def not_blank_context(value: str) -> str:
    if not value.strip("\n\r\t "):  # what Context validation strips
        raise ValueError("text must not be empty or only spaces, tabs and newlines")
    return value


# JSON Schema patterns stating the same rules, for generated clients and fuzzers.
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
NOT_BLANK_CONTEXT = r"^[^\u0000]*[^\u0000\t\n\r ][^\u0000]*$"

Text = Annotated[str, AfterValidator(storable), Field(json_schema_extra={"pattern": NO_NUL})]
Question = Annotated[
    str, AfterValidator(storable), AfterValidator(not_blank), Field(json_schema_extra={"pattern": NOT_BLANK})
]
ContextText = Annotated[
    str,
    AfterValidator(storable),
    AfterValidator(not_blank_context),
    Field(json_schema_extra={"pattern": NOT_BLANK_CONTEXT}),
]
Metadata = Annotated[dict[str, Any], AfterValidator(small_json)]
Effort = Literal["low", "medium", "high"]


class Request(BaseModel):
    """Strict: ``"1"`` is not a number and ``1`` is not a boolean. Numbers follow JSON Schema,
    where ``2.0`` is the integer 2."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _json_integers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        whole = {
            name: int(value)
            for name, value in data.items()
            if isinstance(value, float) and value.is_integer() and name in _integer_fields(cls)
        }
        return {**data, **whole} if whole else data


def _integer_fields(model: type[BaseModel]) -> set[str]:
    return {
        name
        for name, info in model.model_fields.items()
        if info.annotation is int or int in get_args(info.annotation)
    }


# --- requests


class ContextCreate(Request):
    text: ContextText = Field(description="The context: the text questions will be asked about.")
    metadata: Metadata = Field(default_factory=dict, description="Any JSON object, kept with the context.")


class ContextReplace(Request):
    text: ContextText = Field(description="The new text: a new version of the context.")
    metadata: Metadata | None = Field(None, description="Replaces the metadata when given.")


class ContextAppend(Request):
    text: ContextText = Field(
        description="Text added at the end (a new version); the next sleep grows the learned context.",
    )


class AskBudget(Request):
    verbosity: int | None = Field(
        None, ge=0, le=4, description="0: one sentence from the notes .. 4: step by step."
    )
    n: int | None = Field(None, ge=1, le=8, description="Independent answers to sample.")
    max_tokens: int | None = Field(None, ge=1, le=131072, description="Most completion tokens per answer.")
    reasoning_effort: Effort | None = Field(None, description="For models that reason.")
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Sampling seed.")

    def to_budget(self) -> Budget:
        return Budget(**self.model_dump(exclude_none=True))


class SleepBudget(Request):
    rounds: int | None = Field(None, ge=1, le=20, description="Most rethink rounds.")
    k: int | None = Field(None, ge=1, le=16, description="Parallel learned contexts, joined at test time.")
    max_tokens: int | None = Field(None, ge=1, le=131072, description="Most completion tokens per round.")
    reasoning_effort: Effort | None = Field(None, description="For models that reason.")
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Sampling seed.")


class AskRequest(Request):
    question: Question = Field(max_length=MAX_QUESTION_CHARS, description="The question.")
    budget: AskBudget | None = Field(None, description="Test-time budget; unset fields use the server's.")
    baseline: bool = Field(False, description="Ignore the learned context (the test-time-only baseline).")
    escalate: AskBudget | None = Field(
        None, description="A larger budget, used when the cheap answer is not in the learned context."
    )


class SleepRequest(Request):
    budget: SleepBudget | None = Field(None, description="Sleep budget; unset fields use the server's.")
    wait: bool = Field(False, description="Wait for the run to finish (up to timeout_s) before answering.")
    timeout_s: float = Field(60.0, ge=0, le=600, description="How long `wait` waits.")
    dry_run: bool = Field(False, description="Only say what would run, and what it may cost.")


# --- responses


class RecordOut(BaseModel):
    """A response body read off a record (``of``): each field from the record's attribute of the
    same name, unless given as a keyword (a field neither has keeps its default). Nested records
    are read the same way (``from_attributes``: a ``Usage`` into ``UsageOut``); tuples become lists."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, record: Any, /, **given: Any) -> Self:
        names = [name for name in cls.model_fields if name not in given and hasattr(record, name)]
        return cls.model_validate({**{name: getattr(record, name) for name in names}, **given})


class UsageOut(RecordOut):
    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    calls: int
    total_tokens: int


class JobOut(RecordOut):
    id: str
    context_id: str
    version: int = Field(description="The context version the job sleeps on.")
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    reason: str = Field(description="created, changed, requested or retry.")
    due_at: datetime
    attempts: int
    max_attempts: int
    last_error: str | None
    run_id: str | None
    learned_context_id: str | None
    created_at: datetime | None
    updated_at: datetime | None
    finished_at: datetime | None


class ContextOut(RecordOut):
    id: str
    version: int
    metadata: dict[str, Any]
    chars: int
    created_at: datetime | None
    updated_at: datetime | None
    text: str | None = Field(None, description="The text (omitted in lists).")
    learned_context_id: str | None = Field(
        None, description="The newest learned context of the current version; null: answers use the raw text."
    )
    sleep_job: JobOut | None = Field(None, description="The queued or running sleep job, if any.")

    @classmethod
    def of(cls, context: Context, /, *, text: bool = True, **given: Any) -> Self:
        """``text=False``: without the text (lists)."""
        return super().of(context, chars=len(context.text), text=context.text if text else None, **given)


class ContextPage(BaseModel):
    data: list[ContextOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class AnswerOut(BaseModel):
    id: str | None
    context_id: str
    context_version: int
    question: str
    answer: str
    answers: list[str]
    source: Literal["learned", "raw"] = Field(
        description="What answered: the learned context or the raw text."
    )
    learned_context_id: str | None
    usage: UsageOut
    latency_s: float = Field(description="What the caller waited: from the request's arrival to the answer.")
    queue_wait_s: float | None = Field(None, description="Of latency_s, the time outside the model call.")
    time_to_first_token_s: float | None
    model: str
    budget: dict[str, Any]
    note: str
    escalated: bool = Field(False, description="Answered with the escalation budget.")
    created_at: datetime | None

    @classmethod
    def of(
        cls, answer: Answer, *, latency_s: float | None = None, queue_wait_s: float | None = None
    ) -> AnswerOut:
        data = answer.to_dict()  # the one serialisation of an Answer
        if latency_s is not None:
            data["latency_s"] = latency_s
        return cls.model_validate({**data, "queue_wait_s": queue_wait_s})


class QueryOut(RecordOut):
    id: str
    context_version: int
    question: str
    answer: str
    answers: list[str]
    source: Literal["learned", "raw"]
    learned_context_id: str | None
    usage: UsageOut
    latency_s: float = Field(description="What the caller waited (as the server measured it).")
    queue_wait_s: float | None = Field(description="Of latency_s, the time outside the model call.")
    model: str
    budget: dict[str, Any]
    created_at: datetime | None


class QueryPage(BaseModel):
    data: list[QueryOut]
    limit: int
    offset: int
    next_offset: int | None


class JobList(BaseModel):
    data: list[JobOut]
