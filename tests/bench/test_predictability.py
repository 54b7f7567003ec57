"""Predictability scores (log P(q | c)) and their 5 quantile bins."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sleeptime.bench.cache import JsonlLog, caching
from sleeptime.bench.predictability import bin_table, quantile_bins, score_question, trend
from sleeptime.errors import ConfigurationError
from sleeptime.llm.llamacpp import LlamaCppModel

from .bench_fakes import HashModel


@pytest.fixture(scope="module")
def small(smollm2_path: Path) -> Iterator[LlamaCppModel]:
    """The small model on one thread (the machine's cores are shared)."""
    model = LlamaCppModel(smollm2_path, name="smollm2-135m", n_ctx=2048, n_threads=1)
    yield model
    model.close()


def test_quantile_bins_split_ranks_evenly() -> None:
    scores = [-0.5, -3.0, -1.0, -2.0, -0.1, -4.0, -2.5, -1.5, -0.2, -5.0]
    bins = quantile_bins(scores)
    assert [bins[i] for i in sorted(range(10), key=lambda i: scores[i])] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert quantile_bins([1.0, 1.0, 1.0]) == [0, 1, 2]  # ties, and fewer items than bins
    assert quantile_bins([]) == []


@given(st.lists(st.floats(-50, 0), min_size=1, max_size=60))
def test_bins_are_ordered_and_balanced(scores: list[float]) -> None:
    bins = quantile_bins(scores)
    sizes = [bins.count(b) for b in set(bins)]
    assert max(sizes) - min(sizes) <= 1 and len(set(bins)) == min(5, len(scores))
    pairs = sorted(zip(scores, bins, strict=True))
    assert all(b0 <= b1 for (s0, b0), (s1, b1) in itertools.pairwise(pairs) if s0 < s1)


def _rows(seed: int, scores: list[float], sleep: list[float], base: list[float]) -> list[dict[str, Any]]:
    rows = []
    for i, (p, s, b) in enumerate(zip(scores, sleep, base, strict=True)):
        common = {"seed": seed, "example_id": f"e{i}", "predictability": p}
        rows.append({**common, "condition": "sleep", "score": s})
        rows.append({**common, "condition": "base", "score": b})
    return rows


def test_bin_table_gain_per_bin() -> None:
    scores = [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -10.0]
    # The most predictable half gains from sleep-time, the least predictable does not.
    sleep = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    base = [0.0] * 10
    table = bin_table(_rows(0, scores, sleep, base), "sleep", "base")
    assert [b["bin"] for b in table] == [1, 2, 3, 4, 5]
    assert [b["gain"] for b in table] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert table[0]["score_min"] == -10.0 and table[-1]["score_max"] == -1.0
    assert all(b["examples"] == 2 for b in table)
    shape = trend(table)
    assert shape["top_minus_bottom"] == 1.0 and shape["spearman"] > 0.8


def test_bin_table_averages_bins_over_seeds() -> None:
    scores = [-1.0, -2.0, -3.0, -4.0, -5.0]
    rows = _rows(0, scores, [1.0] * 5, [0.0] * 5) + _rows(1, scores, [0.0] * 5, [0.0] * 5)
    table = bin_table(rows, "sleep", "base")
    assert all(b["gain"] == 0.5 and b["gain_std"] == pytest.approx(0.7071, rel=1e-3) for b in table)
    assert all(b["examples"] == 2 for b in table)


def test_a_model_without_logprobs_cannot_score() -> None:
    with pytest.raises(ConfigurationError):
        score_question(HashModel(), "Tom has 3 apples.", "How many?")


def test_a_question_that_follows_from_its_context_scores_higher(small: LlamaCppModel, tmp_path: Path) -> None:
    log = JsonlLog(tmp_path / "calls.jsonl")
    model = caching(small, log)
    context = "Tom has 3 red apples. He buys 5 more red apples at the market."
    natural = score_question(model, context, "How many red apples does Tom have now?")
    odd = score_question(model, context, "Zebra quantum violet seventeen lampshade?")
    assert natural.logprob < 0 and natural.tokens > 3
    assert natural.value("mean") > odd.value("mean")
    assert natural.value("sum") == natural.logprob
    again = score_question(model, context, "How many red apples does Tom have now?")
    assert again == natural and log.hits == 1  # served from the call log
    log.close()


def test_a_separate_scoring_model_scores_and_is_named(
    tmp_path: Path, smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The paper scored with a base model: --score-model scores with another model than the one answering."""
    from sleeptime.bench.datasets import Example
    from sleeptime.bench.experiments import predictability
    from sleeptime.bench.runner import BenchRun, close_engine, open_engine
    from sleeptime.settings import load_settings

    monkeypatch.setenv("SLEEPTIME_N_THREADS", "1")
    context = "Tom has 3 apples. On Monday he buys 2 more apples."
    questions = ["How many apples does Tom have now?", "What colour is the Moon's left shoe?"]
    examples = [Example(f"ex{i}", "test-set", context, q, "5", context) for i, q in enumerate(questions)]

    def bench(score_model: str | None) -> BenchRun:
        engine, _ = open_engine(load_settings(), tmp_path / "out", model=HashModel())
        config = predictability.Options(dataset="test-set", score_model=score_model)
        run = BenchRun(engine, config, tmp_path / "out", show_progress=False)
        run._dataset = examples
        return run

    unscored = bench(None)
    with pytest.raises(ConfigurationError, match="log-probabilities"):
        predictability.run(unscored)  # the answering model cannot score
    close_engine(unscored.engine)
    unscored.close()

    scored = bench(str(smollm2_path))
    outcome = predictability.run(scored)
    close_engine(scored.engine)
    scored.close()
    by_question = {r["question"]: r["predictability"] for r in outcome.rows}
    assert all(v is not None and v < 0 for v in by_question.values())
    assert by_question[questions[0]] > by_question[questions[1]]  # the on-topic question is likelier
    assert any("a separate scorer" in note and smollm2_path.stem in note for note in outcome.notes)
