"""Every engine path on the real small model (SmolLM2-135M via llama.cpp) and a real SQLite file."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from sleeptime import (
    Budget,
    ContextTooLongError,
    Engine,
    InvalidInputError,
    NotFoundError,
)

TEXT = "Tom has 3 boxes. Each box holds 4 red balls and 2 blue balls. He gives away one box."


def test_add_sleep_ask_round_trip(engine: Engine) -> None:
    ctx = engine.add_context(TEXT, metadata={"kind": "word problem"})
    assert ctx.version == 1 and ctx.metadata == {"kind": "word problem"}

    learned = engine.sleep(ctx.id)  # the default strategy, solve, on the real small model
    assert learned.context_id == ctx.id and learned.context_version == 1
    assert learned.strategy == "solve" and learned.entries is not None
    assert learned.text.strip() and learned.text == learned.entries.render()
    # One call to anticipate, then per question and round at most `votes` programs and a fallback.
    most = 1 + learned.budget["questions"] * learned.budget["rounds"] * (learned.budget["votes"] + 1)
    assert 2 <= learned.usage.calls <= most and learned.usage.completion_tokens > 0
    assert learned.model == "smollm2-135m" and learned.duration_s > 0
    assert learned.budget["rounds"] == 2 and learned.budget["max_tokens"] == 96

    answer = engine.ask(ctx.id, "How many balls does Tom keep?", Budget(verbosity=0, max_tokens=40))
    assert answer.source == "learned" and answer.learned_context_id == learned.id
    assert answer.text.strip()
    assert 0 < answer.usage.completion_tokens <= 40
    assert answer.usage.prompt_tokens > 0 and answer.latency_s > 0
    assert answer.id is not None

    baseline = engine.ask(ctx.id, "How many balls does Tom keep?", Budget(max_tokens=40), use_learned=False)
    assert baseline.source == "raw" and baseline.learned_context_id is None
    # The baseline prompt lacks the notes, so it is strictly shorter.
    assert baseline.usage.prompt_tokens < answer.usage.prompt_tokens

    stored = engine.list_queries(ctx.id)  # newest first
    assert [(q.id, q.source, q.answer) for q in stored] == [
        (baseline.id, "raw", baseline.text),
        (answer.id, "learned", answer.text),
    ]


def test_same_sleep_twice_costs_nothing_and_force_sleeps_again(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    first = engine.sleep(ctx.id)
    calls: list[int] = []
    again = engine.sleep(ctx.id, on_call=calls.append)
    assert again.id == first.id and calls == []
    forced = engine.sleep(ctx.id, force=True, on_call=calls.append)
    assert forced.id != first.id and calls
    assert engine.learned_context(ctx.id) is not None
    assert len(engine.store.list_learned(ctx.id)) == 2


def test_update_never_serves_the_old_learned_context(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    old = engine.sleep(ctx.id)
    updated = engine.update_context(ctx.id, "Ann has 10 apples and eats 3.")
    assert updated.version == 2
    answer = engine.ask(ctx.id, "How many apples are left?", Budget(max_tokens=30))
    assert answer.source == "raw" and answer.learned_context_id is None
    assert "no learned context for version 2" in answer.note
    assert engine.learned_context(ctx.id) is None
    # The old one is still there, as history of version 1.
    assert [lc.id for lc in engine.store.list_learned(ctx.id)] == [old.id]


def test_append_sleeps_incrementally_from_the_previous_learned_context(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    first = engine.sleep(ctx.id, strategy="rethink")  # rethink grows its notes; solve starts afresh
    grown = engine.append_context(ctx.id, "Then he buys 2 more boxes.")
    assert grown.version == 2 and grown.text.startswith(TEXT)
    second = engine.sleep(ctx.id, strategy="rethink")
    assert second.based_on == first.id and second.context_version == 2
    answer = engine.ask(ctx.id, "How many boxes now?", Budget(max_tokens=30))
    assert answer.learned_context_id == second.id


def test_k_parallel_learned_contexts_are_joined(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    learned = engine.sleep(ctx.id, Budget(k=2, rounds=1, max_tokens=48), strategy="rethink")
    assert len(learned.notes) == 2 and learned.usage.calls == 2
    assert learned.budget["temperature"] > 0  # k copies at temperature 0 would be identical
    assert "[Notes 1]" in learned.text and "[Notes 2]" in learned.text


def test_n_samples(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    answer = engine.ask(ctx.id, "How many boxes?", Budget(n=3, max_tokens=16, temperature=0.9))
    assert len(answer.texts) == 3 and answer.usage.calls == 3


def test_bad_inputs_are_clear_errors_and_store_nothing(engine: Engine) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        engine.add_context("   \n ")
    with pytest.raises(NotFoundError):
        engine.ask("nope", "What?")
    with pytest.raises(NotFoundError):
        engine.sleep("nope")
    ctx = engine.add_context(TEXT)
    with pytest.raises(InvalidInputError, match="verbosity"):
        engine.ask(ctx.id, "What?", {"verbosity": 7})
    with pytest.raises(InvalidInputError, match="question is empty"):
        engine.ask(ctx.id, "  ")
    with pytest.raises(InvalidInputError, match="unknown sleep strategy"):
        engine.sleep(ctx.id, strategy="dream")
    assert engine.store.list_queries(ctx.id) == []
    assert [c.id for c in engine.list_contexts()] == [ctx.id]


def test_oversized_context_is_refused_or_truncated_on_request(engine: Engine) -> None:
    huge = "The warehouse holds 12 crates of apples. " * 2000
    with pytest.raises(ContextTooLongError, match="4,096"):
        engine.add_context(huge)
    assert engine.list_contexts() == []
    ctx = engine.add_context(huge, truncate=True)
    assert "truncated" in ctx.text and len(ctx.text) < len(huge)
    assert engine.model.count_tokens(ctx.text) < engine.model.context_window


def test_async_variants(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)

    async def go() -> tuple[str, str]:
        learned = await engine.asleep(ctx.id, Budget(rounds=1, max_tokens=32))
        answer = await engine.aask(ctx.id, "How many boxes?", Budget(max_tokens=16))
        return learned.id, answer.learned_context_id or ""

    learned_id, used = asyncio.run(go())
    assert learned_id == used


def test_delete_removes_everything(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    engine.sleep(ctx.id, Budget(rounds=1, max_tokens=16))
    engine.ask(ctx.id, "Boxes?", Budget(max_tokens=8))
    engine.delete_context(ctx.id)
    with pytest.raises(NotFoundError):
        engine.get_context(ctx.id)
    assert engine.store.list_learned(ctx.id) == []
    assert engine.store.list_queries(ctx.id) == []


def test_structured_sleep_on_the_real_model_uses_the_json_grammar(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    learned = engine.sleep(ctx.id, Budget(rounds=1, max_tokens=160), strategy="rethink-structured")
    assert learned.strategy == "rethink-structured"
    assert learned.text.strip() and not learned.text.lstrip().startswith("{")


def test_concurrent_callers_queue_on_the_embedded_model(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A llama.cpp context is not thread-safe: concurrent asks must never be inside it together."""
    from concurrent.futures import ThreadPoolExecutor

    llm = engine.model
    generate = llm._chat  # type: ignore[attr-defined]  # every generation goes through it
    inside, most = [0], [0]
    count = threading.Lock()

    def watched(*args: object, **kwargs: object) -> object:
        with count:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            time.sleep(0.05)  # without the model's lock, the other callers would come in now
            return generate(*args, **kwargs)
        finally:
            with count:
                inside[0] -= 1

    monkeypatch.setattr(llm, "_chat", watched)
    ctx = engine.add_context(TEXT)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(
                lambda i: engine.ask(ctx.id, f"Question {i}: how many boxes?", Budget(max_tokens=12)),
                range(4),
            )
        )
    assert all(a.text.strip() for a in answers)
    assert most[0] == 1 and len(engine.list_queries(ctx.id)) == 4
