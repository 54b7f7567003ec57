"""The call cache and the shared benchmark loop, with deterministic fake models."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from sleeptime.bench.cache import CachingModel, CachingScoringModel, JsonlLog, caching, call_key
from sleeptime.bench.config import BenchOptions, Condition, SleepSpec
from sleeptime.bench.datasets import QA, Example
from sleeptime.bench.experiments.pareto import Options
from sleeptime.bench.runner import EMPTY_CONTEXT, BenchRun, close_engine, context_text, grade, open_engine
from sleeptime.cli import run
from sleeptime.llm.base import LLM, Message, SamplingParams
from sleeptime.llm.fake import ScriptedModel
from sleeptime.settings import load_settings

from .bench_fakes import RETHINK, HashModel

MESSAGES: list[Message] = [{"role": "user", "content": "Tom has 3 apples. How many?"}]


def test_log_survives_a_line_cut_short_by_a_kill(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    log = JsonlLog(path)
    log.put({"key": "a", "value": 1})
    log.put({"key": "b", "value": 2})
    log.close()
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"key": "c", "val')  # the process died mid-write
    again = JsonlLog(path)
    assert sorted(r["key"] for r in again.values()) == ["a", "b"]
    again.put({"key": "d", "value": 4})
    again.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b", "d"]


def test_caching_model_replays_calls_across_processes(tmp_path: Path) -> None:
    inner = HashModel()
    model = CachingModel(inner, tmp_path / "calls.jsonl")
    params = SamplingParams(max_tokens=20)
    first = model.complete(MESSAGES, params)
    again = model.complete(MESSAGES, params)
    assert inner.calls == 1 and again == first
    model.complete(MESSAGES, SamplingParams(max_tokens=21))
    assert inner.calls == 2
    model.close()

    fresh_inner = HashModel()
    fresh = CachingModel(fresh_inner, tmp_path / "calls.jsonl")
    replayed = fresh.complete(MESSAGES, params)
    assert fresh_inner.calls == 0
    assert replayed.texts == first.texts and replayed.usage == first.usage
    assert replayed.latency_s == pytest.approx(first.latency_s)
    assert (fresh.log.hits, fresh.log.misses) == (1, 0)
    record = json.loads((tmp_path / "calls.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert record["key"] == call_key("hash-model", MESSAGES, params)
    assert set(record) >= {"messages", "params", "texts", "usage", "latency_s", "ttft_s", "ts"}
    fresh.close()


def test_caching_is_a_scoring_model_only_over_one(tmp_path: Path) -> None:
    class Scorer(HashModel):
        scored = 0

        def logprob(self, prefix: object, continuation: str) -> float:
            self.scored += 1
            return -1.5 * len(continuation.split())

    log = JsonlLog(tmp_path / "calls.jsonl")
    assert type(caching(HashModel(), log)) is CachingModel
    scorer = Scorer()
    wrapped = caching(scorer, log)
    assert isinstance(wrapped, CachingScoringModel)
    assert wrapped.logprob(MESSAGES, " two words") == -3.0
    assert wrapped.logprob(MESSAGES, " two words") == -3.0
    assert scorer.scored == 1
    log.close()


def _example(i: int) -> Example:
    context = f"Tom has {i + 3} apples and buys some more."
    extra = tuple(QA(f"Extra question {j}?", str(j), "derived") for j in range(i))
    return Example(f"ex{i}", "test-set", context, "How many apples?", "24", context, extra)


Factory = Callable[..., BenchRun]


@pytest.fixture
def make_bench() -> Iterator[Factory]:
    """BenchRun over the four examples above, in ``where/out``; closed after the test."""
    made: list[BenchRun] = []

    def make(
        where: Path, model: LLM, *, parallel: int = 1, kind: type[BenchOptions] = Options, **config: Any
    ) -> BenchRun:
        engine, embedded = open_engine(load_settings(), where / "out", model=model)
        assert not embedded
        cfg = kind(dataset="test-set", **config)
        bench = BenchRun(engine, cfg, where / "out", parallel=parallel, show_progress=False)
        bench._dataset = [_example(i) for i in range(4)]
        made.append(bench)
        return bench

    yield make
    for bench in made:
        close_engine(bench.engine)
        bench.close()


CONDITIONS = [
    Condition("sleep v0", "sleep", 0, SleepSpec(rounds=2, **RETHINK)),
    Condition("test v0", "test-time", 0),
    Condition("ctx v0", "context-only", 0),
]


def test_run_sleeps_once_per_example_and_asks_every_condition(tmp_path: Path, make_bench: Factory) -> None:
    inner = HashModel()
    bench = make_bench(tmp_path, inner)
    rows = bench.run(CONDITIONS, max_questions=2)
    # 4 examples; example i has 1 + i questions, at most 2 asked: 1 + 2 + 2 + 2 = 7 per condition.
    assert len(rows) == 21
    # Two rethink rounds per example, one call per answer; the context-only prompt has no
    # question, so its second question on a context replays the first.
    assert inner.calls == 4 * 2 + 7 + 7 + 4
    sleep_rows = [r for r in rows if r["kind"] == "sleep"]
    assert all(r["source"] == "learned" and r["sleep_completion_tokens"] > 0 for r in sleep_rows)
    assert all(r["sleep_completion_tokens"] == 0 for r in rows if r["kind"] != "sleep")
    assert {r["source"] for r in rows if r["kind"] == "test-time"} == {"raw"}
    assert all(r["score"] in (0.0, 1.0) and r["test_completion_tokens"] > 0 for r in rows)
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 21
    close_engine(bench.engine)

    again_inner = HashModel()
    again = make_bench(tmp_path, again_inner)
    assert again.run(CONDITIONS, max_questions=2) == rows
    assert again_inner.calls == 0  # every row was read back: not even a sleep


@pytest.mark.parametrize(("asked", "expected"), [(1, [1, 1, 1, 1]), (2, [1, 2, 2, 2]), (9, [1, 2, 3, 4])])
def test_scaling_asks_each_context_as_many_questions_as_told(
    tmp_path: Path, make_bench: Factory, asked: int, expected: list[int]
) -> None:
    from sleeptime.bench.experiments import scaling

    config = {"ks": (1,), "rounds": (2,), "sleep": RETHINK, "questions_per_context": asked}
    bench = make_bench(tmp_path, HashModel(), kind=scaling.Options, **config)
    rows = scaling.run(bench).rows
    for condition in ("sleep k=1 v0", "sleep rounds=2 v0", "test-time v0"):
        asked_per_example = Counter(r["example_id"] for r in rows if r["condition"] == condition)
        assert [asked_per_example[f"ex{i}"] for i in range(4)] == expected


def test_parallel_run_gives_the_sequential_rows(tmp_path: Path, make_bench: Factory) -> None:
    seq = make_bench(tmp_path / "a", HashModel(), seeds=2, limit=3)
    par = make_bench(tmp_path / "b", HashModel(), seeds=2, limit=3, parallel=4)
    strip = ("latency_s", "learned_context_id")
    expected = [{k: v for k, v in r.items() if k not in strip} for r in seq.run(CONDITIONS)]
    got = [{k: v for k, v in r.items() if k not in strip} for r in par.run(CONDITIONS)]
    assert got == expected
    assert {r["seed"] for r in got} == {0, 1}


def test_a_failed_sleep_is_recorded_and_the_answer_comes_from_the_raw_context(
    tmp_path: Path, make_bench: Factory
) -> None:
    def reply(messages: object) -> str:
        text = json.dumps(messages)
        return "ok" if "NOTES" in text and "QUESTION" not in text else "The answer is 24."

    model = ScriptedModel(default="", script=[reply] * 100)
    bench = make_bench(tmp_path, model, limit=1)
    [row] = bench.run([CONDITIONS[0]])
    assert row["source"] == "raw" and row["score"] == 1.0
    assert row["error"] and row["error"].startswith("MalformedOutputError")


def test_condition_budgets_fix_every_field() -> None:
    greedy = Condition("g", "test-time", 2).budget(3, 64)
    assert (greedy.verbosity, greedy.max_tokens, greedy.temperature, greedy.seed, greedy.n) == (
        2,
        64,
        0.0,
        0,
        1,
    )
    sampled = Condition("s", "test-time", 0, n=4, temperature=0.7).budget(2, 64)
    assert (sampled.seed, sampled.n, sampled.temperature) == (2000, 4, 0.7)
    assert SleepSpec(k=3).budget(1).seed == 100 and SleepSpec().budget(1).seed is None
    assert SleepSpec(k=2, rounds=1).label == "k=2 rounds=1" and SleepSpec().label == "default"


def test_grading_and_empty_contexts() -> None:
    aime = Example("a", "stateful-aime", "", "Find m.", "110", "Find m.")
    assert grade(aime, aime.questions[0], r"so \boxed{110}") == 1.0
    assert context_text(aime) == EMPTY_CONTEXT
    gsm = _example(0)
    assert grade(gsm, gsm.questions[0], "The answer is 24.0.") == 1.0
    text = Example("t", "hub:x/y", "c", "q?", "Paris", "c q?")
    assert grade(text, text.questions[0], "The answer is paris.") == 1.0
    assert grade(text, text.questions[0], "The answer is Rome.") == 0.0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--verbosities", "0,7"], 2, "--verbosities"),
        (["--dataset", "no-such-set"], 1, "unknown dataset"),
        (["--sleep", '{"rounds": 99}'], 2, "--sleep"),
        (["--sleep", '{"nonsense": 1}'], 2, "--sleep"),
        (["--limit", "-1"], 2, "--limit"),
        (["--splitter", "words"], 2, "--splitter"),
    ],
)
def test_cli_refuses_bad_options_before_opening_anything(
    args: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    assert run(["bench", "pareto", "--out", str(out), *args]) == code
    captured = capsys.readouterr()
    assert message in captured.err + captured.out and "Traceback" not in captured.err
    assert not out.exists()


def test_conditions_sharing_a_prompt_prefix_run_back_to_back(tmp_path: Path, make_bench: Factory) -> None:
    """The KV cache keeps a learned context across its verbosities; rows keep the conditions' order."""
    from sleeptime import prompts

    class Recorder(HashModel):
        def __init__(self) -> None:
            super().__init__()
            self.kinds: list[str] = []

        def complete(self, messages: Sequence[Message], params: SamplingParams) -> Any:
            if messages[0]["content"] != prompts.SLEEP_SYSTEM:
                self.kinds.append("raw" if prompts.NO_NOTES in messages[-1]["content"] else "learned")
            return super().complete(messages, params)

    conditions = [
        Condition("sleep v0", "sleep", 0, SleepSpec(rounds=1)),
        Condition("test v0", "test-time", 0),
        Condition("sleep v2", "sleep", 2, SleepSpec(rounds=1)),
        Condition("test v2", "test-time", 2),
    ]
    model = Recorder()
    bench = make_bench(tmp_path, model, limit=1)
    rows = bench.run(conditions)
    assert model.kinds == ["learned", "learned", "raw", "raw"]
    assert [r["condition"] for r in rows] == ["sleep v0", "test v0", "sleep v2", "test v2"]


