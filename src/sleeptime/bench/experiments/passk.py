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
from ..metrics import Row, by, condition_table, interval95, mean, mean_std, pass_at_k
from ..runner import BenchRun
from .common import Claim, Experiment, Outcome, build_outcome, interval_text, overlap, pct, sleep_spec

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
        pooled = [pass_at_k(n, sum(1 for s in r["sample_scores"] if s >= 1.0), k) for r in rows]
        low, high = interval95(pooled)
        curve.append(
            {
                "k": k,
                "pass_at_k": acc_mean,
                "pass_at_k_std": acc_sd,
                "pass_at_k_ci_low": low,
                "pass_at_k_ci_high": high,
                "test_tokens": tok_mean,
                "test_tokens_std": tok_sd,
            }
        )
    return curve


def at_tokens(curve: list[Row], x: float, key: str = "pass_at_k") -> float:
    """``key`` (pass@k, or an end of its interval) on the curve at ``x`` tokens, interpolated;
    below one sample: pass@1's."""
    if x <= curve[0]["test_tokens"]:
        return float(curve[0][key])
    for a, b in itertools.pairwise(curve):
        if x <= b["test_tokens"]:
            span = b["test_tokens"] - a["test_tokens"]
            w = (x - a["test_tokens"]) / span if span else 1.0
            return float(a[key] + w * (b[key] - a[key]))
    return float(curve[-1][key])


def _baseline_at(curve: list[Row], x: float) -> Row:
    """pass@k on the curve at ``x`` tokens, with its 95% interval, as a row like a condition's."""
    return {
        "accuracy": at_tokens(curve, x),
        "accuracy_ci_low": at_tokens(curve, x, "pass_at_k_ci_low"),
        "accuracy_ci_high": at_tokens(curve, x, "pass_at_k_ci_high"),
    }


def run(bench: BenchRun) -> Outcome:
    options = bench.options_as(Options)
    rows = bench.run(conditions(options))
    table = condition_table(rows)
    curve = passk_curve([r for r in rows if r["condition"] == BASELINE])
    sleep = [r for r in table if r["kind"] == "sleep"]
    comparisons = [(r, _baseline_at(curve, float(r["test_tokens"]))) for r in sleep] if curve else []
    # Only comparisons whose 95% intervals do not overlap can say who is ahead.
    decided = [(r, base) for r, base in comparisons if not overlap(r, base)]
    wins = sum(1 for r, base in decided if r["accuracy"] >= base["accuracy"])
    holds: bool | None = None
    if comparisons:
        measured = "; ".join(
            f"{r['condition']} {pct(r['accuracy'])}{interval_text(r)} vs pass@k {pct(base['accuracy'])}"
            f"{interval_text(base)} at {r['test_tokens']:.0f} tokens"
            for r, base in comparisons
        )
        anything = any(r["accuracy"] > 0 or base["accuracy"] > 0 for r, base in comparisons)
        if anything and decided:
            holds = wins * 2 > len(decided)
        elif anything:
            measured += " (95% intervals overlap)"
    else:
        measured = "no data"
    claims = [
        Claim("Sleep-time beats pass@k at equal test-time tokens", "generally dominates", measured, holds)
    ]
    note = (
        f"pass@k samples {options.n} answers at temperature {options.temperature:g}; "
        "x = k x average tokens per sample. pass@k counts a question solved when any of k samples "
        "is right, an oracle no deployed system has."
    )
    return build_outcome("passk", options, bench, rows, {"passk": curve, "conditions": table}, claims, [note])


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
