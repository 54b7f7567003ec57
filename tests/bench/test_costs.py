"""The amortized cost model: cost per query = t x test tokens + sleep tokens / N."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sleeptime.bench.costs import amortized_table, rows_for_n
from sleeptime.costs import DEFAULT_T, break_even, cost_per_query


def test_cost_per_query_is_the_papers_formula() -> None:
    assert DEFAULT_T == 10.0
    assert cost_per_query(20, 100, 1) == 300.0
    assert cost_per_query(20, 100, 10) == 210.0
    assert cost_per_query(20, 100, 10, t=1) == 30.0
    assert cost_per_query(20, 0, 4) == 200.0  # test-time only: nothing to share


@pytest.mark.parametrize(
    ("test", "sleep", "n", "t"), [(1, 1, 0, 10), (-1, 1, 1, 10), (1, -1, 1, 10), (1, 1, 1, -1)]
)
def test_cost_per_query_refuses_nonsense(test: float, sleep: float, n: int, t: float) -> None:
    with pytest.raises(ValueError):
        cost_per_query(test, sleep, n, t)


@given(st.floats(0, 1e4), st.floats(0, 1e5), st.integers(1, 100), st.floats(0, 100))
def test_more_queries_never_cost_more(test: float, sleep: float, n: int, t: float) -> None:
    assert cost_per_query(test, sleep, n + 1, t) <= cost_per_query(test, sleep, n, t)


def test_break_even_is_the_first_n_at_which_sleeping_costs_no_more() -> None:
    assert break_even(300, 10.0, 25.0, t=10) == 2  # saving 150 per query: 300 / 150
    assert break_even(301, 10.0, 25.0, t=10) == 3
    assert break_even(0, 10.0, 25.0) == 0
    assert break_even(300, 25.0, 10.0) is None and break_even(300, None, 10.0) is None
    for sleep, learned, raw, t in [(300, 10.0, 25.0, 10.0), (1234, 3.5, 40.0, 2.0)]:
        n = break_even(sleep, learned, raw, t)
        assert n is not None
        before = cost_per_query(learned, sleep, max(1, n - 1), t)
        assert cost_per_query(learned, sleep, n, t) <= t * raw < before


def _row(
    seed: int, ex: str, qi: int, nq: int, cond: str, score: float, test: int, sleep: int
) -> dict[str, Any]:
    return {
        "seed": seed,
        "example_id": ex,
        "question_index": qi,
        "n_questions": nq,
        "condition": cond,
        "kind": "sleep" if cond.startswith("sleep") else "test-time",
        "verbosity": 0,
        "score": score,
        "test_completion_tokens": test,
        "sleep_completion_tokens": sleep,
    }


# Context a has 2 questions, context b has 1; sleep-time spent 100 tokens on a and 60 on b.
ROWS = [
    _row(0, "a", 0, 2, "sleep", 1.0, 10, 100),
    _row(0, "a", 1, 2, "sleep", 0.0, 20, 100),
    _row(0, "b", 0, 1, "sleep", 1.0, 30, 60),
    _row(0, "a", 0, 2, "test", 1.0, 50, 0),
    _row(0, "a", 1, 2, "test", 1.0, 70, 0),
    _row(0, "b", 0, 1, "test", 0.0, 90, 0),
]


def test_rows_for_n_keeps_the_first_n_questions_of_contexts_with_enough() -> None:
    assert {(r["example_id"], r["question_index"]) for r in rows_for_n(ROWS, 1)} == {("a", 0), ("b", 0)}
    assert {(r["example_id"], r["question_index"]) for r in rows_for_n(ROWS, 2)} == {("a", 0), ("a", 1)}
    assert rows_for_n(ROWS, 3) == []


def test_amortized_table() -> None:
    table = {(r["n_queries"], r["condition"]): r for r in amortized_table(ROWS, (1, 2, 5), t=10)}
    one = table[(1, "sleep")]
    # N = 1: questions a0 and b0; test tokens (10 + 30) / 2; sleep tokens (100 + 60) / 2 per context.
    assert one["contexts"] == 2 and one["questions"] == 2 and one["accuracy"] == 1.0
    assert one["cost_per_query"] == pytest.approx(10 * 20 + 80 / 1)
    two = table[(2, "sleep")]
    assert two["contexts"] == 1 and two["accuracy"] == 0.5
    assert two["cost_per_query"] == pytest.approx(10 * 15 + 100 / 2)
    assert table[(2, "test")]["cost_per_query"] == pytest.approx(10 * 60)
    assert table[(5, None)] == {"n_queries": 5, "condition": None, "contexts": 0, "questions": 0}


def test_amortized_table_reports_the_spread_over_seeds() -> None:
    rows = [*ROWS, *({**r, "seed": 1, "score": 1.0 - r["score"]} for r in ROWS)]
    row = next(r for r in amortized_table(rows, (2,)) if r["condition"] == "sleep")
    assert row["accuracy"] == 0.5 and row["accuracy_std"] == 0.0
    rows = [*ROWS, *({**r, "seed": 1, "test_completion_tokens": 0} for r in ROWS)]
    row = next(r for r in amortized_table(rows, (2,)) if r["condition"] == "sleep")
    assert row["cost_per_query"] == pytest.approx((200 + 50) / 2)
    assert row["cost_per_query_std"] == pytest.approx(106.066, rel=1e-4)