def test_sleep_budgets_share_one_stored_context_and_answer_from_their_own(
    tmp_path: Path, make_bench: Factory
) -> None:
    """No copy of a context per sleep budget: each answer names its learned context (learned_id)."""
    from sleeptime import prompts

    class Recorder(HashModel):
        def __init__(self) -> None:
            super().__init__()
            self.answer_prompts: list[str] = []

        def complete(self, messages: Sequence[Message], params: SamplingParams) -> Any:
            if messages[0]["content"] != prompts.SLEEP_SYSTEM:
                self.answer_prompts.append(json.dumps(list(messages)))
            return super().complete(messages, params)

    conditions = [
        Condition("one round", "sleep", 0, SleepSpec(rounds=1, **RETHINK)),
        Condition("two rounds", "sleep", 0, SleepSpec(rounds=2, **RETHINK)),
        Condition("test", "test-time", 0),
    ]
    model = Recorder()
    bench = make_bench(tmp_path, model, limit=2)
    rows = bench.run(conditions)
    assert len(bench.engine.list_contexts()) == 2  # one per example, not one per sleep budget
    for example in {r["example_id"] for r in rows}:
        mine = {r["condition"]: r for r in rows if r["example_id"] == example}
        one, two = mine["one round"]["learned_context_id"], mine["two rounds"]["learned_context_id"]
        assert one and two and one != two
        for learned_id in (one, two):
            notes = bench.engine.get_learned(learned_id).text
            assert any(json.dumps(notes)[1:-1] in prompt for prompt in model.answer_prompts)
        assert mine["test"]["source"] == "raw" and mine["one round"]["source"] == "learned"
