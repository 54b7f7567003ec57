"""The paper's experiments, one module each; ``EXPERIMENTS`` lists their records.

=============== ============================================================ ============================
name            what it compares                                             default dataset
=============== ============================================================ ============================
pareto          accuracy vs test-time tokens, verbosity 0-4, +/- sleep       stateful-gsm-symbolic-p2
passk           pass@k of sampled answers vs sleep-time, at equal tokens     stateful-gsm-symbolic-p2
scaling         k parallel learned contexts, rethink rounds, any budgets     stateful-gsm-symbolic-p2
amortization    cost per query for N = 1, 2, 5, 10 queries per context       multi-query-gsm-symbolic-p2
predictability  sleep-time's gain per quantile bin of log P(q | c)           stateful-gsm-symbolic-p2
ablation        sleep-time vs answering without the question                 stateful-gsm-symbolic-p2
swe             files to modify for a feature PR, under a step budget        swe-features
=============== ============================================================ ============================

A new experiment is a new module with an ``EXPERIMENT`` record (``common.Experiment``:
name, summary, options model, ``run``, ``plot``) added to the tuple below; the CLI
command, its options and ``--help`` follow from the record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import BenchOptions
from ..runner import BenchRun
from . import ablation, amortization, pareto, passk, predictability, scaling, swe
from .common import Claim, Experiment, Outcome

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        pareto.EXPERIMENT,
        passk.EXPERIMENT,
        scaling.EXPERIMENT,
        amortization.EXPERIMENT,
        predictability.EXPERIMENT,
        ablation.EXPERIMENT,
        swe.EXPERIMENT,
    )
}


def experiment_of(options: BenchOptions) -> Experiment:
    """The experiment whose options model ``options`` is."""
    for experiment in EXPERIMENTS.values():
        if type(options) is experiment.options:
            return experiment
    raise ValueError(
        f"{type(options).__name__} is no experiment's options; use one of "
        + ", ".join(f"{e.options.__module__}.Options" for e in EXPERIMENTS.values())
    )


def run_experiment(bench: BenchRun, *, command: str | None = None) -> tuple[Outcome, dict[str, Path]]:
    """Run the experiment of ``bench.options`` and write its report (plot, summary, CSV,
    report.md) into ``bench.out``; returns the outcome and the files written."""
    from ..report import write_report

    experiment = experiment_of(bench.options)
    outcome = experiment.run(bench)
    bench.out.mkdir(parents=True, exist_ok=True)
    plot = experiment.plot(outcome, bench.out / f"{experiment.name}.png")
    outcome.plots[experiment.name] = plot
    stats: dict[str, Any] = bench.cache_stats()
    written = write_report(outcome, bench.out, command=command, run_stats=stats)
    return outcome, {**written, f"{experiment.name}.png": plot}


__all__ = ["EXPERIMENTS", "Claim", "Experiment", "Outcome", "experiment_of", "run_experiment"]
