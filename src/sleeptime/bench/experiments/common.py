"""What every experiment returns, and the small helpers they share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import BenchConfig, Condition, SleepSpec
from ..metrics import Row

# With fewer graded questions than this, a report says the numbers cannot settle a claim.
FEW_QUESTIONS = 30


@dataclass(frozen=True)
class Claim:
    """A headline result of the paper next to what this run measured.

    ``holds``: True / False when the measurement agrees / disagrees in direction,
    None when this run cannot tell (no data for it).
    """

    claim: str
    paper: str
    measured: str
    holds: bool | None


@dataclass
class Outcome:
    experiment: str
    config: BenchConfig
    model: str
    rows: list[Row]
    tables: dict[str, list[Row]]  # the first is the main table (summary.csv)
    claims: list[Claim]
    notes: list[str] = field(default_factory=list)
    plots: dict[str, Path] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # extra series for plots


def sleep_spec(config: BenchConfig, **fields: Any) -> SleepSpec:
    """A sleep budget with the run's --sleep-rounds / --sleep-max-tokens unless given."""
    fields.setdefault("rounds", config.sleep_rounds)
    fields.setdefault("max_tokens", config.sleep_max_tokens)
    return SleepSpec(**fields)


def paired(verbosities: tuple[int, ...], spec: SleepSpec, *, effort: str | None = None) -> list[Condition]:
    """Sleep-time and test-time-only at each verbosity, sleep-time first."""
    out = []
    for v in verbosities:
        out.append(
            Condition(f"sleep-time v{v}", "sleep", v, spec, params={"mode": "sleep-time", "budget": v})
        )
        out.append(Condition(f"test-time v{v}", "test-time", v, params={"mode": "test-time", "budget": v}))
    return out


def pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0%}"


def pp(value: float) -> str:
    """A difference of accuracies in percentage points."""
    return "n/a" if math.isnan(value) else f"{value * 100:+.1f} pp"


def generic_notes(rows: list[Row], config: BenchConfig) -> list[str]:
    """What every report should say about how far its numbers can be trusted."""
    notes = []
    questions = len({(r["seed"], r["example_id"], r["question_index"]) for r in rows})
    if questions < FEW_QUESTIONS:
        notes.append(
            f"Only {questions} question(s) were graded per condition: differences of a few points "
            "are noise. Use a larger --limit (and --seeds 3) before drawing conclusions."
        )
    errors = [r for r in rows if r.get("error")]
    if errors:
        notes.append(
            f"{len(errors)} answer(s) of {len(rows)} met a model failure (unusable output or a prompt "
            "too long for the window) and count as wrong; see `error` in results.jsonl."
        )
    raw = [r for r in rows if r["kind"] == "sleep" and r.get("source") == "raw"]
    if raw:
        notes.append(
            f"{len(raw)} sleep-time answer(s) had no learned context (the sleep failed) and were "
            "answered from the raw context, as the engine does for users."
        )
    if config.seeds == 1:
        notes.append("One seed: the spread across runs is not measured (the paper averages 3 runs).")
    return notes


__all__ = ["FEW_QUESTIONS", "Claim", "Outcome", "generic_notes", "paired", "pct", "pp", "sleep_spec"]
