"""The ``sleeptime`` command line. Importing the command modules registers them on ``app``."""

from __future__ import annotations

from . import bench, commands, contexts, quickstart, serve
from .app import app, main, run

__all__ = ["app", "bench", "commands", "contexts", "main", "quickstart", "run", "serve"]
