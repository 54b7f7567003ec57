"""``sleeptime bench``: the paper's experiments, one subcommand each (see docs/bench.md).

The subcommands are built from ``sleeptime.bench.experiments.EXPERIMENTS``: each
field of an experiment's options model becomes an option (its description the
help, its default the shown default; lists are comma-separated, mappings JSON),
and the options every run has (``--out``, ``--progress``, ``--dry-run``) are
defined once below, as simonw/llm's shared option decorators are. Every
subcommand runs on the global ``--model``, writes its report directory
(``--out``) and prints where. A run is resumable: run the same command again and
it continues where it stopped, replaying finished model calls from ``calls.jsonl``.
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
import shutil
import types
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import typer
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from rich.markup import escape
from rich.table import Table

from ..bench.config import BenchOptions
from ..bench.datasets import check_dataset
from ..bench.experiments import EXPERIMENTS, Experiment, run_experiment
from ..bench.plan import DryRun, describe_plan
from ..bench.runner import BenchRun, close_engine, open_engine
from .app import app, console, err_console, state_of

bench_app = typer.Typer(
    name="bench",
    help="Reproduce the paper's experiments (" + ", ".join(EXPERIMENTS) + ") on any model; each "
    "writes a report directory. Data: see `sleeptime data`.",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")
CALLS_META = "sleeptime.bench.calls"


@bench_app.callback()
def bench_group(
    ctx: typer.Context,
    calls: Annotated[
        Path | None,
        typer.Option(
            help="One call log for several runs (default: each run's own calls.jsonl): a model call "
            "any of them made (e.g. the same sleep) is replayed, not recomputed."
        ),
    ] = None,
) -> None:
    ctx.meta[CALLS_META] = calls


# --------------------------------------------------------------- shared options
# What every run has besides its experiment's options model: defined here once.
RUN_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    (
        "out",
        Path | None,
        typer.Option(help="Report directory (default ./bench-results/EXPERIMENT-DATASET-MODEL)."),
    ),
    ("progress", bool, typer.Option(help="Show progress (plain lines when the output is no terminal).")),
    (
        "dry_run",
        bool,
        typer.Option("--dry-run", help="Print the number of model calls and an estimated time; run nothing."),
    ),
)
RUN_DEFAULTS = {"out": None, "progress": True, "dry_run": False}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``; ``Annotated[X, ...]`` -> ``X``."""
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _shape(field: FieldInfo) -> Literal["flag", "list", "json", "value"]:
    """How a field is typed on the command line: a flag, a comma list, JSON, or one value."""
    annotation = _unwrap(field.annotation)
    origin = get_origin(annotation)
    if annotation is bool:
        return "flag"
    if (
        annotation is dict
        or origin is dict
        or (isinstance(annotation, type) and issubclass(annotation, BaseModel))
    ):
        return "json"
    if origin in (tuple, list):
        item = _unwrap(get_args(annotation)[0])
        structured = item is dict or get_origin(item) is dict
        return "json" if structured or (isinstance(item, type) and issubclass(item, BaseModel)) else "list"
    return "value"


def _cli_type(field: FieldInfo) -> Any:
    annotation = _unwrap(field.annotation)
    if _shape(field) == "flag":
        return bool | None
    if _shape(field) == "value" and annotation in (int, float, Path):
        return annotation | None
    return str | None


def _show(value: Any) -> str | bool:
    if value is None or value in ((), {}, []):
        return False
    if isinstance(value, (tuple, list)) and not any(isinstance(v, (dict, BaseModel)) for v in value):
        return ",".join(str(v) for v in value)
    if isinstance(value, (dict, tuple, list)):
        return json.dumps(value)
    return str(value)


def _help(field: FieldInfo) -> str:
    text = field.description or ""
    annotation = _unwrap(field.annotation)
    item = _unwrap(get_args(annotation)[0]) if get_origin(annotation) in (tuple, list) else annotation
    if get_origin(item) is Literal:
        text += f" One of: {', '.join(str(a) for a in get_args(item))}."
    return escape(text)  # help is Rich markup: JSON's [ ] must print as written


def _parameters(model: type[BenchOptions]) -> list[inspect.Parameter]:
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for name, field in model.model_fields.items():
        default = None if field.default_factory is not None else field.default
        flag = _flag(name)
        decls = [f"{flag}/--no-{flag[2:]}"] if _shape(field) == "flag" else [flag]
        metavar = {"list": "LIST", "json": "JSON"}.get(_shape(field))
        option = typer.Option(*decls, help=_help(field), show_default=_show(default), metavar=metavar)
        annotation = Annotated[_cli_type(field), option]  # type: ignore[valid-type]
        params.append(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        )
    for name, annotation, option in RUN_OPTIONS:
        params.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=RUN_DEFAULTS[name],
                annotation=Annotated[annotation, option],
            )
        )
    return params


