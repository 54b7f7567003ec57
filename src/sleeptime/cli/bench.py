"""``sleeptime bench``: the paper's experiments, one subcommand each (see docs/bench.md).

Every subcommand runs on the global ``--model`` (the embedded default unless
told otherwise), writes its report directory (``--out``) and prints where. A run
is resumable: run the same command again and it continues where it stopped,
replaying finished model calls from ``calls.jsonl``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, cast, get_args

import typer
from rich.table import Table

from ..bench.config import BenchConfig
from ..bench.datasets import DATASETS
from ..bench.experiments import DEFAULT_DATASETS, run_experiment
from ..bench.runner import BenchRun, close_engine, open_engine
from ..errors import InvalidInputError
from ..llm.base import ReasoningEffort
from .app import app, console, err_console, state_of

bench_app = typer.Typer(
    name="bench",
    help="Reproduce the paper's experiments (pareto, passk, scaling, amortization, predictability, "
    "ablation, swe) on any model; each writes a report directory.",
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


DatasetOpt = Annotated[str | None, typer.Option(help="Dataset (default: the experiment's).")]
LimitOpt = Annotated[int, typer.Option(min=0, help="Examples (contexts) per seed; 0 for all.")]
SeedsOpt = Annotated[
    int | None,
    typer.Option(min=1, max=20, help="Runs; default 1 on the embedded model, 3 (the paper's) remote."),
]
OutOpt = Annotated[
    Path | None, typer.Option(help="Report directory (default ./bench-results/EXPERIMENT-DATASET-MODEL).")
]
TOpt = Annotated[float, typer.Option(min=0.0, help="Cost of a test-time token in sleep-time tokens.")]
ConcurrencyOpt = Annotated[int, typer.Option(min=1, max=64, help="Examples in flight on a remote endpoint.")]
SplitterOpt = Annotated[str, typer.Option(help="Problem splitter: sentence (keeps numbers) or naive.")]
MaxTokensOpt = Annotated[int | None, typer.Option(min=1, help="Most completion tokens per answer.")]
SleepTokensOpt = Annotated[int | None, typer.Option(min=1, help="Most completion tokens per sleep call.")]
SleepRoundsOpt = Annotated[int | None, typer.Option(min=1, max=20, help="Rethink rounds per sleep.")]
VerbositiesOpt = Annotated[str | None, typer.Option(help="Test-time verbosities, e.g. 0,2,4.")]
EffortsOpt = Annotated[str | None, typer.Option(help="Reasoning efforts, e.g. low,medium,high.")]
DataDirOpt = Annotated[Path | None, typer.Option(help="Benchmark data dir (default: SLEEPTIME_DATA_DIR).")]
ProgressOpt = Annotated[bool, typer.Option(help="Show progress bars.")]


def _ints(text: str | None, what: str, lo: int, hi: int) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise typer.BadParameter(f"{what} must be comma-separated integers, not {text!r}") from None
    if not values or any(not lo <= v <= hi for v in values):
        raise typer.BadParameter(f"{what} must be integers from {lo} to {hi}, not {text!r}")
    return values


def _efforts(text: str | None) -> tuple[ReasoningEffort, ...]:
    if not text:
        return ()
    allowed = get_args(ReasoningEffort)
    values = tuple(p.strip() for p in text.split(",") if p.strip())
    bad = [v for v in values if v not in allowed]
    if bad:
        raise typer.BadParameter(f"efforts must be among {', '.join(allowed)}, not {', '.join(bad)}")
    return cast(tuple[ReasoningEffort, ...], values)


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "model"


def _execute(ctx: typer.Context, experiment: str, common: dict[str, Any], specific: dict[str, Any]) -> None:
    state = state_of(ctx)
    settings = state.settings
    dataset = common["dataset"] or DEFAULT_DATASETS[experiment]
    out: Path = common["out"] or Path("bench-results") / _slug(f"{experiment}-{dataset}-{settings.model}")
    if common["splitter"] not in ("sentence", "naive"):
        raise typer.BadParameter("--splitter must be sentence or naive")
    if dataset not in DATASETS and not dataset.startswith("hub:"):
        raise InvalidInputError(f"unknown dataset {dataset!r}", hint=f"choose from {', '.join(DATASETS)}")
    try:  # checked before any model or store is opened
        config = BenchConfig(
            experiment=experiment,
            dataset=dataset,
            limit=common["limit"] or None,
            seeds=common["seeds"] or 1,
            t=common["t"],
            concurrency=common["concurrency"],
            splitter=common["splitter"],
            data_dir=common["data_dir"],
            max_tokens=common["max_tokens"],
            sleep_max_tokens=common["sleep_max_tokens"],
            sleep_rounds=common["sleep_rounds"],
            verbosities=_ints(common["verbosities"], "--verbosities", 0, 4),
            **{k: v for k, v in specific.items() if v is not None},
        )
    except ValueError as exc:  # pydantic's ValidationError
        raise InvalidInputError(f"invalid bench options: {exc}") from None
    calls: Path | None = ctx.meta.get(CALLS_META)
    engine, embedded = open_engine(settings, out, calls=calls)
    try:
        if common["seeds"] is None and not embedded:
            config = config.model_copy(update={"seeds": 3})  # the paper's 3 runs, affordable remotely
        bench = BenchRun(
            engine,
            config,
            out,
            parallel=1 if embedded else config.concurrency,
            console=err_console,
            show_progress=common["progress"],
        )
        try:
            command = _command(experiment, settings.model, common, specific, calls=calls)
            outcome, written = run_experiment(bench, command=command)
            stats = bench.cache_stats()
        finally:
            bench.close()
    finally:
        close_engine(engine)
    table = Table("claim", "paper", "measured here", "holds?", title=f"{experiment}: paper vs this run")
    for claim in outcome.claims:
        mark = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]cannot tell[/]"}[claim.holds]
        table.add_row(claim.claim, claim.paper, claim.measured, mark)
    console.print(table)
    if "calls_made" in stats:
        console.print(
            f"[dim]model calls: {stats['calls_made']} made, {stats['calls_replayed']} replayed; "
            f"{stats['answers_read_back']} answers read back from results.jsonl[/]"
        )
    console.print(f"report: {written['report.md']}", soft_wrap=True)
    console.print(f"output directory: {out.resolve()}", soft_wrap=True)


def _command(
    experiment: str, model: str, common: dict[str, Any], specific: dict[str, Any], *, calls: Path | None
) -> str:
    parts = ["sleeptime", "--model", model, "bench"]
    parts += ["--calls", str(calls), experiment] if calls is not None else [experiment]
    for key, value in {**common, **specific}.items():
        if value is None or key == "progress":
            continue
        if isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        parts += [f"--{key.replace('_', '-')}", str(value)]
    return " ".join(parts)


def _options(given: dict[str, Any], specific: tuple[str, ...]) -> dict[str, Any]:
    """A command's common options: its parameters minus the context and its own options."""
    return {k: v for k, v in given.items() if k != "ctx" and k not in specific}


