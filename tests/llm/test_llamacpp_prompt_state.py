"""Prompt states and preemption on the real small model (SmolLM2) and real files."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sleeptime import Budget, Engine, prompts
from sleeptime.llm.base import SamplingParams
from sleeptime.llm.llamacpp import LlamaCppModel
from sleeptime.llm.priority import background
from sleeptime.llm.prompt_state import PromptStateCache, shared_cache
from sleeptime.settings import load_settings

CONTEXT = (
    "The Hillside farm keeps 12 cows and 30 sheep. Each cow gives 8 litres of milk a day and the "
    "farm sells milk at 0.90 dollars a litre. The sheep are shorn once a year for 4 kg of wool each. "
) * 6
NOTES = "Milk per day: 12 * 8 = 96 litres. Income per day: 96 * 0.90 = 86.40 dollars. Wool: 30 * 4 = 120 kg."
OTHER = "The lighthouse on the cape is 42 metres tall and was built in 1871 from granite blocks. " * 8
TEST_THREADS = int(os.environ.get("SLEEPTIME_TEST_N_THREADS", "0")) or None
GREEDY = SamplingParams(max_tokens=24, temperature=0.0)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prompt-cache")


@pytest.fixture(scope="module")
def model(smollm2_path: Path, cache_dir: Path) -> Iterator[LlamaCppModel]:
    llm = LlamaCppModel(
        smollm2_path,
        name="smollm2-135m",
        n_ctx=4096,
        n_threads=TEST_THREADS,
        prompt_cache=PromptStateCache(cache_dir, 500 * 1024 * 1024, ram_bytes=0),
    )
    yield llm
    llm.close()


def ask(model: LlamaCppModel, context: str, notes: str, question: str) -> tuple[str, int]:
    completion = model.complete(prompts.answer_messages(context, notes, question, 0), GREEDY)
    assert completion.time_to_first_token_s is not None
    assert 0 < completion.time_to_first_token_s <= completion.latency_s
    return completion.text, completion.usage.cached_tokens


def full_evaluation(model: LlamaCppModel, context: str, notes: str, question: str) -> str:
    cache, model.prompt_cache = model.prompt_cache, None
    try:
        ask(model, OTHER, "", "How tall?")  # the context no longer holds the prefix
        text, cached = ask(model, context, notes, question)
    finally:
        model.prompt_cache = cache
    assert cached < 60  # only the chat template's system part was shared
    return text


def test_a_restored_state_gives_the_same_greedy_tokens_as_a_full_evaluation(model: LlamaCppModel) -> None:
    question = "How much milk does the farm sell per day?"
    expected = full_evaluation(model, CONTEXT, NOTES, question)
    report = model.prepare_prefix(prompts.answer_prefix_messages(CONTEXT, NOTES), owner="farm")
    assert report.tokens > 300 and report.key is not None
    again = model.prepare_prefix(prompts.answer_prefix_messages(CONTEXT, NOTES), owner="farm")
    assert again.evaluated == 0  # kept: nothing to compute twice
    ask(model, OTHER, "", "How tall?")  # another context was used in between
    text, cached = ask(model, CONTEXT, NOTES, question)
    assert cached == report.tokens
    assert text == expected


def test_a_state_for_another_prefix_is_not_used(model: LlamaCppModel) -> None:
    model.prepare_prefix(prompts.answer_prefix_messages(CONTEXT, NOTES), owner="farm")
    ask(model, OTHER, "", "How tall?")
    # Same context, other notes: the saved prefix covers the context but not these notes.
    other_notes = "Cows: 12. Sheep: 30."
    expected = full_evaluation(model, CONTEXT, other_notes, "How many sheep?")
    ask(model, OTHER, "", "How tall?")
    text, cached = ask(model, CONTEXT, other_notes, "How many sheep?")
    assert cached < model.count_tokens(CONTEXT)  # not restored: the state is for other tokens
    assert text == expected


@pytest.mark.parametrize("damage", ["truncate", "corrupt", "other-model"])
def test_damaged_or_foreign_state_files_are_ignored(
    model: LlamaCppModel, cache_dir: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    context = f"{CONTEXT} ({damage})"
    question = "How much wool?"
    expected = full_evaluation(model, context, NOTES, question)
    report = model.prepare_prefix(prompts.answer_prefix_messages(context, NOTES), owner=damage)
    (path,) = cache_dir.glob(f"{damage}.*.kvstate")
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(bytes(blob[: len(blob) // 2]))
    elif damage == "corrupt":
        blob[len(blob) // 2] ^= 0xFF
        path.write_bytes(bytes(blob))
    else:  # a state made by another model file, renamed to look like ours
        other = blob.replace(model.model_sha256.encode(), b"f" * 64, 1)
        path.write_bytes(bytes(other))
    ask(model, OTHER, "", "How tall?")
    text, cached = ask(model, context, NOTES, question)
    assert cached < report.tokens
    assert text == expected
    assert "ignored" in caplog.text


def test_sleep_warms_both_prompts_and_deleting_a_context_removes_its_states(smollm2_path: Path) -> None:
    settings = load_settings()
    cache = shared_cache(settings.prompt_cache_dir, settings.prompt_cache_mb * 1024 * 1024)
    llm = LlamaCppModel(smollm2_path, n_ctx=4096, n_threads=TEST_THREADS, prompt_cache=cache)
    budget = Budget(rounds=1, k=1, max_tokens=48, temperature=0.0, seed=0)
    with Engine(model=llm, store=f"sqlite:///{settings.home / 'db.sqlite'}", settings=settings) as engine:
        ctx = engine.add_context(CONTEXT)
        keep = engine.add_context(OTHER)
        engine.sleep(ctx.id, budget, strategy="rethink")
        engine.sleep(keep.id, budget, strategy="rethink")
        files = lambda owner: list(settings.prompt_cache_dir.glob(f"{owner}.*.kvstate"))  # noqa: E731
        # The baseline's prefix and the learned context's, each as the part every verbosity shares
        # and as the default verbosity's (its instruction included).
        assert len(files(ctx.id)) == 4
        engine.update_context(ctx.id, CONTEXT + " The farm also keeps 3 horses.")
        engine.sleep(ctx.id, budget, strategy="rethink")
        assert len(files(ctx.id)) == 4  # the superseded learned context's states are gone
        answer = engine.ask(ctx.id, "How many horses?")
        assert answer.usage.cached_tokens > llm.count_tokens(CONTEXT)
        ask(llm, OTHER, "", "How tall?")  # another prompt in the KV cache
        thorough = engine.ask(ctx.id, "How many horses?", {"verbosity": 4, "max_tokens": 4})
        assert thorough.usage.cached_tokens > llm.count_tokens(CONTEXT)
        engine.delete_context(ctx.id)
        assert files(ctx.id) == []
        assert len(files(keep.id)) == 4


# --- queries go first


SLEEP_PROMPT = prompts.sleep_first_round(CONTEXT)
SLEEP_PARAMS = SamplingParams(max_tokens=160, temperature=0.0)


def run_in_background(model: LlamaCppModel, out: dict[str, object]) -> threading.Thread:
    def run() -> None:
        with background():
            out["text"] = model.complete(SLEEP_PROMPT, SLEEP_PARAMS).text
            out["done"] = time.perf_counter()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.parametrize("when", ["generating", "evaluating the prompt"])
def test_a_query_preempts_a_background_generation_which_resumes_unchanged(
    model: LlamaCppModel, when: str
) -> None:
    ask(model, OTHER, "", "How tall?")
    uninterrupted = model.complete(SLEEP_PROMPT, SLEEP_PARAMS)
    assert uninterrupted.usage.completion_tokens > 60  # long enough to be interrupted
    ask(model, OTHER, "", "How tall?")  # the sleep prompt must be evaluated again
    before = model.lock.preemptions
    out: dict[str, object] = {}
    thread = run_in_background(model, out)
    if when == "generating":
        wait_until(lambda: model._first_token_at is not None and model.lock._owner is not None)
    else:
        wait_until(lambda: model.lock._owner is not None)
    ask(model, "Cats are mammals.", "", "Are cats mammals?")
    answered = time.perf_counter()
    thread.join(60)
    assert answered < out["done"]  # type: ignore[operator]
    assert model.lock.preemptions > before
    assert out["text"] == uninterrupted.text


def test_count_tokens_does_not_wait_for_a_generation(model: LlamaCppModel) -> None:
    pieces = model.stream(SLEEP_PROMPT, SLEEP_PARAMS)
    next(pieces)  # the stream holds the model now
    counted: list[int] = []
    thread = threading.Thread(target=lambda: counted.append(model.count_tokens("one two three")))
    thread.start()
    thread.join(5)
    assert counted and counted[0] >= 3
    pieces.close()