def parse_options(model: type[BenchOptions], given: dict[str, Any]) -> BenchOptions:
    """The options model from the values typed on the command line (None: not given); a bad value
    is a usage error (exit 2) naming its flag."""
    values: dict[str, Any] = {}
    for name, raw in given.items():
        if raw is None:
            continue
        shape = _shape(model.model_fields[name])
        if shape == "list":
            values[name] = [p.strip() for p in str(raw).split(",") if p.strip()]
        elif shape == "json":
            try:
                values[name] = json.loads(raw)
            except ValueError as exc:
                raise typer.BadParameter(f"not JSON: {exc}", param_hint=_flag(name)) from None
        else:
            values[name] = raw
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        message = error["msg"]
        if name in given:
            message += f", not {given[name]!r}"
        raise typer.BadParameter(message, param_hint=_flag(name) if name else None) from None


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "model"


def _command_line(experiment: str, model: str, given: dict[str, Any], calls: Path | None) -> str:
    parts = ["sleeptime", "--model", model, "bench"]
    parts += ["--calls", str(calls), experiment] if calls is not None else [experiment]
    for name, value in given.items():
        if value is None or name in ("progress", "dry_run"):
            continue
        parts += [_flag(name), str(value)]
    return shlex.join(parts)


def _worth_keeping(out: Path) -> bool:
    """A stopped run's directory holds finished answers or model calls (a resume reuses them)."""
    return any(
        (out / name).is_file() and (out / name).stat().st_size > 0
        for name in ("results.jsonl", "calls.jsonl")
    )


def execute(ctx: typer.Context, experiment: Experiment, given: dict[str, Any]) -> None:
    """Run one experiment from its command line values (``given``: None where not given)."""
    state = state_of(ctx)
    settings = state.settings
    run = {name: given.pop(name) for name in RUN_DEFAULTS}
    options = parse_options(experiment.options, given)  # checked before any model or store is opened
    check_dataset(options.dataset, options.data_dir, options.dataset_options())
    slug = _slug(f"{experiment.name}-{options.dataset}-{settings.model}")
    out: Path = run["out"] or Path("bench-results") / slug
    calls: Path | None = ctx.meta.get(CALLS_META)
    command = _command_line(experiment.name, settings.model, {**given, "out": run["out"]}, calls)
    created = not out.exists()
    plan: str | None = None
    try:
        engine, embedded = open_engine(settings, out, calls=calls)
        try:
            if options.seeds is None:  # the paper's 3 runs where affordable (a remote endpoint)
                options = options.model_copy(update={"seeds": 1 if embedded else 3})
            bench = BenchRun(
                engine,
                options,
                out,
                parallel=1 if embedded else options.concurrency,
                console=err_console,
                show_progress=run["progress"],
                dry_run=run["dry_run"],
            )
            try:
                outcome, written = run_experiment(bench, command=command)
                stats = bench.cache_stats()
            except DryRun as dry:
                plan = describe_plan(dry.plan, engine.model, embedded=embedded)
            finally:
                bench.close()
        finally:
            close_engine(engine)
    except BaseException:
        if created and out.is_dir() and not _worth_keeping(out):
            shutil.rmtree(out, ignore_errors=True)  # nothing half-written is left behind
        elif out.is_dir():
            err_console.print(
                f"the run stopped; its finished answers and calls are kept in {out}: run the same "
                "command again to resume",
                highlight=False,
                soft_wrap=True,
            )
        raise
    if plan is not None:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        console.print(plan, highlight=False, soft_wrap=True)
        return
    _print_outcome(experiment.name, outcome, stats, written, out)


def _print_outcome(
    name: str, outcome: Any, stats: dict[str, int], written: dict[str, Path], out: Path
) -> None:
    table = Table("claim", "paper", "measured here", "holds?", title=f"{name}: paper vs this run")
    for claim in outcome.claims:
        mark = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]cannot tell[/]"}[claim.holds]
        table.add_row(escape(claim.claim), escape(claim.paper), escape(claim.measured), mark)
    console.print(table)
    if "calls_made" in stats:
        console.print(
            f"[dim]model calls: {stats['calls_made']} made, {stats['calls_replayed']} replayed; "
            f"{stats['answers_read_back']} answers read back from results.jsonl[/]"
        )
    console.print(f"report: {written['report.md']}", soft_wrap=True, highlight=False)
    console.print(f"output directory: {out.resolve()}", soft_wrap=True, highlight=False)


def _command(experiment: Experiment) -> Callable[..., None]:
    def command(ctx: typer.Context, **given: Any) -> None:
        execute(ctx, experiment, given)

    command.__signature__ = inspect.Signature(_parameters(experiment.options))  # type: ignore[attr-defined]
    command.__annotations__ = {}
    command.__name__ = f"{experiment.name}_command"
    command.__doc__ = experiment.summary
    return command


for _experiment in EXPERIMENTS.values():
    bench_app.command(_experiment.name, help=_experiment.summary)(_command(_experiment))


__all__ = ["RUN_OPTIONS", "bench_app", "execute", "parse_options"]
