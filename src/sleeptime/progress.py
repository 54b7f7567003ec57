"""Progress of a long command: rich bars on a terminal, plain lines in a log.

``Tracker`` counts a few tasks (``add_task(description, total)``, ``advance(task, n)``,
the calls of rich's ``Progress``). On a terminal it draws rich's bars; when the
output is not a terminal (a script, CI, ``> log``) it prints one plain line per
task whenever another tenth of it is done or ``every_s`` seconds have passed, so
a log shows a run is alive and how far it got; disabled, it prints nothing.
Used by ``sleeptime bench`` and ``sleeptime quickstart``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

PLAIN_EVERY_S = 30.0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m"


@dataclass
class _Plain:
    description: str
    total: int
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    printed_at: float = field(default_factory=time.monotonic)
    printed_tenth: int = 0

    def line(self, now: float) -> str:
        elapsed = now - self.started
        text = f"{self.description}: {self.done}/{self.total}"
        if self.total:
            text += f" ({self.done / self.total:.0%})"
        text += f", {_duration(elapsed)} elapsed"
        if 0 < self.done < self.total:
            text += f", about {_duration(elapsed / self.done * (self.total - self.done))} left"
        return text


class Tracker:
    """A few counted tasks; see the module docstring. Thread-safe."""

    def __init__(self, console: Console, *, enabled: bool = True, every_s: float = PLAIN_EVERY_S) -> None:
        self.console = console
        self.enabled = enabled
        self.every_s = every_s
        self._rich: Progress | None = None
        if enabled and console.is_terminal:
            self._rich = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=console,
            )
        self._plain: dict[int, _Plain] = {}
        self._lock = threading.Lock()

    @property
    def plain(self) -> bool:
        """True when progress is printed as plain lines (enabled, not a terminal)."""
        return self.enabled and self._rich is None

    def add_task(self, description: str, total: int) -> int:
        if self._rich is not None:
            return int(self._rich.add_task(description, total=total))
        with self._lock:
            task = len(self._plain)
            self._plain[task] = _Plain(description, total)
        if self.plain:
            self.console.print(f"{description}: 0/{total}", highlight=False, soft_wrap=True)
        return task

    def advance(self, task: int | None, n: int = 1) -> None:
        if task is None or not self.enabled:
            return
        if self._rich is not None:
            self._rich.advance(TaskID(task), n)
            return
        now = time.monotonic()
        with self._lock:
            state = self._plain[task]
            state.done += n
            tenth = state.done * 10 // state.total if state.total else 0
            if tenth <= state.printed_tenth and now - state.printed_at < self.every_s:
                return
            state.printed_tenth, state.printed_at = tenth, now
            line = state.line(now)
        self.console.print(line, highlight=False, soft_wrap=True)

    def __enter__(self) -> Tracker:
        if self._rich is not None:
            self._rich.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._rich is not None:
            self._rich.stop()


__all__ = ["PLAIN_EVERY_S", "Tracker"]
