"""Experiment 3: scaling sleep-time compute at a fixed test-time budget.

Three sweeps of the sleep budget, each answered at the same test-time
verbosities: ``k`` parallel learned contexts joined at test time (the paper's
scaling for non-reasoning models; k = 1, 2, 5, 10), rethink rounds (k = 1), and
reasoning effort at sleep time (reasoning models, with ``--efforts``). Any other
sleep budgets are swept with ``--sleep-budgets``, a JSON list of budgets (any
``Budget`` fields, so a knob added to ``Budget`` needs no code here), e.g.
``'[{"rounds": 1}, {"rounds": 1, "k": 3}]'``. The paper reports up to +13%
accuracy on GSM-Symbolic and +18% on AIME at a similar test-time budget.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator

from ...llm.base import ReasoningEffort
from .. import plots
from ..config import BenchOptions, Condition, SleepSpec, sleep_knobs
from ..metrics import Row, condition_table
from ..runner import BenchRun
from .common import Claim, Experiment, Outcome, build_outcome, interval_text, judged, pct, pp, sleep_spec

DEFAULT_VERBOSITIES = (0,)


class Options(BenchOptions):
    ks: tuple[Annotated[int, Field(ge=1, le=16)], ...] = Field(
        (1, 2, 5, 10), description="Parallel learned contexts k, e.g. 1,2,5,10."
    )
    rounds: tuple[Annotated[int, Field(ge=1, le=20)], ...] = Field(
        (1, 2, 3, 5), description="Rethink rounds (k = 1), e.g. 1,2,3,5."
    )
    efforts: tuple[ReasoningEffort, ...] = Field(
        (), description="Sleep-time reasoning efforts, e.g. low,high (reasoning models)."
    )
    sleep_budgets: tuple[dict[str, Any], ...] = Field(
        (), description='More sleep budgets, a JSON list of Budget fields, e.g. [{"k": 2, "rounds": 1}].'
    )
    questions_per_context: int = Field(
        1,
        ge=1,
        le=100,
        description="Questions asked per context: 1 is the stateful datasets' one question; more "
        "asks a Multi-Query context's others too.",
    )

    @field_validator("sleep_budgets")
    @classmethod
    def _budgets(cls, value: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        return tuple(sleep_knobs(b) for b in value)


def conditions(options: Options) -> list[Condition]:
    sweeps: list[tuple[str, object, SleepSpec]] = []
    sweeps += [("k", k, sleep_spec(options, k=k)) for k in options.ks]
    sweeps += [("rounds", r, sleep_spec(options, rounds=r)) for r in options.rounds]
    sweeps += [("effort", e, sleep_spec(options, effort=e)) for e in options.efforts]
    for knobs in options.sleep_budgets:
        spec = sleep_spec(options, **knobs)
        sweeps.append(("budget", SleepSpec(**knobs).label, spec))
    out = []
    for v in options.verbosities or DEFAULT_VERBOSITIES:
        for sweep, value, spec in sweeps:
            params = {"sweep": sweep, "value": value, "budget": v}
            name = f"sleep {value} v{v}" if sweep == "budget" else f"sleep {sweep}={value} v{v}"
            out.append(Condition(name, "sleep", v, spec, params=params))
        params = {"sweep": "none", "value": None, "budget": v}
        out.append(Condition(f"test-time v{v}", "test-time", v, params=params))
    return out


def sweep_gains(table: list[Row]) -> list[Row]:
    """Per sweep and verbosity: accuracy at the smallest and the best sleep budget."""
    out = []
    groups: dict[tuple[str, object], list[Row]] = {}
    for r in table:
        if r["kind"] == "sleep":
            groups.setdefault((r["sweep"], r["budget"]), []).append(r)
    for (sweep, v), group in groups.items():
        first = group[0]
        best = max(group, key=lambda r: (r["accuracy"], -r["sleep_tokens_per_context"]))
        out.append(
            {
                "sweep": sweep,
                "verbosity": v,
                "smallest": first["condition"],
                "smallest_accuracy": first["accuracy"],
                "best": best["condition"],
                "best_accuracy": best["accuracy"],
                "gain": best["accuracy"] - first["accuracy"],
                "test_tokens_smallest": first["test_tokens"],
                "test_tokens_best": best["test_tokens"],
            }
        )
    return out


def run(bench: BenchRun) -> Outcome:
    options = bench.options_as(Options)
    rows = bench.run(conditions(options), max_questions=options.questions_per_context)
    table = condition_table(rows)
    gains = sweep_gains(table)
    aime = options.dataset.startswith("stateful-aime")
    paper = "+18% (AIME)" if aime else "+13% (GSM-Symbolic)"
    if gains:
        top = max(gains, key=lambda g: g["gain"])
        measured = (
            f"{pp(top['gain'])}: {top['best']} {pct(top['best_accuracy'])} vs {top['smallest']} "
            f"{pct(top['smallest_accuracy'])} (test-time tokens {top['test_tokens_best']:.0f} vs "
            f"{top['test_tokens_smallest']:.0f})"
        )
        nothing = math.isnan(top["gain"]) or top["best_accuracy"] == 0  # no correct answer anywhere
        named = {r["condition"]: r for r in table}
        best, smallest = named[top["best"]], named[top["smallest"]]
        measured += f"; 95% intervals{interval_text(best)} vs{interval_text(smallest)}"
        measured, holds = judged(measured, None if nothing else top["gain"] > 0, (best, smallest))
    else:
        measured, holds = "no sleep-time data", None
    claims = [
        Claim("More sleep-time compute raises accuracy at a similar test-time budget", paper, measured, holds)
    ]
    note = (
        "k > 1 learned contexts are sampled at temperature 0.7 and joined at test time; k = 1 is greedy. "
        "Large k can overflow a small model's window: such answers count as failures."
    )
    tables = {"conditions": table, "gains": gains}
    return build_outcome("scaling", options, bench, rows, tables, claims, [note])


def plot(outcome: Outcome, path: Path) -> Path:
    fig, ax = plots.figure()
    table = outcome.tables["conditions"]
    colors = iter(plots.COLORS)
    groups: dict[tuple[Any, Any], list[Row]] = {}
    for r in table:
        if r["kind"] == "sleep":
            groups.setdefault((r["sweep"], r["budget"]), []).append(r)
    for (sweep, v), rows in groups.items():
        plots.line(
            ax,
            rows,
            "sleep_tokens_per_context",
            "accuracy",
            label=f"{sweep} (test v{v})",
            color=next(colors, "black"),
            marker="o",
            tag="value",
        )
    for r in table:
        if r["kind"] == "test-time" and plots.ok(r["accuracy"]):
            ax.axhline(r["accuracy"], color="tab:orange", linestyle="--", label=f"{r['condition']}")
    plots.log_x_if_positive(ax, [r for r in table if r["kind"] == "sleep"], "sleep_tokens_per_context")
    xlabel = "avg sleep-time completion tokens per context"
    return plots.finish(
        fig, ax, path, plots.title(outcome, "scaling sleep-time compute"), xlabel, "accuracy (%)"
    )


EXPERIMENT = Experiment(
    "scaling",
    "Sleep-time scaling: k parallel learned contexts, rethink rounds, effort, any --sleep-budgets.",
    Options,
    run,
    plot,
)

__all__ = ["DEFAULT_VERBOSITIES", "EXPERIMENT", "Options", "conditions", "plot", "run", "sweep_gains"]
