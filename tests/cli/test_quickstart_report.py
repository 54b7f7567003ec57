"""Issue 12 item 2: the quickstart's tables fit 80 columns; the verdict is worded both ways."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from sleeptime.cli.quickstart_report import print_report, verdict

from .conftest import Invoke

MODES = ("sleep-time v0", "test-time v0", "test-time v4")
QUESTIONS = [
    ("road-trip", "How many hours does the whole road trip take, including both of the rest stops?", "4.5"),
    ("road-trip", "How many litres of fuel are left in the tank at the end of the trip?", "32"),
    ("cluster-documentation", "How many GPUs does the cluster have in total across all racks?", "128"),
]


def result(tokens: dict[str, int], correct: dict[str, bool] | None = None) -> dict[str, Any]:
    rows = []
    for context, question, gold in QUESTIONS:
        for mode in MODES:
            rows.append(
                {
                    "context": context,
                    "question": question,
                    "gold": gold,
                    "mode": mode,
                    "correct": (correct or {}).get(mode, True),
                    "completion_tokens": tokens[mode],
                    "latency_s": 12.345,
                }
            )
    summary = [
        {
            "mode": mode,
            "accuracy": 2 / 3,
            "questions": len(QUESTIONS),
            "avg_test_completion_tokens": float(tokens[mode]),
            "avg_latency_s": 12.35,
            "avg_sleep_tokens_per_query": 250.0 if mode.startswith("sleep") else 0.0,
            "amortized_cost_per_query": 10.0 * tokens[mode],
        }
        for mode in MODES
    ]
    return {"model": "qwen2.5-coder-1.5b", "t": 10.0, "rows": rows, "summary": summary}


def render(data: dict[str, Any], *, width: int = 80, wide: bool = False) -> str:
    buffer = io.StringIO()
    print_report(data, Console(file=buffer, width=width, color_system=None), wide=wide)
    return buffer.getvalue()


def test_the_report_fits_80_columns_and_cuts_nothing() -> None:
    text = render(result({"sleep-time v0": 9, "test-time v0": 14, "test-time v4": 1234}))
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert "…" not in text
    flat = " ".join(text.split())
    for context, question, gold in QUESTIONS:
        assert context in flat
        for word in question.split():
            assert word in flat
        assert gold in flat
    assert "✓ 1234" in text and "✓ 9" in text


def test_wide_shows_latency_and_sleep_tokens() -> None:
    text = render(result({"sleep-time v0": 9, "test-time v0": 14, "test-time v4": 1234}), wide=True)
    assert "12.3s" in text and "sleep tokens/q" in text and "sleep-time v0" in text
    assert "latency" not in render(result({"sleep-time v0": 9, "test-time v0": 14, "test-time v4": 90}))[:400]


@pytest.mark.parametrize(
    ("sleep_tokens", "high_tokens", "wording"),
    [
        (10, 60, "6.0x fewer test-time tokens than"),
        (60, 54, "1.1x more test-time tokens than"),
        (50, 51, "about as many test-time tokens as"),
    ],
)
def test_the_verdict_is_worded_the_right_way_round(sleep_tokens: int, high_tokens: int, wording: str) -> None:
    line = verdict(result({"sleep-time v0": sleep_tokens, "test-time v0": 20, "test-time v4": high_tokens}))
    assert line is not None and wording in line
    assert "0.9x" not in line


def test_quickstart_end_to_end_fits_80_columns(cli: Invoke, tmp_path: Path) -> None:
    examples = tmp_path / "examples.json"
    context = {
        "name": "pets",
        "text": "Ann has 3 cats and 2 dogs. Each cat eats 2 cans of food a day.",
        "questions": [{"question": "How many cans of food do Ann's cats eat in a day?", "answer": "6"}],
    }
    examples.write_text(json.dumps({"contexts": [context]}), encoding="utf-8")
    out, _ = cli("quickstart", "--examples", str(examples))
    assert max(len(line) for line in out.splitlines()) <= 80, out
    assert "✓" in out and "pets" in out
    data = json.loads(cli("quickstart", "--examples", str(examples), "--json")[0])
    assert {s["mode"] for s in data["summary"]} == set(MODES)
