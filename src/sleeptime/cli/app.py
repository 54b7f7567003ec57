"""The Typer application, its global options, and the one place errors become a message."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from .. import __version__
from ..engine import Engine
from ..errors import (
    BackendTimeoutError,
    ConfigurationError,
    ContextTooLongError,
    MalformedOutputError,
    SleeptimeError,
)
from ..settings import Settings, load_settings, unknown_env_vars

if TYPE_CHECKING:
    from .answering import WithSystem

app = typer.Typer(
    name="sleeptime",
    help="Sleep-time compute: think about a context before questions arrive, then answer them fast.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

# Exit codes (docs/cli.md): a sleeptime error is 1, a bad option value or usage is 2 (click's).
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Where an error's Python-API wording has a CLI equivalent: the hint the CLI prints instead.
CLI_HINTS: dict[type[SleeptimeError], str] = {
    ContextTooLongError: (
        "shorten the context, use a model with a larger window (--model), or pass --truncate"
    ),
    BackendTimeoutError: "raise SLEEPTIME_REQUEST_TIMEOUT_S or lower --max-tokens",
    MalformedOutputError: "the output could not be used: try a larger model (--model) or --max-tokens",
    ConfigurationError: "see `sleeptime config show` for each setting and where it came from",
}


@dataclass
class State:
    """Global options, resolved into settings once and an engine on first need."""

    overrides: dict[str, Any] = field(default_factory=dict)
    command_path: str = "sleeptime"
    _settings: Settings | None = None
    _engine: Engine | None = None
    _wrapped: WithSystem | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(**self.overrides)
        return self._settings

    def engine(self, *, system: str | None = None, **overrides: Any) -> Engine:
        """The engine, made on first call. ``system``: extra system-prompt text for the answering
        model (``--system``)."""
        if self._engine is None:
            settings = self.settings
            if overrides:
                settings = load_settings(**{**self.overrides, **overrides})
            if system and system.strip():
                from ..llm import load_model
                from .answering import WithSystem

                self._wrapped = WithSystem(load_model(settings.model, settings), system)
                self._engine = Engine(model=self._wrapped, settings=settings)
            else:
                self._engine = Engine(settings=settings)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._wrapped is not None:
            self._wrapped.close()
            self._wrapped = None


# The state of the command being run, for the error handler (one CLI invocation per process,
# or one at a time in tests).
_current: State | None = None


def _version(value: bool) -> None:
    if value:
        console.print(f"sleeptime {__version__}", highlight=False)
        raise typer.Exit()


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
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Global options come before the command: sleeptime --model smollm2-135m ask ..."""
    global _current
    for name, close in unknown_env_vars():
        guess = f" (did you mean {close}?)" if close else ""
        err_console.print(
            Text(f"warning: {name} is not a sleeptime setting and is ignored{guess}", style="yellow"),
            soft_wrap=True,
        )
    state = State({"model": model, "sleep_model": sleep_model, "db_url": db, "home": home})
    _current = state
    ctx.obj = state
    ctx.call_on_close(state.close)


def state_of(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # pragma: no cover - the callback always sets it
        raise RuntimeError("CLI state missing")
    obj.command_path = ctx.command_path
    return obj


def cli_hint(exc: SleeptimeError, command_path: str) -> str:
    """The hint to print: in CLI terms, and never empty."""
    for kind, hint in CLI_HINTS.items():
        if isinstance(exc, kind) and exc.hint == kind.default_hint:
            return hint
    return exc.hint or f"see `{command_path} --help`"


def print_error(exc: SleeptimeError, command_path: str = "sleeptime") -> None:
    """One error as `error: ...` and `hint: ...` on stderr, printed literally (no markup)."""
    err_console.print(Text.assemble(("error: ", "bold red"), exc.message), highlight=False, soft_wrap=True)
    err_console.print(
        Text(f"hint: {cli_hint(exc, command_path)}", style="dim"), highlight=False, soft_wrap=True
    )


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; a SleeptimeError becomes one line on stderr and exit code 1.

    Click's standalone mode handles usage errors (exit 2) and --help itself; only
    our own errors are turned into messages here.
    """
    global _current
    _current = None
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="sleeptime", standalone_mode=True)
    except SleeptimeError as exc:
        print_error(exc, _current.command_path if _current is not None else "sleeptime")
        return EXIT_ERROR
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return EXIT_INTERRUPTED
    return 0


def main() -> None:
    sys.exit(run())
