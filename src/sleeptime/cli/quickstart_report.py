"""The quickstart's tables: a narrow view that fits 80 columns, and ``--wide`` with every figure.

The narrow view keeps what answers the quickstart's question (right or wrong, and at
how many test-time tokens); latency and sleep tokens per query are in ``--wide`` and
``--json``.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Within this factor, two token counts are "about the same".
SAME_WITHIN = 1.05


def short_mode(mode: str) -> str:
    """'sleep-time v0' -> 'sleep v0': column headers that leave room for the question."""
    return mode.replace("-time", "")


def _by_question(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    grouped: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for row in result["rows"]:
        grouped.setdefault((row["context"], row["question"]), {})[row["mode"]] = row
    return grouped


def _mark(cell: dict[str, Any], *, wide: bool) -> Text:
    mark = Text("✓", style="green") if cell["correct"] else Text("✗", style="red")
    detail = f" {cell['completion_tokens']}"
    if wide:
        detail += f" tok {cell['latency_s']:.1f}s"
    return mark + Text(detail)


def answers_table(result: dict[str, Any], *, wide: bool = False) -> Table:
    modes = [s["mode"] for s in result["summary"]]
    table = Table(
        title="Answers: ✓ right or ✗ wrong, then test-time tokens" + (" and latency" if wide else ""),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("question", overflow="fold", ratio=1)
    table.add_column("gold", no_wrap=True)
    for mode in modes:
        table.add_column(mode if wide else short_mode(mode), no_wrap=True)
    context = None
    for (name, question), cells in _by_question(result).items():
        if name != context:
            if context is not None:
                table.add_section()
            table.add_row(Text(name, style="bold"), *([""] * (1 + len(modes))))
            context = name
        gold = next(iter(cells.values()))["gold"]
        table.add_row(Text(question), Text(str(gold)), *(_mark(cells[m], wide=wide) for m in modes))
    return table


def summary_table(result: dict[str, Any], *, wide: bool = False) -> Table:
    columns = ["mode", "right", "tokens/q"]
    if wide:
        columns += ["latency/q", "sleep tokens/q"]
    columns.append(f"cost/q (t={result['t']:g})")
    table = Table(*columns, title=f"Summary ({result['model']})", box=box.SIMPLE_HEAD, show_edge=False)
    for s in result["summary"]:
        cells = [
            s["mode"],
            f"{s['accuracy']:.0%} of {s['questions']}",
            f"{s['avg_test_completion_tokens']:.1f}",
        ]
        if wide:
            cells += [f"{s['avg_latency_s']:.2f}s", f"{s['avg_sleep_tokens_per_query']:.1f}"]
        cells.append(f"{s['amortized_cost_per_query']:.1f}")
        table.add_row(*cells)
    return table


def verdict(result: dict[str, Any]) -> str | None:
    """One sentence comparing the learned context's answers with the high-budget baseline,
    worded the right way round whichever used more tokens."""
    summary = {s["mode"]: s for s in result["summary"]}
    modes = [s["mode"] for s in result["summary"]]
    if len(modes) < 3:
        return None
    sleep, high = summary[modes[0]], summary[modes[-1]]
    mine, theirs = sleep["avg_test_completion_tokens"], high["avg_test_completion_tokens"]
    if mine <= 0 or theirs <= 0:
        return None
    if theirs / mine >= SAME_WITHIN:
        amount = f"{theirs / mine:.1f}x fewer test-time tokens than"
    elif mine / theirs >= SAME_WITHIN:
        amount = f"{mine / theirs:.1f}x more test-time tokens than"
    else:
        amount = "about as many test-time tokens as"
    return (
        f"Answering from the learned context ({modes[0]}) used {amount} the high-budget baseline "
        f"({modes[-1]}): {sleep['accuracy']:.0%} vs {high['accuracy']:.0%} right."
    )


def print_report(result: dict[str, Any], console: Console, *, wide: bool = False) -> None:
    if wide:  # as wide as the tables need, at the cost of wrapping on a narrow terminal
        console = Console(
            file=console.file, width=max(console.width, 200), force_terminal=console.is_terminal
        )
    console.print(answers_table(result, wide=wide))
    console.print(summary_table(result, wide=wide))
    console.print(
        Text(
            "cost/q = t x test-time tokens + the context's sleep tokens / its queries"
            + ("" if wide else "; latency and sleep tokens: --wide or --json"),
            style="dim",
        )
    )
    line = verdict(result)
    if line:
        console.print(Text(line))
