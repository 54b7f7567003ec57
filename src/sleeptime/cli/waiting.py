"""What the CLI shows while it waits: a spinner on a terminal, a plain line in a log.

Every wait that can pass a second (loading a model, a model call, a sleep run) goes
through ``waiting`` or a progress bar, so no command sits silent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.status import Status
from rich.text import Text

from ..engine import Engine
from .app import err_console


@contextmanager
def waiting(message: str, *, enabled: bool = True) -> Iterator[None]:
    """Show ``message`` with a spinner on stderr while the block runs.

    With stderr not a terminal (a script, CI) the message is one plain line instead,
    so a log shows what the command was doing.
    """
    if not enabled:
        yield
    elif err_console.is_terminal:
        with err_console.status(Text(message), spinner="dots"):
            yield
    else:
        err_console.print(Text(f"{message} ..."), highlight=False, soft_wrap=True)
        yield


def load_model(engine: Engine, *, enabled: bool = True, sleep: bool = False) -> None:
    """Load the answering (or sleeping) model now, behind a spinner, rather than silently later."""
    spec = engine.settings.sleep_model if sleep and engine.settings.sleep_model else engine.settings.model
    with waiting(f"loading model {spec}", enabled=enabled):
        model = engine.sleep_model if sleep else engine.model
        model.count_tokens("warm up")  # embedded models load their weights on first use


class CallCounter:
    """Counts model calls under a spinner ("sleeping on X: 3 model calls, 1m05s"); on a log, one
    line per call. For work whose number of calls is not known ahead (it depends on the strategy
    and on what the model writes)."""

    def __init__(self, message: str, *, enabled: bool = True) -> None:
        self.message = message
        self.enabled = enabled
        self.calls = 0
        self._started = time.monotonic()
        self._status: Status | None = None

    def _text(self) -> str:
        elapsed = int(time.monotonic() - self._started)
        plural = "" if self.calls == 1 else "s"
        return f"{self.message}: {self.calls} model call{plural} done, {elapsed // 60}m{elapsed % 60:02d}s"

    def __call__(self, n: int = 1) -> None:
        self.calls += n
        if not self.enabled:
            return
        if self._status is not None:
            self._status.update(Text(self._text()))
        else:
            err_console.print(Text(self._text()), highlight=False, soft_wrap=True)

    def __enter__(self) -> CallCounter:
        self._started = time.monotonic()
        if self.enabled and err_console.is_terminal:
            self._status = err_console.status(Text(self._text()), spinner="dots")
            self._status.start()
        elif self.enabled:
            err_console.print(Text(f"{self.message} ..."), highlight=False, soft_wrap=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
