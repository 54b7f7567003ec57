"""``Engine.ask(escalate=...)`` replayed on a pareto run's answers, without a model call.

The pareto experiment answers every question from the learned context at every
verbosity, greedily. The escalation policy "answer at the lowest verbosity; when
that answer is not in the learned context (``escalation.supported_by_notes``),
answer again at verbosity v" therefore needs no new call: its answer is the
verbosity-v row's, its tokens the two rows' sum. For each target v the table
gives the policy's accuracy and tokens, how often it escalated, and how good the
check is: the accuracy of the cheap answers it kept and of those it rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..escalation import supported_by_notes
from .metrics import Row, interval95, mean


def escalation_table(rows: Sequence[Row], notes_of: Callable[[str], str]) -> list[Row]:
    """One line per escalation target verbosity (above the lowest sleep-time one)."""
    sleep = [r for r in rows if r["kind"] == "sleep" and r.get("verbosity") is not None]
    if not sleep:
        return []
    by_question: dict[tuple[Any, ...], dict[int, Row]] = {}
    for r in sleep:
        key = (r["seed"], r["example_id"], r["question_index"])
        by_question.setdefault(key, {})[int(r["verbosity"])] = r
    cheap_v = min(int(r["verbosity"]) for r in sleep)
    kept = {
        key: _supported(answers[cheap_v], notes_of)
        for key, answers in by_question.items()
        if cheap_v in answers
    }
    table = []
    for target in sorted({int(r["verbosity"]) for r in sleep} - {cheap_v}):
        scores, tokens, escalated = [], [], 0
        for key, answers in by_question.items():
            if cheap_v not in answers or target not in answers:
                continue
            cheap, larger = answers[cheap_v], answers[target]
            if kept[key]:
                scores.append(float(cheap["score"]))
                tokens.append(float(cheap["test_completion_tokens"]))
            else:
                escalated += 1
                scores.append(float(larger["score"]))
                tokens.append(float(cheap["test_completion_tokens"] + larger["test_completion_tokens"]))
        if not scores:
            continue
        low, high = interval95(scores)
        table.append(
            {
                "condition": f"sleep-time v{cheap_v}, escalate to v{target}",
                "kind": "escalation",
                "budget": f"{cheap_v}->{target}",
                "accuracy": mean(scores),
                "accuracy_ci_low": low,
                "accuracy_ci_high": high,
                "test_tokens": mean(tokens),
                "escalated": escalated / len(scores),
                "questions": len(scores),
            }
        )
    if table:
        cheap_rows = {k: a[cheap_v] for k, a in by_question.items() if cheap_v in a}
        kept_scores = [float(r["score"]) for k, r in cheap_rows.items() if kept[k]]
        rejected_scores = [float(r["score"]) for k, r in cheap_rows.items() if not kept[k]]
        for line in table:
            line["kept_cheap_accuracy"] = mean(kept_scores)
            line["rejected_cheap_accuracy"] = mean(rejected_scores)
    return table


def _supported(row: Row, notes_of: Callable[[str], str]) -> bool:
    learned = row.get("learned_context_id")
    return bool(learned) and supported_by_notes(str(row.get("answer") or ""), notes_of(str(learned)))


__all__ = ["escalation_table"]
