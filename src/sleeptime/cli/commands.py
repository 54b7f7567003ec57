"""``sleeptime sleep`` and ``sleeptime ask``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.text import Text

from ..budget import Budget
from ..learned import LearnedContext
from ..sleep import STRATEGIES
from .answering import ask_and_print, read_question
from .app import app, console, err_console, state_of
from .options import (
    BaselineOpt,
    ContextIdArg,
    Effort,
    EffortOpt,
    JsonOpt,
    MaxTokensOpt,
    SystemOpt,
    TemperatureOpt,
    TruncateOpt,
    VerbosityOpt,
)
from .render import learned_summary
from .waiting import CallCounter, load_model, waiting


@app.command("sleep")
def sleep_command(
    ctx: typer.Context,
    context_id: ContextIdArg,
    rounds: Annotated[int | None, typer.Option(min=1, max=20, help="Most rethink rounds.")] = None,
    k: Annotated[int | None, typer.Option(min=1, max=16, help="Parallel learned contexts.")] = None,
    max_tokens: MaxTokensOpt = None,
    effort: EffortOpt = None,
    strategy: Annotated[
        str | None, typer.Option(help=f"How to sleep: {', '.join(STRATEGIES)} (default: the first).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Sleep again even if an identical run is stored.")] = False,
    truncate: TruncateOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Think about a context now (S(c) -> c') and store the learned context."""
    if strategy is not None and strategy not in STRATEGIES:
        raise typer.BadParameter(f"one of {', '.join(STRATEGIES)}", param_hint="--strategy")
    engine = state_of(ctx).engine()
    budget = Budget.parse(
        {"rounds": rounds, "k": k, "max_tokens": max_tokens, "reasoning_effort": effort and effort.value}
    )
    load_model(engine, sleep=True)
    with CallCounter(f"sleeping on {context_id}", enabled=not as_json) as counter:
        learned = engine.sleep(
            context_id,
            budget,
            strategy=strategy or STRATEGIES[0],
            force=force,
            truncate=truncate,
            on_call=counter,
        )
    reused = counter.calls == 0
    if as_json:
        console.print_json(json.dumps({**learned_summary(learned, with_text=True), "reused": reused}))
        return
    console.rule(f"learned context {learned.id} for {learned.context_id} v{learned.context_version}")
    console.print(Text(learned.text), highlight=False)
    err_console.print(Text(sleep_cost_line(learned, reused=reused), style="dim"), highlight=False)


def sleep_cost_line(learned: LearnedContext, *, reused: bool) -> str:
    """What a sleep cost: its own calls, or that a stored result was reused at no cost."""
    made = (
        f"{learned.usage.completion_tokens} completion tokens, {learned.usage.calls} calls, "
        f"{learned.duration_s:.1f}s, model {learned.model}"
    )
    if not reused:
        return made
    when = f" of {learned.created_at:%Y-%m-%d %H:%M} UTC" if learned.created_at else ""
    return f"reused the identical sleep{when}: 0 model calls now (it cost {made}); --force sleeps again"


@app.command("ask")
def ask_command(
    ctx: typer.Context,
    context_id: ContextIdArg,
    question: Annotated[
        str | None, typer.Argument(help="The question ('-' or omitted with a pipe: read from stdin).")
    ] = None,
    verbosity: VerbosityOpt = None,
    baseline: BaselineOpt = False,
    max_tokens: MaxTokensOpt = None,
    n: Annotated[
        int | None, typer.Option(min=1, max=64, help="Answers to sample (temperature 0.7 unless given).")
    ] = None,
    temperature: TemperatureOpt = None,
    effort: EffortOpt = None,
    system: SystemOpt = None,
    stream: Annotated[bool, typer.Option(help="Print the answer as it is generated.")] = True,
    truncate: TruncateOpt = False,
    escalate: Annotated[
        int | None,
        typer.Option(
            min=0, max=4, help="Re-answer at this verbosity when the answer is not in the learned context."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question about a context (T_b(q, c') -> a)."""
    text = read_question(question)
    engine = state_of(ctx).engine(system=system)
    budget = ask_budget(verbosity, max_tokens, n, temperature, effort)
    larger = Budget(verbosity=escalate, max_tokens=max_tokens) if escalate is not None else None
    options: dict[str, Any] = {"use_learned": not baseline, "truncate": truncate, "escalate": larger}
    load_model(engine)
    if as_json:
        with waiting("thinking"):
            answer = engine.ask(context_id, text, budget, **options)
        console.print_json(json.dumps(answer.to_dict()))
        return
    ask_and_print(engine, context_id, text, budget, stream=stream, **options)


def ask_budget(
    verbosity: int | None,
    max_tokens: int | None,
    n: int | None,
    temperature: float | None,
    effort: Effort | None,
) -> Budget:
    return Budget.parse(
        {
            "verbosity": verbosity,
            "max_tokens": max_tokens,
            "n": n,
            "temperature": temperature,
            "reasoning_effort": effort.value if effort is not None else None,
        }
    )
