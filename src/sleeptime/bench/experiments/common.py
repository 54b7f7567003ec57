"""What an experiment is (``Experiment``), what it returns (``Outcome``), and the helpers they share.

An experiment is one record in one module: its name, a one-line summary, its
options model (a ``BenchOptions`` subclass), ``run(bench) -> Outcome`` and
``plot(outcome, path) -> path``. ``experiments/__init__.py`` lists them; the CLI
builds one ``sleeptime bench`` command per record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import BenchOptions, Condition, SleepSpec
from ..metrics import Row

if TYPE_CHECKING:
    from ..runner import BenchRun

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
    options: BenchOptions
    model: str
    rows: list[Row]
    tables: dict[str, list[Row]]  # the first is the main table (summary.csv)
    claims: list[Claim]
    notes: list[str] = field(default_factory=list)
    plots: dict[str, Path] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # extra series for plots


@dataclass(frozen=True)
class Experiment:
    """One of the paper's experiments: everything the CLI, the runner and the report need."""

    name: str
    summary: str  # one line: the command's help and the docs' table
    options: type[BenchOptions]
    run: Callable[[BenchRun], Outcome]
    plot: Callable[[Outcome, Path], Path]


def sleep_spec(options: BenchOptions, **knobs: Any) -> SleepSpec:
    """A sleep budget: ``knobs``, over --sleep-rounds / --sleep-max-tokens, over --sleep."""
    merged: dict[str, Any] = dict(options.sleep)
    if options.sleep_rounds is not None:
        merged["rounds"] = options.sleep_rounds
    if options.sleep_max_tokens is not None:
        merged["max_tokens"] = options.sleep_max_tokens
    merged.update({k: v for k, v in knobs.items() if v is not None})
    return SleepSpec(**merged)


def paired_over(v: int, spec: SleepSpec, budgets: list[tuple[str, Any, dict[str, Any]]]) -> list[Condition]:
    """Sleep-time and test-time-only at verbosity ``v`` for each (label, budget value, Condition
    fields) of ``budgets`` (reasoning efforts, step budgets), sleep-time first."""
    out = []
    for label, value, fields in budgets:
        params = {"budget": value}
        out.append(Condition(f"sleep-time {label}", "sleep", v, spec, params=params, **fields))
        out.append(Condition(f"test-time {label}", "test-time", v, params=params, **fields))
    return out


def paired(verbosities: tuple[int, ...], spec: SleepSpec) -> list[Condition]:
    """Sleep-time and test-time-only at each verbosity, sleep-time first."""
    out = []
    for v in verbosities:
        out.append(
            Condition(f"sleep-time v{v}", "sleep", v, spec, params={"mode": "sleep-time", "budget": v})
        )
        out.append(Condition(f"test-time v{v}", "test-time", v, params={"mode": "test-time", "budget": v}))
    return out


def overlap(a: Row, b: Row, metric: str = "accuracy") -> bool:
    """Do the 95% intervals of two table rows overlap (or is either unknown)? Then the data cannot
    carry a verdict on which is ahead."""
    lows = [r.get(f"{metric}_ci_low") for r in (a, b)]
    highs = [r.get(f"{metric}_ci_high") for r in (a, b)]
    known = all(isinstance(v, (int, float)) and not math.isnan(v) for v in (*lows, *highs))
    return not known or (lows[0] <= highs[1] and lows[1] <= highs[0])  # type: ignore[operator]


def judged(
    measured: str, holds: bool | None, *pairs: tuple[Row, Row], metric: str = "accuracy"
) -> tuple[str, bool | None]:
    """A claim's verdict: "cannot tell" (None) whenever the 95% intervals of a compared pair
    overlap, whatever the point estimates say; the measured text says so."""
    if holds is None or not any(overlap(a, b, metric) for a, b in pairs):
        return measured, holds
    return f"{measured} (95% intervals overlap)", None


def interval_text(row: Row, metric: str = "accuracy", fmt: Callable[[float], str] | None = None) -> str:
    """`` [low-high]``, the row's 95% interval of ``metric`` (in percent), or "" if it has none."""
    low, high = row.get(f"{metric}_ci_low"), row.get(f"{metric}_ci_high")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or math.isnan(low):
        return ""
    show = fmt or pct
    return f" [{show(low)} to {show(high)}]" if fmt else f" [{show(low)}-{show(high)}]"


def pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.0%}"


def pp(value: float) -> str:
    """A difference of accuracies in percentage points."""
    return "n/a" if math.isnan(value) else f"{value * 100:+.1f} pp"


def generic_notes(rows: list[Row], options: BenchOptions) -> list[str]:
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
    if options.seeds == 1:
        notes.append("One seed: the spread across runs is not measured (the paper averages 3 runs).")
    return notes


def build_outcome(
    experiment: str,
    options: BenchOptions,
    bench: BenchRun,
    rows: list[Row],
    tables: dict[str, list[Row]],
    claims: list[Claim],
    notes: Sequence[str] = (),
) -> Outcome:
    """What an experiment's ``run`` returns: its own ``notes`` follow the generic ones, so no
    report can leave out how far its numbers can be trusted."""
    return Outcome(
        experiment, options, bench.model_name, rows, tables, claims, [*generic_notes(rows, options), *notes]
    )


__all__ = [
    "FEW_QUESTIONS",
    "Claim",
    "Experiment",
    "Outcome",
    "build_outcome",
    "generic_notes",
    "interval_text",
    "judged",
    "overlap",
    "paired",
    "paired_over",
    "pct",
    "pp",
    "sleep_spec",
]
