"""The facade's one path for every ask, budget, tenant and sleep run, on the scripted model and SQLite."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from sleeptime import Budget, Engine, InvalidInputError, NotFoundError
from sleeptime.budget import DEFAULT_ASK_BUDGET, DEFAULT_SLEEP_BUDGET, resolve_ask, resolve_sleep
from sleeptime.errors import BackendUnavailableError
from sleeptime.llm.base import Message
from sleeptime.llm.fake import ScriptedModel
from sleeptime.sleep import SleepCancelled
from sleeptime.store import SleepRun

TEXT = "A shop sells 3 pens for $2 and 5 pencils for $1."
NOTES = "Notes: one pen costs 2/3 dollars; one pencil costs 0.2 dollars. FINISHED"


@pytest.fixture
def model() -> ScriptedModel:
    return ScriptedModel(default="The answer is 12 pens.")


@pytest.fixture
def engine(model: ScriptedModel, sqlite_url: str) -> Engine:
    return Engine(model=model, store=sqlite_url, sleep_budget=Budget(rounds=1))


# --- ask and ask_stream: one path


def test_ask_stream_yields_pieces_then_records_the_query(engine: Engine, model: ScriptedModel) -> None:
    ctx = engine.add_context(TEXT)
    stream = engine.ask_stream(ctx.id, "How many pens for $8?", Budget(max_tokens=20))
    assert (stream.source, stream.context_version, stream.learned_context_id) == ("raw", 1, None)
    assert "no learned context for version 1" in stream.note and stream.id is not None
    with pytest.raises(RuntimeError, match="not finished"):
        _ = stream.answer
    pieces = []
    for piece in stream:
        pieces.append(piece)
        assert engine.list_queries(ctx.id) == []  # recorded at the end, not before
    assert len(pieces) > 1 and "".join(pieces) == "The answer is 12 pens."
    answer = stream.answer
    assert answer.text == "".join(pieces) and answer.id == stream.id
    [query] = engine.list_queries(ctx.id)
    assert (query.id, query.answer, query.source) == (stream.id, answer.text, "raw")
    assert answer.usage.completion_tokens == 5 and answer.usage.calls == 1


def test_ask_and_ask_stream_answer_from_the_same_plan(engine: Engine, model: ScriptedModel) -> None:
    ctx = engine.add_context(TEXT)
    model.extend([NOTES])
    learned = engine.sleep(ctx.id, strategy="rethink")
    plain = engine.ask(ctx.id, "Price of a pen?", {"verbosity": 2})
    stream = engine.ask_stream(ctx.id, "Price of a pen?", {"verbosity": 2})
    streamed = "".join(stream)
    assert streamed == plain.text
    for answer in (plain, stream.answer):
        assert answer.source == "learned" and answer.learned_context_id == learned.id
        assert answer.note == ""
    assert stream.answer.budget == plain.budget
    (_, first), (_, second) = model.calls[-2:]
    assert first == second  # the same sampling parameters reached the model
    assert model.calls[-1][0] == model.calls[-2][0]  # and the same prompt


def test_a_stream_closed_early_records_nothing(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    with engine.ask_stream(ctx.id, "How many?") as stream:
        next(iter(stream))
    assert engine.list_queries(ctx.id) == []


def test_record_latency_stores_what_the_caller_saw_with_the_query(engine: Engine) -> None:
    ctx = engine.add_context(TEXT)
    answer = engine.ask(ctx.id, "How many pens for $8?")
    assert answer.id is not None
    engine.record_latency(answer.id, latency_s=2.5, queue_wait_s=0.75)
    [query] = engine.list_queries(ctx.id)
    assert (query.latency_s, query.queue_wait_s) == (2.5, 0.75)


def test_ask_stream_checks_everything_before_the_first_piece(engine: Engine) -> None:
    with pytest.raises(NotFoundError):
        engine.ask_stream("nope", "q?")
    ctx = engine.add_context(TEXT)
    with pytest.raises(InvalidInputError, match="question is empty"):
        engine.ask_stream(ctx.id, " ")
    with pytest.raises(InvalidInputError, match="verbosity"):
        engine.ask_stream(ctx.id, "q?", {"verbosity": 9})


def test_answer_to_dict_is_the_one_serialisation(engine: Engine) -> None:
    from sleeptime.server.schemas import AnswerOut

    ctx = engine.add_context(TEXT)
    answer = engine.ask(ctx.id, "How many?")
    data = answer.to_dict()
    assert data["answer"] == answer.text and data["answers"] == [answer.text]
    assert data["usage"]["total_tokens"] == answer.usage.total_tokens
    assert data["created_at"] == answer.created_at.isoformat()  # type: ignore[union-attr]
    served = AnswerOut.of(answer).model_dump(mode="json")
    same = {k: v for k, v in data.items() if k != "created_at"}  # a datetime there, text here
    assert {k: served[k] for k in same} == same


# --- one resolved budget


def test_budgets_resolve_given_over_settings_over_defaults() -> None:
    assert resolve_ask(None) == resolve_ask(DEFAULT_ASK_BUDGET)
    asked = resolve_ask({"verbosity": 3}, Budget(max_tokens=33))
    assert (asked.verbosity, asked.max_tokens, asked.n, asked.temperature) == (3, 33, 1, 0.0)
    slept = resolve_sleep({"k": 2}, Budget(rounds=6))
    assert (slept.rounds, slept.k, slept.max_tokens) == (6, 2, DEFAULT_SLEEP_BUDGET.max_tokens)
    assert slept.temperature > 0  # k copies at temperature 0 would be one
    assert resolve_sleep({"k": 2, "temperature": 0.0}).temperature == 0.0  # asked for: kept


def test_the_streamed_answer_uses_the_settings_budget_like_ask(model: ScriptedModel, sqlite_url: str) -> None:
    # The OpenAI-compatible route used `settings.ask_budget or DEFAULT` before: a partial
    # ask budget in the settings then lost its other defaults on the streamed path only.
    engine = Engine(model=model, store=sqlite_url, ask_budget=Budget(max_tokens=33))
    ctx = engine.add_context(TEXT)
    engine.ask(ctx.id, "q?")
    "".join(engine.ask_stream(ctx.id, "q?"))
    (_, plain), (_, streamed) = model.calls[-2:]
    assert plain == streamed and plain.max_tokens == 33 and plain.temperature == 0.0 and plain.n == 1


# --- tenants and learned contexts


def test_every_method_checks_the_tenant(engine: Engine, model: ScriptedModel) -> None:
    ctx = engine.add_context(TEXT, tenant="acme")
    model.extend([NOTES])
    learned = engine.sleep(ctx.id, tenant="acme", strategy="rethink")
    engine.ask(ctx.id, "q?", tenant="acme")
    calls = [
        lambda t: engine.get_context(ctx.id, tenant=t),
        lambda t: engine.update_context(ctx.id, "other text", tenant=t),
        lambda t: engine.append_context(ctx.id, "more", tenant=t),
        lambda t: engine.sleep(ctx.id, tenant=t, force=True),
        lambda t: engine.ask(ctx.id, "q?", tenant=t),
        lambda t: engine.ask_stream(ctx.id, "q?", tenant=t),
        lambda t: engine.learned_context(ctx.id, tenant=t),
        lambda t: engine.list_learned(ctx.id, tenant=t),
        lambda t: engine.get_learned(learned.id, tenant=t),
        lambda t: engine.list_runs(ctx.id, tenant=t),
        lambda t: engine.list_queries(ctx.id, tenant=t),
        lambda t: engine.delete_context(ctx.id, tenant=t),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call("intruder")
    assert engine.list_contexts(tenant="intruder") == []
    assert engine.get_context(ctx.id).version == 1 and len(engine.list_queries(ctx.id)) == 1
    assert [c.id for c in engine.list_contexts(tenant="acme")] == [ctx.id]
    assert engine.get_learned(learned.id, tenant="acme").id == learned.id
    engine.delete_context(ctx.id, tenant="acme")
    with pytest.raises(NotFoundError):
        engine.get_context(ctx.id)


def test_ask_from_a_chosen_learned_context(engine: Engine, model: ScriptedModel) -> None:
    ctx = engine.add_context(TEXT)
    model.extend(["Notes: first pass, pens cost 2/3 dollars.", "Notes: second pass, pencils 0.2."])
    first = engine.sleep(ctx.id, strategy="rethink")
    second = engine.sleep(ctx.id, force=True, strategy="rethink")
    assert engine.ask(ctx.id, "q?").learned_context_id == second.id  # the newest by default
    chosen = engine.ask(ctx.id, "q?", learned_id=first.id)
    assert chosen.learned_context_id == first.id and chosen.source == "learned"
    assert "first pass" in _prompt(model)
    engine.update_context(ctx.id, "Ann has 10 apples.")
    stale = engine.ask(ctx.id, "q?", learned_id=first.id)  # answered about the version it was made from
    assert stale.context_version == 1 and "pens" in _prompt(model) and "apples" not in _prompt(model)
    other = engine.add_context("Bob has 2 dogs.")
    with pytest.raises(NotFoundError):
        engine.ask(other.id, "q?", learned_id=first.id)
    with pytest.raises(InvalidInputError, match="learned_id"):
        engine.ask(ctx.id, "q?", learned_id=first.id, use_learned=False)


# --- sleep runs: recorded by the engine, with real usage, handed to the caller


def test_a_failed_run_records_what_it_spent(sqlite_url: str) -> None:
    model = ScriptedModel(["notes of round one, total = 10", RuntimeError("model process died")])
    engine = Engine(model=model, store=sqlite_url, sleep_budget=Budget(rounds=3))
    ctx = engine.add_context(TEXT)
    heard: list[SleepRun] = []
    with pytest.raises(RuntimeError, match="died"):
        engine.sleep(ctx.id, on_run=heard.append, strategy="rethink")
    [run] = engine.list_runs(ctx.id)
    assert [r.id for r in heard] == [run.id] and run.status == "failed"
    assert run.usage.calls == 1 and run.usage.completion_tokens == 7 and run.usage.prompt_tokens > 0


def test_a_cancelled_run_records_what_it_spent(sqlite_url: str) -> None:
    cancel = threading.Event()

    def second_round(messages: Sequence[Message]) -> str:
        cancel.set()
        return "notes of round two"

    model = ScriptedModel(["notes of round one", second_round, "never"])
    engine = Engine(model=model, store=sqlite_url, sleep_budget=Budget(rounds=3))
    ctx = engine.add_context(TEXT)
    with pytest.raises(SleepCancelled):
        engine.sleep(ctx.id, cancel=cancel, strategy="rethink")
    [run] = engine.list_runs(ctx.id)
    assert run.status == "cancelled" and run.usage.calls == 2 and run.usage.completion_tokens == 8


def test_a_running_run_shows_its_usage_after_every_call(sqlite_url: str) -> None:
    seen: list[int] = []
    engine: Engine

    def look(messages: Sequence[Message]) -> str:
        [run] = engine.list_runs(ctx.id)
        seen.append(run.usage.calls)
        return "notes, rewritten once more"

    model = ScriptedModel(["notes of round one", look, look])
    engine = Engine(model=model, store=sqlite_url, sleep_budget=Budget(rounds=3))
    ctx = engine.add_context(TEXT)
    engine.sleep(ctx.id, strategy="rethink")
    assert seen == [1, 2]  # what a budget check in another process would have counted
    assert engine.list_runs(ctx.id)[0].usage.calls == 3


def test_no_run_is_handed_over_when_the_same_sleep_exists(engine: Engine, model: ScriptedModel) -> None:
    ctx = engine.add_context(TEXT)
    model.extend([NOTES])
    engine.sleep(ctx.id, strategy="rethink")
    heard: list[SleepRun] = []
    engine.sleep(ctx.id, strategy="rethink", on_run=heard.append)
    assert heard == [] and len(engine.list_runs(ctx.id)) == 1


# --- one retry layer per cause


def test_sleep_retries_unusable_output_but_not_transport_errors(sqlite_url: str) -> None:
    down = ScriptedModel([BackendUnavailableError("model server down"), "notes that would work"])
    engine = Engine(model=down, store=sqlite_url, sleep_budget=Budget(rounds=2))
    ctx = engine.add_context(TEXT)
    with pytest.raises(BackendUnavailableError):
        engine.sleep(ctx.id, strategy="rethink")
    assert len(down.calls) == 1  # the backend retries transport errors; sleep does not again
    empty = ScriptedModel(["", "notes: the total is 12", "FINISHED"])
    engine = Engine(model=empty, store=sqlite_url, sleep_budget=Budget(rounds=2))
    learned = engine.sleep(ctx.id, strategy="rethink")
    assert learned.notes == ("notes: the total is 12",) and len(empty.calls) == 3


def test_k_loops_run_in_parallel_on_a_model_that_serves_several(sqlite_url: str) -> None:
    active, most = [0], [0]
    lock = threading.Lock()
    both = threading.Barrier(2, timeout=5)

    def step(messages: Sequence[Message]) -> str:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        both.wait()  # two loops inside the model at once, or a BrokenBarrierError
        with lock:
            active[0] -= 1
        return "notes: total = 12 FINISHED"

    model = ScriptedModel([step, step], max_concurrency=4)
    engine = Engine(model=model, store=sqlite_url)
    ctx = engine.add_context(TEXT)
    learned = engine.sleep(ctx.id, {"k": 2, "rounds": 1}, strategy="rethink")
    assert most[0] == 2 and len(learned.notes) == 2


def _prompt(model: ScriptedModel) -> str:
    return "\n".join(m["content"] for m in model.calls[-1][0])
