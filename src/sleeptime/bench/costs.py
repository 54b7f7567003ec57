"""The amortization table of a benchmark run (Multi-Query GSM-Symbolic): for N queries per
context, each condition's cost per query under ``sleeptime.costs.cost_per_query``
(``t x test_tokens + sleep_tokens / N``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..costs import DEFAULT_T, cost_per_query
from .metrics import Row, by, interval95, mean, mean_std

DEFAULT_NS = (1, 2, 5, 10)


def rows_for_n(rows: Sequence[Row], n: int) -> list[Row]:
    """The first ``n`` questions of every context that has at least ``n`` (the paper's N queries)."""
    return [r for r in rows if r["n_questions"] >= n and r["question_index"] < n]


def _seed_cost(rows: Sequence[Row], n: int, t: float) -> tuple[float, float, float, float]:
    """(accuracy, avg test tokens, avg sleep tokens per context, cost per query) of one seed's rows."""
    contexts = {r["example_id"]: float(r.get("sleep_completion_tokens") or 0) for r in rows}
    test = mean(float(r["test_completion_tokens"]) for r in rows)
    sleep = mean(contexts.values())
    return mean(float(r["score"]) for r in rows), test, sleep, cost_per_query(test, sleep, n, t)


def amortized_table(rows: Sequence[Row], ns: Iterable[int], t: float = DEFAULT_T) -> list[dict[str, Any]]:
    """Per N and condition: accuracy, test tokens, sleep tokens and cost per query, each as the
    mean and spread over seeds. N with no context of that many questions is reported empty."""
    table: list[dict[str, Any]] = []
    for n in ns:
        chosen = rows_for_n(rows, n)
        if not chosen:
            table.append({"n_queries": n, "condition": None, "contexts": 0, "questions": 0})
            continue
        for (name,), group in by(chosen, "condition").items():
            per_seed = [_seed_cost(g, n, t) for g in by(group, "seed").values()]
            acc, acc_sd = mean_std(p[0] for p in per_seed)
            low, high = interval95([float(r["score"]) for r in group])
            cost, cost_sd = mean_std(p[3] for p in per_seed)
            table.append(
                {
                    "n_queries": n,
                    "condition": name,
                    "kind": group[0]["kind"],
                    "verbosity": group[0].get("verbosity"),
                    "contexts": len({(r["seed"], r["example_id"]) for r in group}),
                    "questions": len(group),
                    "accuracy": acc,
                    "accuracy_std": acc_sd,
                    "accuracy_ci_low": low,
                    "accuracy_ci_high": high,
                    "test_tokens": mean(p[1] for p in per_seed),
                    "sleep_tokens_per_context": mean(p[2] for p in per_seed),
                    "cost_per_query": cost,
                    "cost_per_query_std": cost_sd,
                    "t": t,
                }
            )
    return table


__all__ = ["DEFAULT_NS", "amortized_table", "rows_for_n"]
