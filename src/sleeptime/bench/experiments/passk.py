"""Experiment 2: the parallel-sampling baseline, compared at equal test-time tokens.

The baseline samples ``n`` answers at the lowest budget (verbosity 0) at a
temperature, and pass@k (the unbiased estimator) is plotted at k x the average
tokens of one sample, for k = 1..n. Sleep-time answers at a few verbosities are
placed on the same axis. pass@k is an oracle (any of k samples correct), which
favours the baseline; the paper finds sleep-time generally dominates anyway.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from pydantic import Field

from .. import plots
from ..config import BenchOptions, Condition
from ..metrics import Row, by, condition_table, mean, mean_std, pass_at_k
from ..runner import BenchRun
from .common import Claim, Experiment, Outcome, generic_notes, pct, sleep_spec

DEFAULT_SLEEP_VERBOSITIES = (0, 1, 2)
BASELINE = "test-time v0 pass@k"


class Options(BenchOptions):
    n: int = Field(5, ge=1, le=64, description="Samples per question for pass@k.")
    temperature: float = Field(0.7, gt=0, le=2, description="Sampling temperature of the samples.")


def conditions(options: Options) -> list[Condition]:
    spec = sleep_spec(options)
    out = [
        Condition(f"sleep-time v{v}", "sleep", v, spec, params={"mode": "sleep-time", "budget": v})
        for v in options.verbosities or DEFAULT_SLEEP_VERBOSITIES
    ]
    out.append(
        Condition(
            BASELINE,
            "test-time",
            0,
            n=options.n,
            temperature=options.temperature,
            params={"mode": "pass@k", "budget": 0},
        )
    )
    return out


def passk_curve(rows: list[Row]) -> list[Row]:
    """pass@k for k = 1..n at k x the average tokens per sample (mean and spread over seeds)."""
    if not rows:
        return []
    # A failed call has fewer samples than n: its missing samples count as wrong.
    n = max(len(r["sample_scores"]) for r in rows)
    curve = []
    for k in range(1, n + 1):
        per_seed = []
        for group in by(rows, "seed").values():
            acc = mean(pass_at_k(n, sum(1 for s in r["sample_scores"] if s >= 1.0), k) for r in group)
            per_sample = mean(float(r["test_completion_tokens"]) / n for r in group)
            per_seed.append((acc, k * per_sample))
        acc_mean, acc_sd = mean_std(p[0] for p in per_seed)
        tok_mean, tok_sd = mean_std(p[1] for p in per_seed)
        curve.append(
            {
                "k": k,
                "pass_at_k": acc_mean,
                "pass_at_k_std": acc_sd,
                "test_tokens": tok_mean,
                "test_tokens_std": tok_sd,
            }
        )
    return curve


def at_tokens(curve: list[Row], x: float) -> float:
    """pass@k on the curve at ``x`` tokens, interpolated; below one sample: pass@1."""
    if x <= curve[0]["test_tokens"]:
        return float(curve[0]["pass_at_k"])
    for a, b in itertools.pairwise(curve):
        if x <= b["test_tokens"]:
            span = b["test_tokens"] - a["test_tokens"]
            w = (x - a["test_tokens"]) / span if span else 1.0
            return float(a["pass_at_k"] + w * (b["pass_at_k"] - a["pass_at_k"]))
    return float(curve[-1]["pass_at_k"])


def run(bench: BenchRun) -> Outcome:
    options = bench.options_as(Options)
    rows = bench.run(conditions(options))
    table = condition_table(rows)
    curve = passk_curve([r for r in rows if r["condition"] == BASELINE])
    sleep = [r for r in table if r["kind"] == "sleep"]
    comparisons = [(r, at_tokens(curve, float(r["test_tokens"]))) for r in sleep] if curve else []
    wins = sum(1 for r, base in comparisons if r["accuracy"] >= base)
    if comparisons:
        measured = "; ".join(
            f"{r['condition']} {pct(r['accuracy'])} vs pass@k {pct(base)} at {r['test_tokens']:.0f} tokens"
            for r, base in comparisons
        )
        anything = any(r["accuracy"] > 0 or base > 0 for r, base in comparisons)
        holds: bool | None = wins * 2 > len(comparisons) if anything else None
    else:
        measured, holds = "no data", None
    claims = [
        Claim("Sleep-time beats pass@k at equal test-time tokens", "generally dominates", measured, holds)
    ]
    notes = generic_notes(rows, options)
    notes.append(
        f"pass@k samples {options.n} answers at temperature {options.temperature:g}; "
        "x = k x average tokens per sample. pass@k counts a question solved when any of k samples "
        "is right, an oracle no deployed system has."
    )
    return Outcome(
        "passk", options, bench.model_name, rows, {"passk": curve, "conditions": table}, claims, notes
    )


def plot(outcome: Outcome, path: Path) -> Path:
    fig, ax = plots.figure()
    curve = outcome.tables["passk"]
    plots.line(ax, curve, "test_tokens", "pass_at_k", label=BASELINE, color="tab:orange", marker="s", tag="k")
    sleep = [r for r in outcome.tables["conditions"] if r["kind"] == "sleep"]
    plots.line(
        ax, sleep, "test_tokens", "accuracy", label="sleep-time", color="tab:blue", marker="o", tag="budget"
    )
    plots.log_x_if_positive(ax, [*curve, *sleep], "test_tokens")
    xlabel = "avg test-time completion tokens per question"
    return plots.finish(fig, ax, path, plots.title(outcome, "pass@k vs sleep-time"), xlabel, "accuracy (%)")


EXPERIMENT = Experiment(
    "passk",
    "pass@k of sampled verbosity-0 answers vs sleep-time, at equal test-time tokens.",
    Options,
    run,
    plot,
)

__all__ = [
    "BASELINE",
    "DEFAULT_SLEEP_VERBOSITIES",
    "EXPERIMENT",
    "Options",
    "at_tokens",
    "conditions",
    "passk_curve",
    "plot",
    "run",
]
