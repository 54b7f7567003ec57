"""PNG figures of an experiment's tables (matplotlib, Agg backend: no display needed).

``make_plots(outcome, out)`` writes the experiment's figures into ``out`` and
returns their paths by name: pareto.png, passk.png, scaling.png,
amortization.png, predictability.png, ablation.png, swe.png.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .experiments.common import Outcome
from .metrics import Row

STYLE = {"sleep": ("tab:blue", "o", "sleep-time"), "test-time": ("tab:orange", "s", "test-time only")}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def _yerr(rows: Sequence[Row], y: str) -> Any:
    """Error bars: the 95% interval where the table has one (it exists with one seed), else ± sd."""
    low, high = f"{y}_ci_low", f"{y}_ci_high"
    if all(_ok(r.get(low)) and _ok(r.get(high)) for r in rows):
        return [[max(0.0, r[y] - r[low]) for r in rows], [max(0.0, r[high] - r[y]) for r in rows]]
    return [r.get(f"{y}_std", 0.0) or 0.0 for r in rows]


def _line(
    ax: Any, rows: Sequence[Row], x: str, y: str, *, label: str, color: str, marker: str, tag: str
) -> None:
    pts = [r for r in rows if _ok(r.get(x)) and _ok(r.get(y))]
    if not pts:
        return
    pts = sorted(pts, key=lambda r: r[x])
    ax.errorbar(
        [r[x] for r in pts],
        [r[y] for r in pts],
        yerr=_yerr(pts, y),
        label=label,
        color=color,
        marker=marker,
        capsize=3,
    )
    for r in pts:
        if r.get(tag) is not None:
            ax.annotate(str(r[tag]), (r[x], r[y]), textcoords="offset points", xytext=(4, 4), fontsize=8)


def _finish(fig: Any, ax: Any, path: Path, title: str, xlabel: str, ylabel: str) -> Path:
    plt = _pyplot()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.text(0.99, 0.005, "error bars: 95% interval, or ± sd across seeds", fontsize=6, ha="right", alpha=0.6)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _tradeoff(outcome: Outcome, path: Path, ylabel: str) -> Path:
    """Accuracy (or F1) against average test-time completion tokens, with and without sleep."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    table = outcome.tables["conditions"]
    for kind, (color, marker, label) in STYLE.items():
        _line(
            ax,
            [r for r in table if r["kind"] == kind],
            "test_tokens",
            "accuracy",
            label=label,
            color=color,
            marker=marker,
            tag="budget",
        )
    _line(
        ax,
        outcome.tables.get("escalation", []),
        "test_tokens",
        "accuracy",
        label="sleep-time + escalation",
        color="tab:green",
        marker="^",
        tag="budget",
    )
    title = f"{outcome.experiment}\n{outcome.config.dataset}, {outcome.model}"
    return _finish(fig, ax, path, title, "avg test-time completion tokens per question", ylabel)


