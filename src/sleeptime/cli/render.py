"""Records as JSON-ready dicts, shared by the CLI's --json output."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..learned import LearnedContext


def context_dict(context: Context, *, text: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": context.id,
        "version": context.version,
        "metadata": context.metadata,
        "chars": len(context.text),
        "created_at": context.created_at.isoformat() if context.created_at else None,
        "updated_at": context.updated_at.isoformat() if context.updated_at else None,
    }
    if text:
        data["text"] = context.text
    return data


def learned_summary(learned: LearnedContext, *, with_text: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": learned.id,
        "context_id": learned.context_id,
        "context_version": learned.context_version,
        "model": learned.model,
        "strategy": learned.strategy,
        "budget": learned.budget,
        "usage": learned.usage.to_dict(),
        "duration_s": round(learned.duration_s, 3),
        "rounds_used": list(learned.rounds_used),
        "based_on": learned.based_on,
    }
    if with_text:
        data["text"] = learned.text
    return data
