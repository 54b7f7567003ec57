"""Numbers computed from result rows: means over seeds, pass@k, ratios at equal accuracy.

A result row (see ``runner.Row``) is one question answered under one condition
in one seed; ``score`` is 1.0/0.0 for math and the file F1 for SWE-Features.
Every statistic is computed per seed first, then reported as the mean and the
spread (sample standard deviation, 0 with one seed) across seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Row = dict[str, Any]


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else float("nan")


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0.0 for fewer than two values, nan for none)."""
    items = [float(v) for v in values]
    if not items:
        return float("nan"), float("nan")
    m = sum(items) / len(items)
    if len(items) < 2:
        return m, 0.0
    return m, math.sqrt(sum((v - m) ** 2 for v in items) / (len(items) - 1))


def interval95(
    scores: Sequence[float], *, binary: bool | None = None, bounds: tuple[float, float] = (0.0, 1.0)
) -> tuple[float, float]:
    """A 95% interval for the mean score of these questions, pooled over seeds: Wilson's for
    right/wrong scores (sound for small n and for 0% or 100%), else mean ± 1.96 standard errors
    clipped to ``bounds`` (SWE file F1; a gain in [-1, 1]; none from a single score).
    ``binary`` None: inferred from ``scores``. With one seed this is the only spread a run can state."""
    n = len(scores)
    if binary is None:
        binary = all(s in (0.0, 1.0) for s in scores)
    if n == 0 or (not binary and n < 2):
        return float("nan"), float("nan")
    z = 1.96
    m = sum(scores) / n
    if binary:
        centre = (m + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(m * (1 - m) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)
    _, sd = mean_std(scores)
    half = z * sd / math.sqrt(n)
    return max(bounds[0], m - half), min(bounds[1], m + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator: 1 - C(n-c, k) / C(n, k), for ``c`` correct of ``n`` samples."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def by(rows: Iterable[Row], *keys: str) -> dict[tuple[Any, ...], list[Row]]:
    """Rows grouped by the values of ``keys``, groups in first-seen order."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    return groups


def seed_stats(rows: Sequence[Row], stat: Callable[[Sequence[Row]], float]) -> tuple[float, float]:
    """``stat`` computed on each seed's rows, then mean and spread across seeds."""
    return mean_std(stat(group) for group in by(rows, "seed").values())


def accuracy(rows: Sequence[Row]) -> float:
    return mean(float(r["score"]) for r in rows)


def test_tokens(rows: Sequence[Row]) -> float:
    """Average test-time completion tokens per question."""
    return mean(float(r["test_completion_tokens"]) for r in rows)


def condition_table(rows: Sequence[Row]) -> list[Row]:
    """One line per condition: accuracy and test-time tokens (mean and spread over seeds), counts."""
    table = []
    binary = all(float(r["score"]) in (0.0, 1.0) for r in rows)  # right/wrong, or F1 somewhere
    for (name,), group in by(rows, "condition").items():
        acc, acc_sd = seed_stats(group, accuracy)
        low, high = interval95([float(r["score"]) for r in group], binary=binary)
        tok, tok_sd = seed_stats(group, test_tokens)
        sleep = [r for r in group if r.get("sleep_label")]
        per_context = {(r["seed"], r["example_id"]): r["sleep_completion_tokens"] for r in sleep}
        first = group[0]
        table.append(
            {
                "condition": name,
                "kind": first["kind"],
                "verbosity": first.get("verbosity"),
                **{k: v for k, v in (first.get("params") or {}).items() if k not in {"condition"}},
                "accuracy": acc,
                "accuracy_std": acc_sd,
                "accuracy_ci_low": low,
                "accuracy_ci_high": high,
                "test_tokens": tok,
                "test_tokens_std": tok_sd,
                "sleep_tokens_per_context": mean(per_context.values()) if per_context else 0.0,
                "questions": len(group),
                "seeds": len(by(group, "seed")),
                "errors": sum(1 for r in group if r.get("error")),
            }
        )
    return table


def ratio_at_equal_accuracy(
    cheap: Sequence[tuple[float, float]], baseline: Sequence[tuple[float, float]]
) -> dict[str, Any] | None:
    """How many times more of x (tokens, cost) the baseline needs to match a cheap point's accuracy.

    Points are (x, accuracy). The baseline's frontier is its best accuracy at or
    below each x, linearly interpolated; when its cheapest point is already at
    least as accurate, that point's x is used (a lower bound on the ratio). Returns
    the cheap point with the largest ratio, or None when no cheap point is matched
    by the baseline (the baseline never gets that accurate) or there is no data.
    """
    frontier: list[tuple[float, float]] = []
    for x, acc in sorted(p for p in baseline if not math.isnan(p[1])):
        if not frontier or acc > frontier[-1][1]:
            frontier.append((x, acc))
    best: dict[str, Any] | None = None
    for x, acc in cheap:
        if x <= 0 or math.isnan(acc) or acc <= 0 or not frontier or frontier[-1][1] < acc:
            continue
        needed = frontier[0][0]  # the cheapest baseline point already matches it
        if frontier[0][1] < acc:
            # The frontier's accuracy rises strictly, so the first point reaching acc has a predecessor.
            i = next(i for i, (_, a) in enumerate(frontier) if a >= acc)
            (x0, a0), (x1, a1) = frontier[i - 1], frontier[i]
            needed = x0 + (x1 - x0) * (acc - a0) / (a1 - a0)
        ratio = needed / x
        if best is None or ratio > best["ratio"]:
            best = {"ratio": ratio, "x": x, "accuracy": acc, "baseline_x": needed}
    return best


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); nan when undefined."""
    if len(xs) != len(ys) or len(xs) < 2:
        return float("nan")

    def ranks(values: Sequence[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for m in range(i, j + 1):
                out[order[m]] = (i + j) / 2
            i = j + 1
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = mean(rx), mean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    vy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return cov / (vx * vy) if vx and vy else float("nan")


__all__ = [
    "Row",
    "accuracy",
    "by",
    "condition_table",
    "interval95",
    "mean",
    "mean_std",
    "pass_at_k",
    "ratio_at_equal_accuracy",
    "seed_stats",
    "spearman",
    "test_tokens",
]