@bench_app.command("pareto")
def pareto_command(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    limit: LimitOpt = 50,
    seeds: SeedsOpt = None,
    out: OutOpt = None,
    t: TOpt = 10.0,
    concurrency: ConcurrencyOpt = 4,
    splitter: SplitterOpt = "sentence",
    max_tokens: MaxTokensOpt = None,
    sleep_max_tokens: SleepTokensOpt = None,
    sleep_rounds: SleepRoundsOpt = None,
    verbosities: VerbositiesOpt = None,
    data_dir: DataDirOpt = None,
    progress: ProgressOpt = True,
    efforts: EffortsOpt = None,
) -> None:
    """Accuracy vs test-time tokens, verbosity 0-4 (or --efforts), with and without sleep-time."""
    common = _options(locals(), ("efforts",))
    _execute(ctx, "pareto", common, {"efforts": _efforts(efforts) or None})


@bench_app.command("passk")
def passk_command(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    limit: LimitOpt = 50,
    seeds: SeedsOpt = None,
    out: OutOpt = None,
    t: TOpt = 10.0,
    concurrency: ConcurrencyOpt = 4,
    splitter: SplitterOpt = "sentence",
    max_tokens: MaxTokensOpt = None,
    sleep_max_tokens: SleepTokensOpt = None,
    sleep_rounds: SleepRoundsOpt = None,
    verbosities: VerbositiesOpt = None,
    data_dir: DataDirOpt = None,
    progress: ProgressOpt = True,
    n: Annotated[int, typer.Option(min=1, max=64, help="Samples per question for pass@k.")] = 5,
    temperature: Annotated[float, typer.Option(min=0.01, max=2.0, help="Sampling temperature.")] = 0.7,
) -> None:
    """pass@k of sampled verbosity-0 answers vs sleep-time, at equal test-time tokens."""
    common = _options(locals(), ("n", "temperature"))
    _execute(ctx, "passk", common, {"n_samples": n, "sample_temperature": temperature})


@bench_app.command("scaling")
def scaling_command(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    limit: LimitOpt = 50,
    seeds: SeedsOpt = None,
    out: OutOpt = None,
    t: TOpt = 10.0,
    concurrency: ConcurrencyOpt = 4,
    splitter: SplitterOpt = "sentence",
    max_tokens: MaxTokensOpt = None,
    sleep_max_tokens: SleepTokensOpt = None,
    sleep_rounds: SleepRoundsOpt = None,
    verbosities: VerbositiesOpt = None,
    data_dir: DataDirOpt = None,
    progress: ProgressOpt = True,
    ks: Annotated[str, typer.Option(help="Parallel learned contexts k, e.g. 1,2,5,10.")] = "1,2,5,10",
    rounds: Annotated[str, typer.Option(help="Rethink rounds (k = 1), e.g. 1,2,3,5.")] = "1,2,3,5",
    efforts: EffortsOpt = None,
) -> None:
    """Sleep-time scaling: k parallel learned contexts, rethink rounds, sleep-time effort."""
    common = _options(locals(), ("ks", "rounds", "efforts"))
    specific = {
        "ks": _ints(ks, "--ks", 1, 16),
        "rounds": _ints(rounds, "--rounds", 1, 20),
        "efforts": _efforts(efforts) or None,
    }
    _execute(ctx, "scaling", common, specific)


