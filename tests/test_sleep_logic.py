"""Exact rethink logic and fault injection with the scripted model (the real model is in test_engine)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from sleeptime import BackendTimeoutError, Budget, Engine, MalformedOutputError
from sleeptime.llm.base import Message
from sleeptime.llm.fake import ScriptedModel
from sleeptime.sleep import SleepCancelled, parse_rewrite, sleep_on

RESOLVED = Budget(rounds=3, k=1, max_tokens=200, temperature=0.0, seed=0)


def test_parse_rewrite() -> None:
    assert parse_rewrite("FINISHED") == ("", True)
    assert parse_rewrite("  **FINISHED**. ") == ("", True)
    assert parse_rewrite("x = 3 apples\ny = 4\nFINISHED") == ("x = 3 apples\ny = 4", True)
    assert parse_rewrite("<<<\nTotal = 12 balls\n>>>") == ("Total = 12 balls", False)
    assert parse_rewrite("NOTES:\n```\nTotal = 12 balls\n```") == ("Total = 12 balls", False)
    assert parse_rewrite("") == ("", False)
    assert parse_rewrite("ok") == ("", False)


def test_rounds_rewrite_the_whole_notes_and_stop_at_finished() -> None:
    model = ScriptedModel(["first notes: total = 10", "second notes: total = 12", "FINISHED", "never used"])
    out = sleep_on(model, "Some context.", RESOLVED, strategy="rethink")
    assert out.notes == ("second notes: total = 12",)
    assert out.rounds_used == (3,)
    assert out.usage.calls == 3
    # Round 2 and 3 were shown the notes they rewrite, never the context alone.
    assert "first notes: total = 10" in model.calls[1][0][1]["content"]
    assert "second notes: total = 12" in model.calls[2][0][1]["content"]


def test_round_budget_is_a_hard_limit() -> None:
    model = ScriptedModel(default="notes that keep changing forever")
    out = sleep_on(model, "ctx", RESOLVED, strategy="rethink")
    assert out.rounds_used == (3,) and len(model.calls) == 3


def test_empty_first_round_is_retried_then_reported() -> None:
    model = ScriptedModel(["", "   ", "real notes here"])
    out = sleep_on(model, "ctx", RESOLVED.model_copy(update={"rounds": 1}), strategy="rethink")
    assert out.notes == ("real notes here",) and out.usage.calls == 3

    broken = ScriptedModel(default="")
    with pytest.raises(MalformedOutputError, match="no notes"):
        sleep_on(broken, "ctx", RESOLVED, strategy="rethink")
    assert len(broken.calls) == 3  # bounded, never a loop


def test_a_useless_later_round_keeps_the_previous_notes() -> None:
    model = ScriptedModel(["good notes: 4 + 4 = 8", "", "FINISHED"])
    out = sleep_on(model, "ctx", RESOLVED, strategy="rethink")
    assert out.notes == ("good notes: 4 + 4 = 8",)


def test_k_runs_use_distinct_seeds() -> None:
    model = ScriptedModel(default="notes: x = 1\nFINISHED")
    sleep_on(model, "ctx", RESOLVED.model_copy(update={"k": 3, "rounds": 1, "seed": 10}), strategy="rethink")
    assert sorted(params.seed for _, params in model.calls) == [10, 11, 12]


def test_cancel_between_rounds() -> None:
    cancel = threading.Event()

    def second_round(messages: Sequence[Message]) -> str:
        cancel.set()  # the context changed while the model was thinking
        return "notes v2"

    model = ScriptedModel(["notes v1", second_round, "notes v3"])
    with pytest.raises(SleepCancelled):
        sleep_on(model, "ctx", RESOLVED, cancel=cancel, strategy="rethink")
    assert len(model.calls) == 2


@pytest.fixture
def fake_engine(sqlite_url: str) -> Engine:
    return Engine(model=ScriptedModel(default="The answer is 7."), store=sqlite_url)


def test_crash_mid_sleep_leaves_no_learned_context_and_a_failed_run(sqlite_url: str) -> None:
    model = ScriptedModel(["notes round 1", RuntimeError("model process died")])
    engine = Engine(model=model, store=sqlite_url)
    ctx = engine.add_context("A shop sells 3 pens for $2.")
    with pytest.raises(RuntimeError, match="died"):
        engine.sleep(ctx.id)
    assert engine.store.list_learned(ctx.id) == []
    (run,) = engine.store.list_runs(ctx.id)
    assert run.status == "failed" and run.error is not None and "died" in run.error
    # Answers still work, from the raw context, and say so.
    answer = engine.ask(ctx.id, "How much is one pen?")
    assert answer.source == "raw"


def test_backend_timeout_during_ask_is_raised_and_not_recorded(sqlite_url: str) -> None:
    model = ScriptedModel([BackendTimeoutError("no answer in 120s")])
    engine = Engine(model=model, store=sqlite_url)
    ctx = engine.add_context("ctx text")
    with pytest.raises(BackendTimeoutError):
        engine.ask(ctx.id, "q?")
    assert engine.store.list_queries(ctx.id) == []


def test_ask_budget_reaches_the_model(fake_engine: Engine) -> None:
    ctx = fake_engine.add_context("ctx text")
    fake_engine.ask(ctx.id, "q?", Budget(verbosity=4, max_tokens=77, reasoning_effort="high"))
    model = fake_engine.model
    assert isinstance(model, ScriptedModel)
    messages, params = model.calls[-1]
    assert params.max_tokens == 77 and params.reasoning_effort == "high"
    assert "step by step" in messages[-1]["content"]


def test_structured_strategy_sends_a_schema_and_reads_json(sqlite_url: str) -> None:
    model = ScriptedModel(
        [
            '{"notes": "pens cost 2/3 dollars each", "finished": false}',
            '{"notes": "ignored", "finished": true}',
        ]
    )
    engine = Engine(model=model, store=sqlite_url)
    ctx = engine.add_context("A shop sells 3 pens for $2.")
    learned = engine.sleep(ctx.id, strategy="rethink-structured")
    assert learned.text == "pens cost 2/3 dollars each" and learned.strategy == "rethink-structured"
    assert learned.rounds_used == (2,)
    for messages, params in model.calls:
        assert params.json_schema is not None and '"finished"' in messages[-1]["content"]


def test_several_appends_grow_the_last_learned_context(sqlite_url: str) -> None:
    model = ScriptedModel(default="notes: everything computed")
    engine = Engine(model=model, store=sqlite_url, sleep_budget=Budget(rounds=1), sleep_strategy="rethink")
    ctx = engine.add_context("Part one.")
    first = engine.sleep(ctx.id)
    engine.append_context(ctx.id, "Part two.")
    engine.append_context(ctx.id, "Part three.")
    grown = engine.sleep(ctx.id)
    assert grown.based_on == first.id
    prompt = model.calls[-1][0][-1]["content"]
    assert "Part two.\nPart three." in prompt and "notes: everything computed" in prompt
    engine.update_context(ctx.id, "Something else entirely.")
    fresh = engine.sleep(ctx.id)
    assert fresh.based_on is None


def test_a_partial_budget_in_settings_keeps_the_other_defaults(sqlite_url: str) -> None:
    engine = Engine(model=ScriptedModel(), store=sqlite_url, sleep_budget=Budget(rounds=5))
    resolved = engine.resolve_sleep_budget(None)
    assert resolved.rounds == 5 and resolved.k == 1 and resolved.max_tokens == 768
