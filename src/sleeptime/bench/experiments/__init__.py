"""The paper's experiments, one module each; ``EXPERIMENTS[name](bench) -> Outcome``.

=============== ============================================================ ============================
name            what it compares                                             default dataset
=============== ============================================================ ============================
pareto          accuracy vs test-time tokens, verbosity 0-4, +/- sleep       stateful-gsm-symbolic-p2
passk           pass@k of sampled answers vs sleep-time, at equal tokens     stateful-gsm-symbolic-p2
scaling         k parallel learned contexts, rethink rounds, effort          stateful-gsm-symbolic-p2
amortization    cost per query for N = 1, 2, 5, 10 queries per context       multi-query-gsm-symbolic-p2
predictability  sleep-time's gain per quantile bin of log P(q | c)           stateful-gsm-symbolic-p2
ablation        sleep-time vs answering without the question                 stateful-gsm-symbolic-p2
swe             files to modify for a feature PR, under a step budget        swe-features
=============== ============================================================ ============================
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..runner import BenchRun
from . import ablation, amortization, pareto, passk, predictability, scaling, swe
from .common import Claim, Outcome

Experiment = Callable[[BenchRun], Outcome]

EXPERIMENTS: dict[str, Experiment] = {
    "pareto": pareto.run,
    "passk": passk.run,
    "scaling": scaling.run,
    "amortization": amortization.run,
    "predictability": predictability.run,
    "ablation": ablation.run,
    "swe": swe.run,
}

DEFAULT_DATASETS: dict[str, str] = {
    "pareto": "stateful-gsm-symbolic-p2",
    "passk": "stateful-gsm-symbolic-p2",
    "scaling": "stateful-gsm-symbolic-p2",
    "amortization": "multi-query-gsm-symbolic-p2",
    "predictability": "stateful-gsm-symbolic-p2",
    "ablation": "stateful-gsm-symbolic-p2",
    "swe": "swe-features",
}


def run_experiment(bench: BenchRun, *, command: str | None = None) -> tuple[Outcome, dict[str, Path]]:
    """Run ``bench.config.experiment`` and write its report (plots, summary, CSV, report.md) into
    ``bench.out``; returns the outcome and the files written."""
    from ..plots import make_plots
    from ..report import write_report

    name = bench.config.experiment
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    outcome = EXPERIMENTS[name](bench)
    plots = make_plots(outcome, bench.out)
    stats: dict[str, Any] = bench.cache_stats()
    written = write_report(outcome, bench.out, command=command, run_stats=stats)
    return outcome, {**written, **{f"{k}.png": v for k, v in plots.items()}}


__all__ = ["DEFAULT_DATASETS", "EXPERIMENTS", "Claim", "Experiment", "Outcome", "run_experiment"]
