"""Amortization with model-written questions, and one call log shared by several runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from sleeptime.bench.config import Condition
from sleeptime.bench.datasets import QA, Example
from sleeptime.bench.datasets.multi_query import SOLVE_PROMPT
from sleeptime.bench.experiments import amortization
from sleeptime.bench.runner import BenchRun, close_engine, open_engine
from sleeptime.llm.base import Completion, Message, SamplingParams, Usage
from sleeptime.settings import load_settings

from .bench_fakes import HashModel

CONTEXT = "Tom has 3 apples. On Monday he buys 2 more."
WRITTEN = """Q: How many apples does Tom have after Monday?
A: 3 + 2 = 5
#### 5
Q: How many apples would Tom have if he had bought twice as many?
A: 3 + 4 = 7
#### 7
"""


class QuestionWriter(HashModel):
    """Writes two questions; solving them again it reaches 5 both times, so only the first checks out."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        if "Write 2 new questions" in messages[-1]["content"]:
            self.written += 1
            return Completion((WRITTEN,), Usage(50, 40, 0, 1), self.name, 0.001)
        if messages[0]["content"] == SOLVE_PROMPT:
            return Completion(("3 + 2 = 5\n#### 5",), Usage(30, 8, 0, 1), self.name, 0.001)
        return super().complete(messages, params)


def _bench(where: Path, model: HashModel, *, calls: Path | None = None, **config: object) -> BenchRun:
    engine, _ = open_engine(load_settings(), where, model=model, calls=calls)
    cfg = amortization.Options(dataset="test-set", **config)  # type: ignore[arg-type]
    bench = BenchRun(engine, cfg, where, show_progress=False)
    bench._dataset = [Example("ex0", "test-set", CONTEXT, "How many apples now?", "5", CONTEXT)]
    return bench


def _close(bench: BenchRun) -> None:
    close_engine(bench.engine)
    bench.close()


def test_generated_questions_are_verified_cached_and_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLEEPTIME_CACHE_DIR", str(tmp_path / "cache"))
    writer = QuestionWriter()
    bench = _bench(tmp_path / "a", writer, ns=(1, 2), verbosities=(0,), generate_questions=2)
    outcome = amortization.run(bench)
    _close(bench)
    questions = {r["question_index"]: (r["question"], r["gold"]) for r in outcome.rows}
    assert questions == {
        0: ("How many apples now?", "5"),
        1: ("How many apples does Tom have after Monday?", "5"),  # the unverified 7 is dropped
    }
    assert writer.written == 1
    assert "--generate-questions 2: kept 1 verified question(s) over 1 context(s)" in " ".join(outcome.notes)
    table = {(r["n_queries"], r["kind"]): r for r in outcome.tables["amortization"]}
    assert table[(2, "sleep")]["contexts"] == 1  # N = 2 is measurable only with the generated question

    # A new run elsewhere (no shared call log) reads the generated set from the dataset cache.
    again_writer = QuestionWriter()
    again = _bench(tmp_path / "b", again_writer, ns=(1, 2), verbosities=(0,), generate_questions=2)
    again_rows = amortization.run(again).rows
    _close(again)
    assert again_writer.written == 0
    assert {r["question"] for r in again_rows} == {q for q, _ in questions.values()}


def test_min_questions_counts_generated_questions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEEPTIME_CACHE_DIR", str(tmp_path / "cache"))
    with_generated = _bench(tmp_path / "a", QuestionWriter(), ns=(2,), verbosities=(0,), min_questions=2)
    assert amortization.run(with_generated).rows == []  # one question without generation: filtered
    _close(with_generated)
    bench = _bench(
        tmp_path / "b", QuestionWriter(), ns=(2,), verbosities=(0,), min_questions=2, generate_questions=2
    )
    assert {r["question_index"] for r in amortization.run(bench).rows} == {0, 1}
    _close(bench)


def test_runs_sharing_a_call_log_replay_each_others_calls(tmp_path: Path) -> None:
    calls = tmp_path / "shared-calls.jsonl"
    conditions = [Condition("sleep v0", "sleep", 0), Condition("test v0", "test-time", 0)]
    first_model = HashModel()
    first = _bench(tmp_path / "first", first_model, calls=calls)
    first_rows = first.run(conditions)
    _close(first)
    assert first_model.calls > 0 and not (tmp_path / "first" / "calls.jsonl").exists()

    second_model = HashModel()
    second = _bench(tmp_path / "second", second_model, calls=calls)
    second_rows = second.run(conditions)  # a different report dir: rows are recomputed from the log
    _close(second)
    assert second_model.calls == 0
    assert [r["answer"] for r in second_rows] == [r["answer"] for r in first_rows]


def test_limit_counts_contexts_that_reach_min_questions_once_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--limit 1 --min-questions 2: candidates are prepared in the seeded order until one qualifies."""
    monkeypatch.setenv("SLEEPTIME_CACHE_DIR", str(tmp_path / "cache"))

    class OnlyForApples(QuestionWriter):
        def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
            if "Write 2 new questions" in messages[-1]["content"] and "apples" not in messages[-1]["content"]:
                self.written += 1
                return Completion(("No questions.",), Usage(50, 3, 0, 1), self.name, 0.001)
            return super().complete(messages, params)

    writer = OnlyForApples()
    bench = _bench(
        tmp_path, writer, ns=(2,), verbosities=(0,), min_questions=2, generate_questions=2, limit=1
    )
    pears = [
        f"Ann has {4 + i} pears. She eats 1 pear." for i in range(3)
    ]  # distinct: sets are cached per text
    bench._dataset = [
        Example(f"pears{i}", "test-set", text, "How many pears now?", str(3 + i), text)
        for i, text in enumerate(pears)
    ] + [Example("apples", "test-set", CONTEXT, "How many apples now?", "5", CONTEXT)]
    rows = amortization.run(bench).rows
    _close(bench)
    assert {r["example_id"] for r in rows} == {"apples"} and {r["question_index"] for r in rows} == {0, 1}
    # Seed 0 tries the candidates in the order 2, 0, 1, 3 (apples): three pear contexts fail first,
    # and four is the most MAX_PREPARE_FACTOR allows for --limit 1.
    assert writer.written == 4


def test_contexts_that_cannot_reach_min_questions_are_never_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--min-questions 4 --generate-questions 2: a context with one question could reach 3 at most,
    so no questions are written for it; one with 3 already is prepared and reaches 4."""
    monkeypatch.setenv("SLEEPTIME_CACHE_DIR", str(tmp_path / "cache"))
    writer = QuestionWriter()
    bench = _bench(
        tmp_path, writer, ns=(4,), verbosities=(0,), min_questions=4, generate_questions=2, limit=1
    )
    pears = [f"Ann has {4 + i} pears. She eats 1 pear." for i in range(3)]
    derived = (
        QA("How many pears did she eat?", "1", "derived"),
        QA("How many did she have?", "4", "derived"),
    )
    bench._dataset = [
        Example(f"pears{i}", "test-set", text, "How many pears now?", str(3 + i), text)
        for i, text in enumerate(pears)
    ] + [
        Example("apples", "test-set", CONTEXT, "How many apples now?", "5", CONTEXT, extra_questions=derived)
    ]
    rows = amortization.run(bench).rows
    _close(bench)
    assert {r["example_id"] for r in rows} == {"apples"} and {r["question_index"] for r in rows} == {
        0,
        1,
        2,
        3,
    }
    assert writer.written == 1  # the pear contexts (1 question + 2 at most < 4) were passed over
