"""pass@k, means over seeds and ratios at equal accuracy."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sleeptime.bench.metrics import (
    condition_table,
    interval95,
    mean_std,
    pass_at_k,
    ratio_at_equal_accuracy,
    spearman,
)


def test_pass_at_k_unbiased_estimator() -> None:
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 5, 1) == 1.0
    assert pass_at_k(5, 1, 1) == pytest.approx(0.2)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)
    assert pass_at_k(5, 4, 2) == 1.0  # every pair contains a correct sample
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


@given(st.integers(1, 20).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_pass_at_k_grows_with_k(nc: tuple[int, int]) -> None:
    n, c = nc
    values = [pass_at_k(n, c, k) for k in range(1, n + 1)]
    assert values == sorted(values) and values[0] == pytest.approx(c / n)


def test_mean_std() -> None:
    assert mean_std([1.0]) == (1.0, 0.0)
    m, s = mean_std([1.0, 3.0])
    assert m == 2.0 and s == pytest.approx(math.sqrt(2))
    assert all(math.isnan(v) for v in mean_std([]))


def test_ratio_at_equal_accuracy_interpolates_the_baseline_frontier() -> None:
    baseline = [(20.0, 0.3), (60.0, 0.7), (100.0, 0.6)]
    found = ratio_at_equal_accuracy([(10.0, 0.5)], baseline)
    assert found is not None
    assert found["baseline_x"] == pytest.approx(40.0) and found["ratio"] == pytest.approx(4.0)
    assert ratio_at_equal_accuracy([(10.0, 0.9)], baseline) is None  # never that accurate
    cheapest = ratio_at_equal_accuracy([(10.0, 0.2)], baseline)
    assert cheapest is not None and cheapest["ratio"] == pytest.approx(2.0)  # a lower bound
    assert ratio_at_equal_accuracy([(10.0, 0.0)], baseline) is None  # nothing right: nothing to match
    best = ratio_at_equal_accuracy([(10.0, 0.3), (20.0, 0.7)], baseline)
    assert best is not None and best["ratio"] == pytest.approx(3.0)


def test_spearman() -> None:
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 2], [5, 5]))


def test_condition_table_means_over_seeds() -> None:
    def row(seed: int, ex: str, score: float, tokens: int) -> dict[str, Any]:
        return {
            "seed": seed,
            "example_id": ex,
            "condition": "sleep v0",
            "kind": "sleep",
            "verbosity": 0,
            "params": {"budget": 0},
            "sleep_label": "default",
            "score": score,
            "test_completion_tokens": tokens,
            "sleep_completion_tokens": 40,
            "error": None,
        }

    rows = [row(0, "a", 1.0, 10), row(0, "b", 0.0, 20), row(1, "c", 1.0, 30), row(1, "d", 1.0, 30)]
    [line] = condition_table(rows)
    assert line["accuracy"] == 0.75 and line["accuracy_std"] == pytest.approx(math.sqrt(0.125))
    assert line["test_tokens"] == 22.5 and line["sleep_tokens_per_context"] == 40
    assert (line["questions"], line["seeds"], line["errors"], line["budget"]) == (4, 2, 0, 0)
    assert line["accuracy_ci_low"] < 0.75 < line["accuracy_ci_high"] <= 1.0


def test_interval95_is_wilson_for_right_wrong_scores() -> None:
    # 3 of 10 right: Wilson's 95% interval is 10.8% - 60.3% (textbook value).
    low, high = interval95([1.0] * 3 + [0.0] * 7)
    assert (low, high) == (pytest.approx(0.1078, abs=1e-3), pytest.approx(0.6032, abs=1e-3))
    low, high = interval95([0.0] * 10)  # 0 of 10 is not certainty: the upper end stays above 0
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-3)
    low, high = interval95([0.5, 0.7, 0.6, 0.4])  # F1 scores: normal interval around the mean
    assert low < 0.55 < high and high - low == pytest.approx(2 * 1.96 * 0.1291 / 2, abs=1e-3)
    assert all(math.isnan(v) for v in interval95([]))
    assert all(math.isnan(v) for v in interval95([1.0], binary=False))  # one F1 score: no interval
