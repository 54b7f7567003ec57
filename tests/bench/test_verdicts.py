"""A verdict is "cannot tell" whenever the 95% intervals of what it compares overlap."""

from __future__ import annotations

from typing import Any

from sleeptime.bench.experiments.amortization import cost_claim
from sleeptime.bench.experiments.common import judged, overlap
from sleeptime.bench.experiments.pareto import tokens_claims
from sleeptime.bench.metrics import interval95


def _row(name: str, kind: str, tokens: float, right: int, of: int) -> dict[str, Any]:
    low, high = interval95([1.0] * right + [0.0] * (of - right))
    return {
        "condition": name,
        "kind": kind,
        "test_tokens": tokens,
        "accuracy": right / of,
        "accuracy_ci_low": low,
        "accuracy_ci_high": high,
    }


def test_overlap_and_judged() -> None:
    a, b = _row("a", "sleep", 10, 0, 5), _row("b", "test-time", 90, 1, 5)
    assert overlap(a, b) and overlap(a, {"accuracy": 0.5})  # an unknown interval cannot separate
    assert not overlap(_row("c", "sleep", 10, 95, 100), _row("d", "test-time", 90, 5, 100))
    assert judged("x", True, (a, b)) == ("x (95% intervals overlap)", None)
    assert judged("x", False, (_row("c", "sleep", 1, 95, 100), _row("d", "sleep", 1, 5, 100))) == ("x", False)
    assert judged("x", None) == ("x", None)


def test_the_five_problem_pareto_run_cannot_tell() -> None:
    """The issue's report: 0% vs 20% on 5 problems, intervals 0-43% and 4-62%, said yes and **no**."""
    table = [
        _row("sleep-time v0", "sleep", 12, 1, 5),
        _row("test-time v0", "test-time", 60, 1, 5),
        _row("sleep-time v4", "sleep", 80, 0, 5),
        _row("test-time v4", "test-time", 200, 1, 5),
    ]
    claims = tokens_claims(table)
    assert [c.holds for c in claims] == [None, None]
    assert all("95% intervals overlap" in c.measured for c in claims)
    assert "[4%-62%]" in claims[1].measured


def test_separated_intervals_keep_the_verdict() -> None:
    table = [
        _row("sleep-time v0", "sleep", 12, 90, 100),
        _row("test-time v0", "test-time", 10, 20, 100),
        _row("test-time v4", "test-time", 200, 92, 100),
        _row("sleep-time v4", "sleep", 220, 30, 100),
    ]
    claims = tokens_claims(table)
    assert claims[0].holds is True and "x:" in claims[0].measured
    assert claims[1].holds is True  # the baseline ahead at the top, clearly


def test_amortization_verdict_reads_the_intervals_too() -> None:
    def at(n: int, kind: str, cost: float, right: int, of: int) -> dict[str, Any]:
        row = _row(f"{kind} {cost}", kind, 0, right, of)
        return {**row, "n_queries": n, "cost_per_query": cost, "contexts": 3}

    close = [at(10, "sleep", 100, 2, 5), at(10, "test-time", 300, 2, 5), at(10, "test-time", 50, 1, 5)]
    assert cost_claim(close).holds is None
    clear = [
        at(10, "sleep", 100, 95, 100),
        at(10, "test-time", 300, 96, 100),
        at(10, "test-time", 50, 10, 100),
    ]
    assert cost_claim(clear).holds is True
