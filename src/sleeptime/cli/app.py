"""The Typer application, its global options, and the one place errors become a message."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from rich.console import Console

from ..engine import Engine
from ..errors import SleeptimeError
from ..settings import Settings, load_settings

app = typer.Typer(
    name="sleeptime",
    help="Sleep-time compute: think about a context before questions arrive, then answer them fast.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


@dataclass
class State:
    """Global options, resolved into settings once and an engine on first need."""

    overrides: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None
    _engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
        return self._settings

    def engine(self, **overrides: Any) -> Engine:
        if self._engine is None:
            settings = self.settings
            if overrides:
                settings = load_settings(**{**self.overrides, **overrides})
            self._engine = Engine(settings=settings)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


@app.callback()
def main_options(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model: default, smollm2-135m, a .gguf path, hf:REPO/FILE or openai:MODEL."
        ),
    ] = None,
    sleep_model: Annotated[str | None, typer.Option(help="A separate model for sleep-time work.")] = None,
    db: Annotated[str | None, typer.Option(help="Store URL (sqlite:///file.db or postgresql://...).")] = None,
    home: Annotated[str | None, typer.Option(help="sleeptime home dir (database, models, config).")] = None,
) -> None:
    """Global options come before the command: sleeptime --model smollm2-135m ask ..."""
    state = State({"model": model, "sleep_model": sleep_model, "db_url": db, "home": home})
    ctx.obj = state
    ctx.call_on_close(state.close)


def state_of(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # pragma: no cover - the callback always sets it
        raise RuntimeError("CLI state missing")
    return obj


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; a SleeptimeError becomes one line on stderr and exit code 1.

    Click's standalone mode handles usage errors (exit 2) and --help itself; only
    our own errors are turned into messages here.
    """
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="sleeptime", standalone_mode=True)
    except SleeptimeError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err_console.print(f"[dim]hint: {exc.hint}[/]", highlight=False)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return 0


def main() -> None:
    sys.exit(run())
