"""Rows to records and records to row values. Pure functions, no I/O."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import RowMapping

from ..context import Context
from ..errors import InvalidInputError
from ..learned import LearnedContext
from ..llm.base import STORED_USAGE, Usage
from .base import QueryRecord, SleepRun

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


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


def record_from_row(record: type[R], row: RowMapping, **computed: Any) -> R:
    """A record (frozen dataclass) whose fields are the row's columns of the same names, times
    in UTC (``from_db_time``), its ``usage`` read from the usage columns. ``computed`` gives the
    other fields that no one column holds as is (tuples stored as JSON lists); a field without
    a column keeps its default. The inverse of ``record_values``."""
    values: dict[str, Any] = {}
    for item in dataclasses.fields(record):
        if item.name in computed:
            continue
        if item.name == "usage":
            values["usage"] = usage_from_row(row)
            continue
        if item.name not in row:
            continue
        value = row[item.name]
        values[item.name] = from_db_time(value) if isinstance(value, datetime) else value
    return record(**values, **computed)


def record_values(record: DataclassInstance, **computed: Any) -> dict[str, Any]:
    """The row of a record: each field in the column of the same name, its ``usage`` spread
    over the usage columns; ``computed`` gives the values to store otherwise (checked JSON,
    ids and times the store assigns). The inverse of ``record_from_row``."""
    values = {item.name: getattr(record, item.name) for item in dataclasses.fields(record)}
    usage = values.pop("usage")
    return {**values, **usage_values(usage), **computed}


def usage_values(usage: Usage) -> dict[str, int]:
    return usage.to_dict()


def usage_from_row(row: RowMapping) -> Usage:
    return Usage.from_dict({name: row[name] for name in STORED_USAGE})


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
    return record_from_row(SleepRun, row)


def _made_values(record: LearnedContext | QueryRecord, *, now: datetime, **computed: Any) -> dict[str, Any]:
    """``record_values`` of a record made from a context version: the id and creation time it
    carries, or the ones the store assigns (a new id, ``now``)."""
    return record_values(
        record, id=record.id or new_id(), created_at=to_utc(record.created_at or now), **computed
    )


def learned_values(learned: LearnedContext, *, now: datetime) -> dict[str, Any]:
    check_text(learned.text, "learned context text")
    return _made_values(
        learned,
        now=now,
        notes=check_json(list(learned.notes), "learned context notes"),
        duration_s=float(learned.duration_s),
        budget=check_json(learned.budget, "learned context budget"),
        rounds_used=[int(r) for r in learned.rounds_used],
        extra=check_json(learned.extra, "learned context extra"),
    )


def learned_from_row(row: RowMapping) -> LearnedContext:
    return record_from_row(
        LearnedContext, row, notes=tuple(row["notes"]), rounds_used=tuple(row["rounds_used"])
    )


def query_values(query: QueryRecord, *, now: datetime) -> dict[str, Any]:
    check_text(query.question, "question")
    check_text(query.answer, "answer")
    return _made_values(
        query,
        now=now,
        answers=check_json(list(query.answers), "answers"),
        latency_s=float(query.latency_s),
        queue_wait_s=None if query.queue_wait_s is None else float(query.queue_wait_s),
        budget=check_json(query.budget, "query budget"),
    )


def query_from_row(row: RowMapping) -> QueryRecord:
    return record_from_row(QueryRecord, row, answers=tuple(row["answers"]))
