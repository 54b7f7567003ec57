"""Experiment 6: the context-only ablation. Could the questions simply be guessed?

Besides sleep-time and test-time-only answers, the model is shown only the
context and asked to guess the question and answer it
(``prompts.context_only_messages``), graded against the real question's gold.
The paper: sleep-time clearly beats it, so the queries are not trivially
guessable from the context.
"""

from __future__ import annotations

from ..config import Condition
from ..metrics import condition_table
from ..runner import BenchRun
from .common import Claim, Outcome, generic_notes, paired, pct, pp, sleep_spec

DEFAULT_VERBOSITIES = (0,)


def conditions(bench: BenchRun) -> list[Condition]:
    out = []
    for v in bench.config.verbosities or DEFAULT_VERBOSITIES:
        out += paired((v,), sleep_spec(bench.config))
        out.append(
            Condition(f"context-only v{v}", "context-only", v, params={"mode": "context-only", "budget": v})
        )
    return out


def run(bench: BenchRun) -> Outcome:
    rows = bench.run(conditions(bench))
    table = condition_table(rows)
    claims = []
    for ctx_only in (r for r in table if r["kind"] == "context-only"):
        v = ctx_only["verbosity"]
        sleep = next(r for r in table if r["kind"] == "sleep" and r["verbosity"] == v)
        diff = sleep["accuracy"] - ctx_only["accuracy"]
        claims.append(
            Claim(
                f"Sleep-time clearly beats guessing from the context alone (v{v})",
                "sleep-time well ahead",
                f"sleep-time {pct(sleep['accuracy'])} vs context-only "
                f"{pct(ctx_only['accuracy'])} ({pp(diff)})",
                None if sleep["accuracy"] == ctx_only["accuracy"] == 0 else diff > 0,
            )
        )
    notes = generic_notes(rows, bench.config)
    return Outcome("ablation", bench.config, bench.model_name, rows, {"conditions": table}, claims, notes)


__all__ = ["DEFAULT_VERBOSITIES", "conditions", "run"]
