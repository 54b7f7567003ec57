"""Experiment 4: amortizing sleep-time compute over several queries on one context.

On a multi-query dataset, each context is slept on once and all its questions
are answered, with and without the learned context, at each verbosity. For N
queries per context (1, 2, 5, 10; contexts with at least N questions, their
first N) the cost per query is ``t x test tokens + sleep tokens / N``
(``costs.py``). The paper: at N = 10 the cost per query at equal accuracy falls
up to 2.5x against test-time only.

The paper's questions came from a strong model and were not released; with
``generate_questions`` the benchmark model itself writes extra questions for
each chosen context (``datasets.multi_query.generate_questions``: kept only when
the model, solving them again, reaches the same number), cached per model, so
N = 10 can be measured where the derived questions run out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import Field

from ...llm.base import Message, SamplingParams
from .. import plots
from ..asking import MODEL_FAILURES
from ..config import BenchOptions
from ..costs import amortized_table
from ..datasets import Example
from ..datasets.multi_query import cached_generated_questions
from ..datasets.paths import default_cache_dir
from ..metrics import Row, condition_table, ratio_at_equal_accuracy
from ..runner import BenchRun
from .common import Claim, Experiment, Outcome, build_outcome, interval_text, judged, paired, pct, sleep_spec

DEFAULT_VERBOSITIES = (0, 1, 2, 3, 4)
# One call writes all the questions with worked answers; verifying one solves it again.
GENERATION_MAX_TOKENS = 1536


class Options(BenchOptions):
    dataset: str = Field("multi-query-gsm-symbolic-p2", description="Dataset (see `sleeptime data`).")
    ns: tuple[Annotated[int, Field(ge=1, le=1000)], ...] = Field(
        (1, 2, 5, 10), description="Queries per context N, e.g. 1,2,5,10."
    )
    min_questions: int = Field(1, ge=1, description="Keep contexts with this many questions.")
    generate_questions: int = Field(
        0,
        ge=0,
        le=50,
        description="Extra questions the model writes per context, kept when verified (cached).",
    )


@dataclasses.dataclass
class Generated:
    """What ``--generate-questions`` produced: contexts generated for and questions kept."""

    asked: int
    contexts: int = 0
    kept: int = 0

    def summary(self) -> str:
        per = self.kept / self.contexts if self.contexts else 0.0
        return (
            f"--generate-questions {self.asked}: kept {self.kept} verified question(s) over "
            f"{self.contexts} context(s) ({per:.1f} per context of {self.asked} asked for)"
        )


def with_generated_questions(
    bench: BenchRun, n: int, counts: Generated | None = None
) -> Callable[[Example], Example]:
    """Adds up to ``n`` verified questions written by the benchmark's model to an example;
    ``counts`` (if given) adds up what was kept."""
    model = bench.engine.model
    params = SamplingParams(max_tokens=GENERATION_MAX_TOKENS)

    def complete(messages: Sequence[Message]) -> str:
        return model.complete(messages, params).text

    def prepare(example: Example) -> Example:
        try:
            generated = cached_generated_questions(
                default_cache_dir(),
                model=bench.model_name,
                seed=0,
                context=example.context,
                n=n,
                llm_complete=complete,
                example_question=example.question,
            )
        except MODEL_FAILURES as exc:
            bench.console.print(f"[yellow]no generated questions for {example.id}: {exc}[/yellow]")
            return example
        known = {qa.question for qa in example.questions}
        extra = tuple(qa for qa in generated or () if qa.question not in known)
        if counts is not None:
            counts.contexts += 1
            counts.kept += len(extra)
        return dataclasses.replace(example, extra_questions=example.extra_questions + extra)

    return prepare


def cost_claim(table: list[Row]) -> Claim:
    """At the largest N with data: the baseline's cost per query over sleep-time's, at equal accuracy."""
    with_data = [r for r in table if r.get("condition")]
    if not with_data:
        return Claim(
            "Lower cost per query at N = 10", "up to 2.5x lower", "no context had enough questions", None
        )
    n = max(r["n_queries"] for r in with_data)
    at_n = [r for r in with_data if r["n_queries"] == n]
    sleep_rows = [r for r in at_n if r["kind"] == "sleep"]
    base_rows = [r for r in at_n if r["kind"] == "test-time"]
    sleep = [(float(r["cost_per_query"]), float(r["accuracy"])) for r in sleep_rows]
    base = [(float(r["cost_per_query"]), float(r["accuracy"])) for r in base_rows]
    ratio = ratio_at_equal_accuracy(sleep, base)
    contexts = max(r["contexts"] for r in at_n)
    holds: bool | None
    if ratio is not None:
        point = next(r for r in sleep_rows if float(r["cost_per_query"]) == ratio["x"])
        cheaper = [r for r in base_rows if float(r["cost_per_query"]) <= ratio["x"]]
        other = max(cheaper, key=lambda r: r["cost_per_query"]) if cheaper else base_rows[0]
        measured = (
            f"{ratio['ratio']:.1f}x at N = {n} ({contexts} contexts): sleep-time {pct(ratio['accuracy'])}"
            f"{interval_text(point)} at cost {ratio['x']:.0f}, test-time-only needs "
            f"{ratio['baseline_x']:.0f} ({other['condition']}: {pct(other['accuracy'])}"
            f"{interval_text(other)})"
        )
        measured, holds = judged(measured, ratio["ratio"] > 1, (point, other))
    elif sleep_rows and base_rows:
        top_sleep = max(sleep_rows, key=lambda r: r["accuracy"])
        top_base = max(base_rows, key=lambda r: r["accuracy"])
        measured = (
            f"no equal-accuracy pair at N = {n}: best accuracy sleep-time {pct(top_sleep['accuracy'])}"
            f"{interval_text(top_sleep)}, test-time-only {pct(top_base['accuracy'])}{interval_text(top_base)}"
        )
        verdict = top_sleep["accuracy"] > top_base["accuracy"] if top_sleep["accuracy"] > 0 else None
        measured, holds = judged(measured, verdict, (top_sleep, top_base))
    else:
        measured, holds = f"no data for both conditions at N = {n}", None
    return Claim(f"Lower cost per query at N = 10 (measured at N = {n})", "up to 2.5x lower", measured, holds)


def run(bench: BenchRun) -> Outcome:
    options = bench.options_as(Options)
    ns = tuple(sorted(set(options.ns)))
    conds = paired(options.verbosities or DEFAULT_VERBOSITIES, sleep_spec(options))
    n_generated = options.generate_questions
    generated = Generated(n_generated)
    prepare = with_generated_questions(bench, n_generated, generated) if n_generated else None
    rows = bench.run(
        conds,
        max_questions=max(ns),
        min_questions=options.min_questions,
        prepare=prepare,
        prepare_adds_at_most=n_generated if prepare else None,
    )
    table = amortized_table(rows, ns, options.t)
    notes: list[str] = []
    if n_generated:
        bench.console.print(generated.summary(), highlight=False)
        notes.append(generated.summary() + ".")
    missing = [str(r["n_queries"]) for r in table if not r.get("condition")]
    if missing:
        notes.append(
            f"No context had at least N questions for N = {', '.join(missing)}: those costs are not "
            "measured (the derived multi-query set has at most about 9 per context; add "
            "--generate-questions 10 for more)."
        )
    notes.append(
        f"Cost per query = {options.t:g} x test-time tokens + sleep-time tokens / N (generated only)."
    )
    tables = {"amortization": table, "conditions": condition_table(rows)}
    return build_outcome("amortization", options, bench, rows, tables, [cost_claim(table)], notes)


def plot(outcome: Outcome, path: Path) -> Path:
    fig, ax = plots.figure()
    table = [r for r in outcome.tables["amortization"] if r.get("condition")]
    colors = iter(plots.COLORS)
    for n in sorted({r["n_queries"] for r in table}):
        color = next(colors, "black")
        for kind, style in (("sleep", "-"), ("test-time", ":")):
            rows = sorted(
                (r for r in table if r["n_queries"] == n and r["kind"] == kind),
                key=lambda r: r["cost_per_query"],
            )
            if rows:
                ax.plot(
                    [r["cost_per_query"] for r in rows],
                    [r["accuracy"] for r in rows],
                    style,
                    color=color,
                    marker="o" if kind == "sleep" else "s",
                    label=f"{plots.STYLE[kind][2]}, N={n}",
                )
    plots.log_x_if_positive(ax, table, "cost_per_query")
    what = f"amortized cost per query (t={outcome.options.t:g})"
    xlabel = "cost per query = t x test tokens + sleep tokens / N"
    return plots.finish(fig, ax, path, plots.title(outcome, what), xlabel, "accuracy (%)")


EXPERIMENT = Experiment(
    "amortization",
    "Multi-Query: cost per query (t x test tokens + sleep tokens / N) for N queries per context.",
    Options,
    run,
    plot,
)

__all__ = [
    "DEFAULT_VERBOSITIES",
    "EXPERIMENT",
    "Generated",
    "Options",
    "cost_claim",
    "plot",
    "run",
    "with_generated_questions",
]
