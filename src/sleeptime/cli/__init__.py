"""The ``sleeptime`` command line. Importing the command modules registers them on ``app``."""

from __future__ import annotations

from . import bench, chat, commands, config, contexts, data, models, quickstart, serve
from .app import app, main, run

__all__ = [
    "app",
    "bench",
    "chat",
    "commands",
    "config",
    "contexts",
    "data",
    "main",
    "models",
    "quickstart",
    "run",
    "serve",
]
