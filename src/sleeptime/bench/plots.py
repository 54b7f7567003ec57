"""What every experiment's figure shares (matplotlib, Agg backend: no display needed).

Each experiment's ``plot(outcome, path)`` lives in its module and draws with these
helpers: ``figure()``, ``line()`` (a series with 95% error bars and point labels),
``tradeoff()`` (accuracy against test-time tokens with and without sleep, on a
log axis: pareto and swe) and ``finish()`` (title, labels, accuracy in percent,
the legend, the PNG).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .experiments.common import Outcome
from .metrics import Row

STYLE = {"sleep": ("tab:blue", "o", "sleep-time"), "test-time": ("tab:orange", "s", "test-time only")}
COLORS = ("tab:blue", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:olive", "tab:cyan")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure() -> tuple[Any, Any]:
    return _pyplot().subplots(figsize=(6, 4))  # type: ignore[no-any-return]


def ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def yerr(rows: Sequence[Row], y: str) -> Any:
    """Error bars: the 95% interval where the table has one (it exists with one seed), else ± sd."""
    low, high = f"{y}_ci_low", f"{y}_ci_high"
    if all(ok(r.get(low)) and ok(r.get(high)) for r in rows):
        return [[max(0.0, r[y] - r[low]) for r in rows], [max(0.0, r[high] - r[y]) for r in rows]]
    return [r.get(f"{y}_std", 0.0) or 0.0 for r in rows]


def line(
    ax: Any,
    rows: Sequence[Row],
    x: str,
    y: str,
    *,
    label: str,
    color: str,
    marker: str,
    tag: str,
    tag_below: bool = False,
) -> None:
    """A series sorted by x with error bars; each point labelled with its ``tag`` value. Labels of
    points close together are staggered so they do not pile up; ``tag_below`` puts them under
    the points (for a series drawn near another one)."""
    pts = sorted((r for r in rows if ok(r.get(x)) and ok(r.get(y))), key=lambda r: r[x])
    if not pts:
        return
    ax.errorbar(
        [r[x] for r in pts],
        [r[y] for r in pts],
        yerr=yerr(pts, y),
        label=label,
        color=color,
        marker=marker,
        capsize=3,
    )
    sign = -1 if tag_below else 1
    for i, r in enumerate(pts):
        if r.get(tag) is not None:
            dy = sign * (4 + 9 * (i % 3))
            ax.annotate(
                str(r[tag]),
                (r[x], r[y]),
                textcoords="offset points",
                xytext=(4, dy),
                va="bottom" if sign > 0 else "top",
                fontsize=7,
                color=color,
            )


def log_x_if_positive(ax: Any, rows: Sequence[Row], x: str) -> None:
    """Token counts span orders of magnitude: a log axis, when every x is positive."""
    xs = [r[x] for r in rows if ok(r.get(x))]
    if xs and min(xs) > 0 and max(xs) / min(xs) > 3:
        ax.set_xscale("log")


def finish(
    fig: Any, ax: Any, path: Path, title: str, xlabel: str, ylabel: str, *, percent: bool = True
) -> Path:
    """Title, labels, the y axis in percent (accuracy, pass@k, F1), the legend, and the PNG."""
    plt = _pyplot()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.text(0.99, 0.005, "error bars: 95% interval, or ± sd across seeds", fontsize=6, ha="right", alpha=0.6)
    part = path.with_name(f".{path.stem}.part.png")
    fig.savefig(part, dpi=120)
    plt.close(fig)
    part.replace(path)  # written whole, or not at all
    return path


def title(outcome: Outcome, what: str) -> str:
    return f"{what}\n{outcome.options.dataset}, {outcome.model}"


def tradeoff(outcome: Outcome, path: Path, ylabel: str) -> Path:
    """Accuracy (or F1) against average test-time completion tokens, with and without sleep."""
    fig, ax = figure()
    table = outcome.tables["conditions"]
    for kind, (color, marker, label) in STYLE.items():
        line(
            ax,
            [r for r in table if r["kind"] == kind],
            "test_tokens",
            "accuracy",
            label=label,
            color=color,
            marker=marker,
            tag="budget",
        )
    escalation = outcome.tables.get("escalation", [])
    line(
        ax,
        escalation,
        "test_tokens",
        "accuracy",
        label="sleep-time + escalation (v0 -> v)",
        color="tab:green",
        marker="^",
        tag="target",
        tag_below=True,
    )
    log_x_if_positive(ax, [*table, *escalation], "test_tokens")
    xlabel = "avg test-time completion tokens per question"
    return finish(fig, ax, path, title(outcome, outcome.experiment), xlabel, f"{ylabel} (%)")


__all__ = [
    "COLORS",
    "STYLE",
    "figure",
    "finish",
    "line",
    "log_x_if_positive",
    "ok",
    "title",
    "tradeoff",
    "yerr",
]