def _passk(outcome: Outcome, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    curve = outcome.tables["passk"]
    _line(
        ax,
        curve,
        "test_tokens",
        "pass_at_k",
        label="test-time v0 pass@k",
        color="tab:orange",
        marker="s",
        tag="k",
    )
    sleep = [r for r in outcome.tables["conditions"] if r["kind"] == "sleep"]
    _line(
        ax, sleep, "test_tokens", "accuracy", label="sleep-time", color="tab:blue", marker="o", tag="budget"
    )
    title = f"pass@k vs sleep-time\n{outcome.config.dataset}, {outcome.model}"
    return _finish(fig, ax, path, title, "avg test-time completion tokens per question", "accuracy")


def _scaling(outcome: Outcome, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    table = outcome.tables["conditions"]
    colors = iter(["tab:blue", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:olive"])
    groups: dict[tuple[Any, Any], list[Row]] = {}
    for r in table:
        if r["kind"] == "sleep":
            groups.setdefault((r["sweep"], r["budget"]), []).append(r)
    for (sweep, v), rows in groups.items():
        _line(
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
        if r["kind"] == "test-time" and _ok(r["accuracy"]):
            ax.axhline(r["accuracy"], color="tab:orange", linestyle="--", label=f"{r['condition']}")
    title = f"scaling sleep-time compute\n{outcome.config.dataset}, {outcome.model}"
    return _finish(fig, ax, path, title, "avg sleep-time completion tokens per context", "accuracy")


def _amortization(outcome: Outcome, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    table = [r for r in outcome.tables["amortization"] if r.get("condition")]
    colors = iter(["tab:blue", "tab:green", "tab:purple", "tab:red", "tab:brown"])
    for n in sorted({r["n_queries"] for r in table}):
        color = next(colors, "black")
        for kind, style in (("sleep", "-"), ("test-time", ":")):
            rows = sorted(
                (r for r in table if r["n_queries"] == n and r["kind"] == kind),
                key=lambda r: r["cost_per_query"],
            )
            if rows:
                ax.plot(
                    [r["cost_per_query"] for r in rows],
                    [r["accuracy"] for r in rows],
                    style,
                    color=color,
                    marker="o" if kind == "sleep" else "s",
                    label=f"{STYLE[kind][2]}, N={n}",
                )
    t = outcome.config.t
    title = f"amortized cost per query (t={t:g})\n{outcome.config.dataset}, {outcome.model}"
    return _finish(fig, ax, path, title, "cost per query = t x test tokens + sleep tokens / N", "accuracy")


def _predictability(outcome: Outcome, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = outcome.tables["bins"]
    if bins:
        xs = [b["bin"] for b in bins]
        ax.bar(
            xs,
            [b["gain"] for b in bins],
            yerr=[b["gain_std"] for b in bins],
            color="tab:blue",
            alpha=0.7,
            capsize=3,
            label="accuracy gain (sleep - test-time)",
        )
        ax.plot(xs, [b["sleep_accuracy"] for b in bins], "o-", color="tab:green", label="sleep-time accuracy")
        ax.plot(
            xs, [b["baseline_accuracy"] for b in bins], "s:", color="tab:orange", label="test-time accuracy"
        )
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(xs)
    title = f"gain by predictability bin (1 = least)\n{outcome.config.dataset}, {outcome.model}"
    return _finish(fig, ax, path, title, "quantile bin of log P(q | c)", "accuracy / gain")


def _ablation(outcome: Outcome, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    table = [r for r in outcome.tables["conditions"] if _ok(r["accuracy"])]
    colors = {"sleep": "tab:blue", "test-time": "tab:orange", "context-only": "tab:gray"}
    for i, r in enumerate(table):
        ax.bar(
            i,
            r["accuracy"],
            yerr=_yerr([r], "accuracy"),
            color=colors.get(r["kind"], "black"),
            capsize=3,
            label=r["condition"],
        )
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels([r["condition"] for r in table], fontsize=8)
    title = f"context-only ablation\n{outcome.config.dataset}, {outcome.model}"
    return _finish(fig, ax, path, title, "condition", "accuracy")


def make_plots(outcome: Outcome, out: Path) -> dict[str, Path]:
    """Write the experiment's PNGs into ``out``; returns {name: path}."""
    out.mkdir(parents=True, exist_ok=True)
    name = outcome.experiment
    if name == "pareto":
        plots = {"pareto": _tradeoff(outcome, out / "pareto.png", "accuracy")}
    elif name == "passk":
        plots = {"passk": _passk(outcome, out / "passk.png")}
    elif name == "scaling":
        plots = {"scaling": _scaling(outcome, out / "scaling.png")}
    elif name == "amortization":
        plots = {"amortization": _amortization(outcome, out / "amortization.png")}
    elif name == "predictability":
        plots = {"predictability": _predictability(outcome, out / "predictability.png")}
    elif name == "ablation":
        plots = {"ablation": _ablation(outcome, out / "ablation.png")}
    elif name == "swe":
        plots = {"swe": _tradeoff(outcome, out / "swe.png", "file F1")}
    else:
        raise ValueError(f"no plots for experiment {name!r}")
    outcome.plots.update(plots)
    return plots


__all__ = ["make_plots"]
