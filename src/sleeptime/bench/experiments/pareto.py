"""Experiment 1: accuracy against test-time tokens, with and without sleep-time compute.

Each test-time budget (verbosity 0-4, or reasoning effort levels) is run twice:
answering from the learned context and from the raw context only. The paper
finds that at low budgets sleep-time reaches the baseline's accuracy with ~5x
fewer test-time tokens, and that at the highest budgets the baseline is slightly
better.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..config import BenchConfig, Condition
from ..escalation import escalation_table
from ..metrics import Row, condition_table, ratio_at_equal_accuracy
from ..runner import BenchRun
from .common import Claim, Outcome, generic_notes, paired, pct, pp, sleep_spec

DEFAULT_VERBOSITIES = (0, 1, 2, 3, 4)
EFFORT_VERBOSITY = 3


def conditions(config: BenchConfig) -> list[Condition]:
    spec = sleep_spec(config)
    if not config.efforts:
        return paired(config.verbosities or DEFAULT_VERBOSITIES, spec)
    v = (config.verbosities or (EFFORT_VERBOSITY,))[0]
    out = []
    for effort in config.efforts:
        params = {"budget": effort}
        out.append(Condition(f"sleep-time {effort}", "sleep", v, spec, effort=effort, params=params))
        out.append(Condition(f"test-time {effort}", "test-time", v, effort=effort, params=params))
    return out


def run(bench: BenchRun) -> Outcome:
    rows = bench.run(conditions(bench.config))
    table = condition_table(rows)
    claims = tokens_claims(table)
    notes = generic_notes(rows, bench.config)
    tables = {"conditions": table}
    escalation = escalation_table(rows, _notes_reader(bench)) if not bench.config.efforts else []
    if escalation:
        tables["escalation"] = escalation
        notes.append(
            "escalation: Engine.ask(escalate=...) replayed on these answers (no new calls): the lowest "
            "verbosity's answer is kept when the learned context contains what it states, else the "
            "answer at the higher verbosity replaces it and both calls' tokens count."
        )
    return Outcome("pareto", bench.config, bench.model_name, rows, tables, claims, notes)


def _notes_reader(bench: BenchRun) -> Callable[[str], str]:
    @functools.cache
    def notes(learned_id: str) -> str:
        return bench.engine.store.get_learned(learned_id).text

    return notes


def tokens_claims(table: list[Row], *, metric: str = "accuracy") -> list[Claim]:
    """The two Pareto claims, from a table with kind / test_tokens / accuracy per condition."""
    sleep = [r for r in table if r["kind"] == "sleep"]
    base = [r for r in table if r["kind"] == "test-time"]
    sleep_pts = [(float(r["test_tokens"]), float(r["accuracy"])) for r in sleep]
    base_pts = [(float(r["test_tokens"]), float(r["accuracy"])) for r in base]
    ratio = ratio_at_equal_accuracy(sleep_pts, base_pts)
    best_sleep = max((a for _, a in sleep_pts), default=0.0)
    best_base = max((a for _, a in base_pts), default=0.0)
    holds: bool | None
    if ratio is not None:
        measured = (
            f"{ratio['ratio']:.1f}x: sleep-time reaches {pct(ratio['accuracy'])} {metric} with "
            f"{ratio['x']:.0f} test-time tokens; test-time-only needs {ratio['baseline_x']:.0f}"
        )
        holds = ratio["ratio"] > 1
    elif best_sleep > best_base:
        measured = (
            f"test-time-only never reaches sleep-time's {metric}: best {pct(best_base)} "
            f"vs {pct(best_sleep)} with sleep-time"
        )
        holds = True
    elif best_sleep > 0:
        measured, holds = f"sleep-time never matches the baseline's {metric}", False
    else:
        measured, holds = f"sleep-time scored 0 {metric} everywhere: nothing to compare", None
    claims = [Claim(f"Fewer test-time tokens at equal {metric} (low budgets)", "~5x fewer", measured, holds)]
    if sleep and base:
        top_sleep, top_base = float(sleep[-1]["accuracy"]), float(base[-1]["accuracy"])
        diff = top_base - top_sleep
        claims.append(
            Claim(
                "At the highest budget, test-time-only is slightly better",
                "baseline slightly ahead",
                f"{base[-1]['condition']} {pct(top_base)} vs {sleep[-1]['condition']} {pct(top_sleep)} "
                f"({pp(diff)})",
                None if top_base == top_sleep == 0 else diff >= 0,
            )
        )
    return claims


__all__ = ["DEFAULT_VERBOSITIES", "conditions", "run", "tokens_claims"]
