"""Experiment 6: the context-only ablation. Could the questions simply be guessed?

Besides sleep-time and test-time-only answers, the model is shown only the
context and asked to guess the question and answer it
(``prompts.context_only_messages``), graded against the real question's gold.
The paper: sleep-time clearly beats it, so the queries are not trivially
guessable from the context.
"""

from __future__ import annotations

from pathlib import Path

from .. import plots
from ..config import BenchOptions, Condition
from ..metrics import condition_table
from ..runner import BenchRun
from .common import (
    Claim,
    Experiment,
    Outcome,
    build_outcome,
    interval_text,
    judged,
    paired,
    pct,
    pp,
    sleep_spec,
)

DEFAULT_VERBOSITIES = (0,)


class Options(BenchOptions):
    """The shared options only."""


def conditions(options: BenchOptions) -> list[Condition]:
    out = []
    for v in options.verbosities or DEFAULT_VERBOSITIES:
        out += paired((v,), sleep_spec(options))
        out.append(
            Condition(f"context-only v{v}", "context-only", v, params={"mode": "context-only", "budget": v})
        )
    return out


def run(bench: BenchRun) -> Outcome:
    options = bench.options_as(Options)
    rows = bench.run(conditions(options))
    table = condition_table(rows)
    claims = []
    for ctx_only in (r for r in table if r["kind"] == "context-only"):
        v = ctx_only["verbosity"]
        sleep = next(r for r in table if r["kind"] == "sleep" and r["verbosity"] == v)
        diff = sleep["accuracy"] - ctx_only["accuracy"]
        measured, holds = judged(
            f"sleep-time {pct(sleep['accuracy'])}{interval_text(sleep)} vs context-only "
            f"{pct(ctx_only['accuracy'])}{interval_text(ctx_only)} ({pp(diff)})",
            None if sleep["accuracy"] == ctx_only["accuracy"] == 0 else diff > 0,
            (sleep, ctx_only),
        )
        claims.append(
            Claim(
                f"Sleep-time clearly beats guessing from the context alone (v{v})",
                "sleep-time well ahead",
                measured,
                holds,
            )
        )
    return build_outcome("ablation", options, bench, rows, {"conditions": table}, claims)


def plot(outcome: Outcome, path: Path) -> Path:
    fig, ax = plots.figure()
    table = [r for r in outcome.tables["conditions"] if plots.ok(r["accuracy"])]
    colors = {"sleep": "tab:blue", "test-time": "tab:orange", "context-only": "tab:gray"}
    for i, r in enumerate(table):
        ax.bar(
            i,
            r["accuracy"],
            yerr=plots.yerr([r], "accuracy"),
            color=colors.get(r["kind"], "black"),
            capsize=3,
            label=r["condition"],
        )
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels([r["condition"] for r in table], fontsize=8)
    return plots.finish(
        fig, ax, path, plots.title(outcome, "context-only ablation"), "condition", "accuracy (%)"
    )


EXPERIMENT = Experiment(
    "ablation",
    "Context-only ablation: the model sees only the context and must guess the question.",
    Options,
    run,
    plot,
)

__all__ = ["DEFAULT_VERBOSITIES", "EXPERIMENT", "Options", "conditions", "plot", "run"]
