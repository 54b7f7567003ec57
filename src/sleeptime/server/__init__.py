"""``sleeptime serve``: the engine over HTTP, with an OpenAI-compatible endpoint and a
scheduler that sleeps on idle contexts (docs/server.md)."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
