"""Experiment 1: accuracy against test-time tokens, with and without sleep-time compute.

Each test-time budget (verbosity 0-4, or reasoning effort levels) is run twice:
answering from the learned context and from the raw context only. The paper
finds that at low budgets sleep-time reaches the baseline's accuracy with ~5x
fewer test-time tokens, and that at the highest budgets the baseline is slightly
better.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from ...escalation import trusted_notes
from ...llm.base import ReasoningEffort
from .. import plots
from ..config import BenchOptions, Condition
from ..escalation import escalation_table
from ..metrics import Row, condition_table, ratio_at_equal_accuracy
from ..runner import BenchRun
from .common import (
    Claim,
    Experiment,
    Outcome,
    build_outcome,
    interval_text,
    judged,
    paired,
    paired_over,
    pct,
    pp,
    sleep_spec,
)

DEFAULT_VERBOSITIES = (0, 1, 2, 3, 4)
EFFORT_VERBOSITY = 3


class Options(BenchOptions):
    efforts: tuple[ReasoningEffort, ...] = Field(
        (), description="Reasoning efforts instead of verbosities, e.g. low,medium,high (reasoning models)."
    )


def conditions(options: Options) -> list[Condition]:
    spec = sleep_spec(options)
    if not options.efforts:
        return paired(options.verbosities or DEFAULT_VERBOSITIES, spec)
    v = (options.verbosities or (EFFORT_VERBOSITY,))[0]
    return paired_over(v, spec, [(e, e, {"effort": e}) for e in options.efforts])


def run(bench: BenchRun) -> Outcome:
    options = bench.options_as(Options)
    rows = bench.run(conditions(options))
    table = condition_table(rows)
    claims = tokens_claims(table)
    notes: list[str] = []
    tables = {"conditions": table}
    escalation = escalation_table(rows, _notes_reader(bench)) if not options.efforts else []
    if escalation:
        tables["escalation"] = escalation
        notes.append(
            "escalation: Engine.ask(escalate=...) replayed on these answers (no new calls): the lowest "
            "verbosity's answer is kept when the learned context contains what it states, else the "
            "answer at the higher verbosity replaces it and both calls' tokens count."
        )
    return build_outcome("pareto", options, bench, rows, tables, claims, notes)


def _notes_reader(bench: BenchRun) -> Callable[[str], str]:
    @functools.cache
    def notes(learned_id: str) -> str:
        return trusted_notes(bench.engine.get_learned(learned_id))

    return notes


def _baseline_at(base: list[Row], tokens: float) -> Row:
    """The baseline condition a sleep-time point is compared with: the one with the most tokens at
    or below its tokens (the baseline's accuracy at that budget), else the cheapest."""
    below = [r for r in base if float(r["test_tokens"]) <= tokens]
    if below:
        return max(below, key=lambda r: float(r["test_tokens"]))
    return min(base, key=lambda r: float(r["test_tokens"]))


def _best(rows: list[Row]) -> Row:
    return max(rows, key=lambda r: (float(r["accuracy"]), -float(r["test_tokens"])))


def tokens_claims(table: list[Row], *, metric: str = "accuracy") -> list[Claim]:
    """The two Pareto claims, from a table with kind / test_tokens / accuracy (and its 95%
    interval) per condition; "cannot tell" wherever the compared conditions' intervals overlap."""
    sleep = [r for r in table if r["kind"] == "sleep" and not math.isnan(float(r["accuracy"]))]
    base = [r for r in table if r["kind"] == "test-time" and not math.isnan(float(r["accuracy"]))]
    sleep_pts = [(float(r["test_tokens"]), float(r["accuracy"])) for r in sleep]
    base_pts = [(float(r["test_tokens"]), float(r["accuracy"])) for r in base]
    ratio = ratio_at_equal_accuracy(sleep_pts, base_pts)
    holds: bool | None
    pairs: list[tuple[Row, Row]] = []
    if not sleep or not base:
        measured, holds = "no data", None
    elif ratio is not None:
        point = next(
            r
            for r in sleep
            if (float(r["test_tokens"]), float(r["accuracy"])) == (ratio["x"], ratio["accuracy"])
        )
        other = _baseline_at(base, ratio["x"])
        measured = (
            f"{ratio['ratio']:.1f}x: sleep-time reaches {pct(ratio['accuracy'])}{interval_text(point)} "
            f"{metric} with {ratio['x']:.0f} test-time tokens; test-time-only needs "
            f"{ratio['baseline_x']:.0f} "
            f"({other['condition']}: {pct(float(other['accuracy']))}{interval_text(other)})"
        )
        holds, pairs = ratio["ratio"] > 1, [(point, other)]
    elif _best(sleep)["accuracy"] > _best(base)["accuracy"]:
        top_sleep, top_base = _best(sleep), _best(base)
        measured = (
            f"test-time-only never reaches sleep-time's {metric}: best {pct(top_base['accuracy'])}"
            f"{interval_text(top_base)} vs {pct(top_sleep['accuracy'])}{interval_text(top_sleep)} "
            "with sleep-time"
        )
        holds, pairs = True, [(top_sleep, top_base)]
    elif _best(sleep)["accuracy"] > 0:
        top_sleep, top_base = _best(sleep), _best(base)
        measured = (
            f"sleep-time never matches the baseline's {metric}: best {pct(top_sleep['accuracy'])}"
            f"{interval_text(top_sleep)} vs {pct(top_base['accuracy'])}{interval_text(top_base)}"
        )
        holds, pairs = False, [(top_sleep, top_base)]
    else:
        measured, holds = f"sleep-time scored 0 {metric} everywhere: nothing to compare", None
    measured, holds = judged(measured, holds, *pairs)
    claims = [Claim(f"Fewer test-time tokens at equal {metric} (low budgets)", "~5x fewer", measured, holds)]
    if sleep and base:
        top_sleep, top_base = sleep[-1], base[-1]
        diff = float(top_base["accuracy"]) - float(top_sleep["accuracy"])
        measured, holds = judged(
            f"{top_base['condition']} {pct(top_base['accuracy'])}{interval_text(top_base)} vs "
            f"{top_sleep['condition']} {pct(top_sleep['accuracy'])}{interval_text(top_sleep)} ({pp(diff)})",
            None if top_base["accuracy"] == top_sleep["accuracy"] == 0 else diff >= 0,
            (top_sleep, top_base),
        )
        claims.append(
            Claim(
                "At the highest budget, test-time-only is slightly better",
                "baseline slightly ahead",
                measured,
                holds,
            )
        )
    return claims


def plot(outcome: Outcome, path: Path) -> Path:
    return plots.tradeoff(outcome, path, "accuracy")


EXPERIMENT = Experiment(
    "pareto",
    "Accuracy vs test-time tokens, verbosity 0-4 (or --efforts), with and without sleep-time.",
    Options,
    run,
    plot,
)

__all__ = ["DEFAULT_VERBOSITIES", "EXPERIMENT", "Options", "conditions", "plot", "run", "tokens_claims"]
