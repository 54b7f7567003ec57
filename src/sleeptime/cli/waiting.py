"""What the CLI shows while it waits: a spinner on a terminal, a plain line in a log.

Every wait that can pass a second (loading a model, a model call, a sleep run) goes
through ``waiting`` or a progress bar, so no command sits silent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