@bench_app.command("amortization")
def amortization_command(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    limit: LimitOpt = 50,
    seeds: SeedsOpt = None,
    out: OutOpt = None,
    t: TOpt = 10.0,
    concurrency: ConcurrencyOpt = 4,
    splitter: SplitterOpt = "sentence",
    max_tokens: MaxTokensOpt = None,
    sleep_max_tokens: SleepTokensOpt = None,
    sleep_rounds: SleepRoundsOpt = None,
    verbosities: VerbositiesOpt = None,
    data_dir: DataDirOpt = None,
    progress: ProgressOpt = True,
    ns: Annotated[str, typer.Option(help="Queries per context N, e.g. 1,2,5,10.")] = "1,2,5,10",
    min_questions: Annotated[int, typer.Option(min=1, help="Keep contexts with this many questions.")] = 1,
    generate_questions: Annotated[
        int,
        typer.Option(
            min=0, max=50, help="Extra questions the model writes per context, kept when verified (cached)."
        ),
    ] = 0,
) -> None:
    """Multi-Query: cost per query (t x test tokens + sleep tokens / N) for N queries per context."""
    common = _options(locals(), ("ns", "min_questions", "generate_questions"))
    specific = {
        "ns": _ints(ns, "--ns", 1, 1000),
        "min_questions": min_questions,
        "generate_questions": generate_questions,
    }
    _execute(ctx, "amortization", common, specific)


@bench_app.command("predictability")
def predictability_command(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    limit: LimitOpt = 50,
    seeds: SeedsOpt = None,
    out: OutOpt = None,
    t: TOpt = 10.0,
    concurrency: ConcurrencyOpt = 4,
    splitter: SplitterOpt = "sentence",
    max_tokens: MaxTokensOpt = None,
    sleep_max_tokens: SleepTokensOpt = None,
    sleep_rounds: SleepRoundsOpt = None,
    verbosities: VerbositiesOpt = None,
    data_dir: DataDirOpt = None,
    progress: ProgressOpt = True,
    score: Annotated[str, typer.Option(help="mean (per question token) or sum of log P(q | c).")] = "mean",
    score_model: Annotated[
        str | None,
        typer.Option(help="Score log P(q | c) with this model (the paper: a base model); default: --model."),
    ] = None,
) -> None:
    """Sleep-time's accuracy gain per quantile bin of log P(q | c) under the model."""
    if score not in ("mean", "sum"):
        raise typer.BadParameter("--score must be mean or sum")
    common = _options(locals(), ("score", "score_model"))
    _execute(ctx, "predictability", common, {"score": score, "score_model": score_model})


@bench_app.command("ablation")
def ablation_command(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    limit: LimitOpt = 50,
    seeds: SeedsOpt = None,
    out: OutOpt = None,
    t: TOpt = 10.0,
    concurrency: ConcurrencyOpt = 4,
    splitter: SplitterOpt = "sentence",
    max_tokens: MaxTokensOpt = None,
    sleep_max_tokens: SleepTokensOpt = None,
    sleep_rounds: SleepRoundsOpt = None,
    verbosities: VerbositiesOpt = None,
    data_dir: DataDirOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Context-only ablation: the model sees only the context and must guess the question."""
    common = _options(locals(), ())
    _execute(ctx, "ablation", common, {})


@bench_app.command("swe")
def swe_command(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    limit: LimitOpt = 50,
    seeds: SeedsOpt = None,
    out: OutOpt = None,
    t: TOpt = 10.0,
    concurrency: ConcurrencyOpt = 4,
    splitter: SplitterOpt = "sentence",
    max_tokens: MaxTokensOpt = None,
    sleep_max_tokens: SleepTokensOpt = None,
    sleep_rounds: SleepRoundsOpt = None,
    verbosities: VerbositiesOpt = None,
    data_dir: DataDirOpt = None,
    progress: ProgressOpt = True,
    steps: Annotated[str, typer.Option(help="Step budgets, e.g. 1,2,4.")] = "1,2,4",
    tasks: Annotated[
        Path | None, typer.Option(help="SWE-Features JSONL (default: the bundled task).")
    ] = None,
) -> None:
    """SWE-Features case study: name the files a feature PR modifies, under a step budget; file F1."""
    common = _options(locals(), ("steps", "tasks"))
    _execute(ctx, "swe", common, {"steps": _ints(steps, "--steps", 1, 50), "dataset_path": tasks})


__all__ = ["bench_app"]
