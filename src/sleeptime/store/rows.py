"""Rows to records and records to row values. Pure functions, no I/O."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.engine import RowMapping

from ..context import Context
from ..errors import InvalidInputError
from ..learned import LearnedContext
from ..llm.base import Usage
from .base import QueryRecord, SleepRun

USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "reasoning_tokens", "calls")


def new_id(nbytes: int = 8) -> str:
    return secrets.token_hex(nbytes)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_utc(value: datetime) -> datetime:
    """What to bind: SQLite keeps only the wall-clock digits, so they must be UTC.
    A naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def from_db_time(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes (written as UTC, see to_utc); PostgreSQL returns
    # them in the session's time zone. Records always carry UTC.
    return None if value is None else to_utc(value)


def check_text(value: str, what: str) -> str:
    """Refuse what one of the two backends cannot store, so both behave alike.

    PostgreSQL rejects NUL in text, and lone surrogates cannot be encoded as UTF-8.
    """
    if "\x00" in value:
        raise InvalidInputError(f"{what} contains a NUL character (\\x00), which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{what} is not valid Unicode: {exc.reason}") from exc
    return value


def check_json(value: Any, what: str) -> Any:
    """``value`` as it will read back from the database (tuples become lists), or
    InvalidInputError when it is not JSON (NaN and infinities are not JSON either)."""
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
        encoded.encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} cannot be stored as JSON: {exc}") from exc
    return json.loads(encoded)


def usage_values(usage: Usage) -> dict[str, int]:
    return usage.to_dict()


def usage_from_row(row: RowMapping) -> Usage:
    return Usage.from_dict({name: row[name] for name in USAGE_FIELDS})


def context_from_row(ctx: RowMapping, version: RowMapping) -> Context:
    """A context at one version; ``updated_at`` is when that version was written,
    or the context's own ``updated_at`` (metadata changes) for the current version."""
    current = version["version"] == ctx["current_version"]
    return Context(
        id=ctx["id"],
        version=version["version"],
        text=version["text"],
        metadata=dict(ctx["metadata"]),
        created_at=from_db_time(ctx["created_at"]),
        updated_at=from_db_time(ctx["updated_at"] if current else version["created_at"]),
        tenant=ctx["tenant"],
    )


def run_from_row(row: RowMapping) -> SleepRun:
    return SleepRun(
        id=row["id"],
        context_id=row["context_id"],
        context_version=row["context_version"],
        key=row["key"],
        strategy=row["strategy"],
        model=row["model"],
        status=row["status"],
        budget=dict(row["budget"]),
        usage=usage_from_row(row),
        error=row["error"],
        learned_context_id=row["learned_context_id"],
        started_at=from_db_time(row["started_at"]),
        finished_at=from_db_time(row["finished_at"]),
    )


def learned_values(learned: LearnedContext, *, learned_id: str, created_at: datetime) -> dict[str, Any]:
    check_text(learned.text, "learned context text")
    return {
        "id": learned_id,
        "context_id": learned.context_id,
        "context_version": learned.context_version,
        "key": learned.key,
        "text": learned.text,
        "notes": check_json(list(learned.notes), "learned context notes"),
        **usage_values(learned.usage),
        "duration_s": float(learned.duration_s),
        "model": learned.model,
        "strategy": learned.strategy,
        "budget": check_json(learned.budget, "learned context budget"),
        "rounds_used": [int(r) for r in learned.rounds_used],
        "based_on": learned.based_on,
        "extra": check_json(learned.extra, "learned context extra"),
        "created_at": created_at,
    }


def learned_from_row(row: RowMapping) -> LearnedContext:
    return LearnedContext(
        id=row["id"],
        context_id=row["context_id"],
        context_version=row["context_version"],
        text=row["text"],
        notes=tuple(row["notes"]),
        usage=usage_from_row(row),
        duration_s=row["duration_s"],
        model=row["model"],
        strategy=row["strategy"],
        budget=dict(row["budget"]),
        key=row["key"],
        rounds_used=tuple(row["rounds_used"]),
        created_at=from_db_time(row["created_at"]),
        based_on=row["based_on"],
        extra=dict(row["extra"]),
    )


def query_values(query: QueryRecord, *, query_id: str, created_at: datetime) -> dict[str, Any]:
    check_text(query.question, "question")
    check_text(query.answer, "answer")
    return {
        "id": query_id,
        "context_id": query.context_id,
        "context_version": query.context_version,
        "question": query.question,
        "answer": query.answer,
        "answers": check_json(list(query.answers), "answers"),
        **usage_values(query.usage),
        "latency_s": float(query.latency_s),
        "queue_wait_s": None if query.queue_wait_s is None else float(query.queue_wait_s),
        "model": query.model,
        "source": query.source,
        "learned_context_id": query.learned_context_id,
        "budget": check_json(query.budget, "query budget"),
        "created_at": created_at,
    }


def query_from_row(row: RowMapping) -> QueryRecord:
    return QueryRecord(
        id=row["id"],
        context_id=row["context_id"],
        context_version=row["context_version"],
        question=row["question"],
        answer=row["answer"],
        usage=usage_from_row(row),
        latency_s=row["latency_s"],
        model=row["model"],
        source=row["source"],
        learned_context_id=row["learned_context_id"],
        budget=dict(row["budget"]),
        answers=tuple(row["answers"]),
        created_at=from_db_time(row["created_at"]),
        queue_wait_s=row["queue_wait_s"],
    )
