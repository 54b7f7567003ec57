"""A persistent context ``c``: the text queries will be asked about, with versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import InvalidInputError

# A context is data for a prompt, not a file store: refuse the absurd early, before
# the model's window (checked per model in the engine) is even consulted.
MAX_CONTEXT_CHARS = 2_000_000


@dataclass(frozen=True)
class Context:
    id: str
    version: int
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tenant: str = "default"

    @property
    def sha256(self) -> str:
        return text_digest(self.text)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate_context_text(text: object) -> str:
    """The text, stripped of surrounding blank lines, or InvalidInputError."""
    if not isinstance(text, str):
        raise InvalidInputError(f"context text must be a string, not {type(text).__name__}")
    cleaned = text.strip("\n\r\t ")
    if not cleaned:
        raise InvalidInputError("context text is empty", hint="give the text queries will be asked about")
    if len(cleaned) > MAX_CONTEXT_CHARS:
        raise InvalidInputError(
            f"context text has {len(cleaned):,} characters; the limit is {MAX_CONTEXT_CHARS:,}",
            hint="split the document into several contexts",
        )
    return cleaned


def validate_metadata(metadata: object) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
        raise InvalidInputError("metadata must be a JSON object with string keys")
    return dict(metadata)
