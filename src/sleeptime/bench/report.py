"""The report directory of a run: summary.json, CSV tables, report.md (with the plots).

``summary.json`` holds only what the results determine (no timestamps, no cache
statistics), so a resumed run and an uninterrupted one write the same file.
``report.md`` puts the paper's headline numbers next to the measured ones and
says plainly where they do not hold or cannot be told from this run.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from .experiments.common import Claim, Outcome
from .metrics import Row

PAPER = 'K. Lin et al., "Sleep-time Compute: Beyond Inference Scaling at Test-time", arXiv 2504.13171'
_PERCENT_COLUMNS = ("accuracy", "accuracy_ci_low", "accuracy_ci_high", "pass_at_k", "gain", "escalated")


def clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def summary(outcome: Outcome) -> dict[str, Any]:
    rows = outcome.rows
    result: dict[str, Any] = clean(
        {
            "experiment": outcome.experiment,
            "model": outcome.model,
            "dataset": outcome.options.dataset,
            "config": outcome.options.model_dump(mode="json"),
            "counts": {
                "rows": len(rows),
                "seeds": len({r["seed"] for r in rows}),
                "examples": len({(r["seed"], r["example_id"]) for r in rows}),
                "conditions": len({r["condition"] for r in rows}),
                "errors": sum(1 for r in rows if r.get("error")),
            },
            "claims": [claim_dict(c) for c in outcome.claims],
            "tables": outcome.tables,
            "notes": outcome.notes,
            "plots": {name: path.name for name, path in outcome.plots.items()},
        }
    )
    return result


def claim_dict(claim: Claim) -> dict[str, Any]:
    return {"claim": claim.claim, "paper": claim.paper, "measured": claim.measured, "holds": claim.holds}


def write_whole(path: Path, text: str) -> Path:
    """``text`` into ``path`` by way of a temporary file, so a reader (or a killed run) never sees
    half of it."""
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    part.replace(path)
    return path


def write_csv(table: list[Row], path: Path) -> Path:
    columns: list[str] = []
    for row in table:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in table:
        writer.writerow({k: _csv_value(row.get(k)) for k in columns})
    return write_whole(path, buffer.getvalue())


def _csv_value(value: Any) -> Any:
    value = clean(value)
    return json.dumps(value) if isinstance(value, (dict, list)) else ("" if value is None else value)


def _cell(row: Row, column: str) -> str:
    value = row.get(column)
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        spread = row.get(f"{column}_std")
        if not isinstance(spread, float) or not math.isfinite(spread) or spread <= 0:
            spread = None
        if column in _PERCENT_COLUMNS or column.endswith("_accuracy"):
            text = f"{value * 100:.1f}%"
            return f"{text} ± {spread * 100:.1f}" if spread is not None else text
        text = f"{value:.1f}"
        return f"{text} ± {spread:.1f}" if spread is not None else text
    return "" if value is None else str(value).replace("|", "\\|")


def markdown_table(table: list[Row]) -> str:
    if not table:
        return "(no rows)\n"
    columns: list[str] = []
    for row in table:
        columns += [k for k in row if k not in columns and not k.endswith("_std")]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row, c) for c in columns) + " |" for row in table]
    return "\n".join(lines) + "\n"


def _holds(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "cannot tell"}[value]


def markdown(outcome: Outcome, *, command: str | None, run_stats: dict[str, Any]) -> str:
    info = summary(outcome)["counts"]
    parts = [
        f"# sleeptime bench {outcome.experiment}: {outcome.options.dataset} on {outcome.model}\n",
        f"Command: `{command}`\n" if command else "",
        f"{info['examples']} example(s) over {info['seeds']} seed(s), {info['conditions']} condition(s), "
        f"{info['rows']} graded answers. Numbers are means over seeds (± sample standard deviation "
        "across seeds where there are several); `accuracy_ci_low`-`accuracy_ci_high` is a 95% interval "
        "over the pooled questions (Wilson's for right/wrong scores).\n",
        "## The paper's headline numbers next to this run\n",
        f'Paper: {PAPER}. "Holds here?" compares the direction of the effect, not its size, and says '
        "yes or **no** only when the 95% intervals of the compared conditions do not overlap (else: "
        "cannot tell).\n",
        "| claim | paper | measured here | holds here? |\n|---|---|---|---|",
    ]
    parts += [f"| {c.claim} | {c.paper} | {c.measured} | {_holds(c.holds)} |" for c in outcome.claims]
    parts.append("")
    not_holding = [c for c in outcome.claims if c.holds is False]
    if not_holding:
        parts.append(
            "Where a claim does not hold here, the measured numbers stand as they are: this run's model, "
            "data size and budgets differ from the paper's, and small runs are noisy.\n"
        )
    for name, table in outcome.tables.items():
        parts += [f"## {name}\n", markdown_table(table)]
    if outcome.plots:
        parts.append("## Plots\n")
        parts += [f"![{name}]({path.name})\n" for name, path in outcome.plots.items()]
    if outcome.notes:
        parts.append("## Notes\n")
        parts += [f"- {note}" for note in outcome.notes]
        parts.append("")
    parts.append("## Files\n")
    parts.append(
        "- `summary.json`, `summary.csv` (and one CSV per table): the numbers above\n"
        "- `results.jsonl`: one graded answer per line (question, condition, answer, tokens)\n"
        "- `calls.jsonl`: every model call (prompt, output, usage, timing); re-running replays it\n"
        "- `bench.db`: the sleeptime store (contexts and learned contexts)\n"
    )
    if run_stats:
        stats = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in run_stats.items())
        parts.append(f"This invocation: {stats}.\n")
    return "\n".join(p for p in parts if p is not None)


def write_report(
    outcome: Outcome, out: Path, *, command: str | None = None, run_stats: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write summary.json, summary.csv (the main table), <table>.csv and report.md into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    path = write_whole(out / "summary.json", json.dumps(summary(outcome), indent=2, sort_keys=False) + "\n")
    written["summary.json"] = path
    for i, (name, table) in enumerate(outcome.tables.items()):
        written[f"{name}.csv"] = write_csv(table, out / f"{name}.csv")
        if i == 0:
            written["summary.csv"] = write_csv(table, out / "summary.csv")
    report = write_whole(out / "report.md", markdown(outcome, command=command, run_stats=run_stats or {}))
    written["report.md"] = report
    return written


__all__ = [
    "PAPER",
    "clean",
    "markdown",
    "markdown_table",
    "summary",
    "write_csv",
    "write_report",
    "write_whole",
]
