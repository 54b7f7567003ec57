"""The escalation policy replayed on pareto rows: exact arithmetic on hand-made rows."""

from __future__ import annotations

from typing import Any

import pytest

from sleeptime.bench.escalation import escalation_table

NOTES = {"lc1": "Total = 12 balls.", "lc2": "Cost = 30 dollars."}


def _row(example: str, v: int, answer: str, score: float, tokens: int, learned: str | None) -> dict[str, Any]:
    return {
        "seed": 0,
        "example_id": example,
        "question_index": 0,
        "kind": "sleep",
        "verbosity": v,
        "answer": answer,
        "score": score,
        "test_completion_tokens": tokens,
        "learned_context_id": learned,
    }


def test_cheap_answers_in_the_notes_are_kept_and_the_rest_escalate() -> None:
    rows = [
        _row("a", 0, "The answer is 12.", 1.0, 5, "lc1"),  # in the notes: kept
        _row("a", 4, "... The answer is 12.", 1.0, 300, "lc1"),
        _row("b", 0, "The answer is 25.", 0.0, 6, "lc2"),  # not in the notes: escalated, then right
        _row("b", 4, "... The answer is 35.", 1.0, 400, "lc2"),
        _row("c", 0, "The answer is 7.", 0.0, 4, None),  # no learned context (sleep failed): escalated
        _row("c", 4, "... The answer is 8.", 0.0, 200, None),
        {**_row("a", 0, "The answer is 99.", 0.0, 3, None), "kind": "test-time"},  # ignored
    ]
    [line] = escalation_table(rows, NOTES.__getitem__)
    assert line["budget"] == "0->4" and line["questions"] == 3
    assert line["accuracy"] == pytest.approx(2 / 3)
    assert line["test_tokens"] == pytest.approx((5 + (6 + 400) + (4 + 200)) / 3)
    assert line["escalated"] == pytest.approx(2 / 3)
    assert line["kept_cheap_accuracy"] == 1.0 and line["rejected_cheap_accuracy"] == 0.0
    assert line["accuracy_ci_low"] < line["accuracy"] < line["accuracy_ci_high"]


def test_one_line_per_higher_verbosity_and_nothing_without_sleep_rows() -> None:
    rows = [_row("a", v, "The answer is 12.", 1.0, 10 * (v + 1), "lc1") for v in (0, 2, 4)]
    table = escalation_table(rows, NOTES.__getitem__)
    assert [r["budget"] for r in table] == ["0->2", "0->4"]
    assert all(r["escalated"] == 0.0 and r["test_tokens"] == 10 for r in table)
    assert escalation_table([], NOTES.__getitem__) == []
