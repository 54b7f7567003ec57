"""``sleeptime chat ID``: questions about one context, one after another, with the model kept loaded."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.text import Text

from ..errors import SleeptimeError
from .answering import ask_and_print
from .app import app, err_console, print_error, state_of
from .commands import ask_budget
from .options import (
    BaselineOpt,
    ContextIdArg,
    EffortOpt,
    MaxTokensOpt,
    SystemOpt,
    TemperatureOpt,
    TruncateOpt,
    VerbosityOpt,
)
from .waiting import load_model

QUIT = frozenset({"exit", "quit", ":q", "/bye"})


@app.command("chat")
def chat_command(
    ctx: typer.Context,
    context_id: ContextIdArg,
    verbosity: VerbosityOpt = None,
    baseline: BaselineOpt = False,
    max_tokens: MaxTokensOpt = None,
    temperature: TemperatureOpt = None,
    effort: EffortOpt = None,
    system: SystemOpt = None,
    stream: Annotated[bool, typer.Option(help="Print answers as they are generated.")] = True,
    truncate: TruncateOpt = False,
) -> None:
    """Ask questions about a context one after another, keeping the model loaded (quit or Ctrl-D ends)."""
    state = state_of(ctx)
    engine = state.engine(system=system)
    context = engine.get_context(context_id)  # an unknown id fails before anything loads
    learned = None if baseline else engine.learned_context(context.id)
    load_model(engine)
    about = f"learned context {learned.id}" if learned else "the raw context (no learned context yet)"
    interactive = sys.stdin.isatty()
    if interactive:
        err_console.print(
            Text(
                f"context {context.id} v{context.version}, answered from {about}; exit, quit or Ctrl-D ends"
            ),
            style="dim",
        )
    budget = ask_budget(verbosity, max_tokens, None, temperature, effort)
    while True:
        if interactive:
            err_console.print(Text("> ", style="bold"), end="")
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question.lower() in QUIT:
            break
        try:
            ask_and_print(
                engine,
                context.id,
                question,
                budget,
                stream=stream,
                use_learned=not baseline,
                truncate=truncate,
            )
        except SleeptimeError as exc:  # one bad question does not end the session
            print_error(exc, state.command_path)
