"""Knowing when a cheap answer is not enough: the check, and Engine.ask(escalate=...) with a
scripted model (exact call counts) and with the real small model."""

from __future__ import annotations

from fractions import Fraction

import pytest

from sleeptime import Budget, Engine
from sleeptime.escalation import adds_facts, numbers_in, stated_answer, supported_by_notes
from sleeptime.llm.fake import ScriptedModel

NOTES = "Boxes kept: 3 - 1 = 2. Balls per box: 4 + 2 = 6. Balls kept: 2 x 6 = 12. Cost: $1,250.50."


def test_numbers_are_read_exactly() -> None:
    assert numbers_in("12 balls, $1,250.50, 0.7 and 15%; -3") == {
        Fraction(12),
        Fraction(2501, 2),
        Fraction(7, 10),
        Fraction(15),
        Fraction(-3),
    }
    assert numbers_in("no numbers, 3rd place") == set()


def test_the_stated_answer_is_the_final_claim() -> None:
    assert stated_answer("2 boxes of 6.\nSince he has 2 boxes, the answer is 12.").strip() == "12."
    assert stated_answer(r"so we get \boxed{12} balls") == "12"
    assert stated_answer("first line\n\nTwelve balls") == "Twelve balls"


@pytest.mark.parametrize(
    ("answer", "supported"),
    [
        ("The answer is 12.", True),
        ("He keeps 2 boxes, so the answer is 12", True),  # only the stated answer is checked
        ("The answer is 1250.5.", True),  # 1,250.50 in the notes
        ("The answer is 14.", False),
        (r"\boxed{13}", False),
        ("The answer is 12 or 13.", False),  # every stated number must be there
        ("The answer is balls kept.", True),  # a text answer found in the notes
        ("The answer is no.", False),  # too short to match text by accident
        ("", False),
    ],
)
def test_supported_by_notes(answer: str, supported: bool) -> None:
    assert supported_by_notes(answer, NOTES) is supported


def test_nothing_is_supported_by_empty_notes() -> None:
    assert not supported_by_notes("The answer is 12.", "  ")


def _engine(replies: list[str], sqlite_url: str) -> tuple[Engine, ScriptedModel]:
    model = ScriptedModel(replies)
    sleep = Budget(rounds=1, k=1, max_tokens=64, temperature=0.0, seed=0)
    # rethink: the first scripted reply is the whole notes (solve would read it as questions).
    return Engine(model=model, store=sqlite_url, sleep_budget=sleep, sleep_strategy="rethink"), model


def test_an_answer_the_notes_support_is_kept(sqlite_url: str) -> None:
    engine, model = _engine([NOTES, "The answer is 12."], sqlite_url)
    ctx = engine.add_context("Tom has 3 boxes of 4 red and 2 blue balls. He gives one box away.")
    engine.sleep(ctx.id)
    answer = engine.ask(ctx.id, "Balls kept?", Budget(verbosity=0), escalate=Budget(verbosity=4))
    assert answer.text == "The answer is 12." and not answer.escalated
    assert answer.usage.calls == 1 and len(model.calls) == 2
    assert answer.budget["verbosity"] == 0
    engine.close()


def test_an_answer_the_notes_do_not_support_is_asked_again_with_the_larger_budget(sqlite_url: str) -> None:
    engine, model = _engine(
        [NOTES, "The answer is 14.", "Step by step: 2 x 6 = 12. The answer is 12."], sqlite_url
    )
    ctx = engine.add_context("Tom has 3 boxes of 4 red and 2 blue balls. He gives one box away.")
    engine.sleep(ctx.id)
    answer = engine.ask(
        ctx.id,
        "Balls kept?",
        Budget(verbosity=0, max_tokens=16),
        escalate=Budget(verbosity=4, max_tokens=300),
    )
    assert answer.escalated and answer.text.endswith("The answer is 12.")
    assert answer.usage.calls == 2  # both calls are paid for
    assert answer.budget["verbosity"] == 4 and answer.budget["max_tokens"] == 300
    assert "'14.'" in answer.note
    cheap_params, larger_params = model.calls[1][1], model.calls[2][1]
    assert (cheap_params.max_tokens, larger_params.max_tokens) == (16, 300)
    [stored] = engine.store.list_queries(ctx.id)
    assert stored.answer == answer.text and stored.usage.calls == 2  # the record is what was served
    engine.close()


def test_without_a_learned_context_the_larger_budget_is_used_at_once(sqlite_url: str) -> None:
    engine, _ = _engine(["The answer is 12."], sqlite_url)
    ctx = engine.add_context("Tom has 3 boxes of 4 red and 2 blue balls. He gives one box away.")
    answer = engine.ask(ctx.id, "Balls kept?", Budget(verbosity=0), escalate=Budget(verbosity=3))
    assert answer.source == "raw" and answer.escalated
    assert answer.usage.calls == 1 and answer.budget["verbosity"] == 3
    engine.close()


def test_escalation_on_the_real_model_follows_the_check(engine: Engine) -> None:
    ctx = engine.add_context("Tom has 3 boxes. Each box holds 4 red balls and 2 blue balls.")
    learned = engine.sleep(ctx.id)
    cheap = Budget(verbosity=0, max_tokens=24)
    plain = engine.ask(ctx.id, "How many balls are there?", cheap, record=False)
    answer = engine.ask(
        ctx.id, "How many balls are there?", cheap, escalate=Budget(verbosity=2, max_tokens=64)
    )
    # Greedy decoding: the cheap call repeats, so the check decides exactly as on ``plain``.
    assert answer.escalated is not supported_by_notes(plain.text, learned.text)
    if answer.escalated:
        assert answer.usage.calls == 2 and answer.usage.completion_tokens > plain.usage.completion_tokens
        assert answer.budget["verbosity"] == 2 and "escalated" in answer.note
    else:
        assert answer.text == plain.text and answer.usage.calls == 1


@pytest.mark.parametrize(
    ("question", "adds"),
    [
        ("If each glass needs 5 eggs, how many trays can she put out?", True),
        ("How many trays can she put out?", False),
        ("How many trays does she need for 12 glasses?", False),  # 12 is in the context
        ("What if the price rises to $1,250?", True),
    ],
)
def test_a_question_adds_facts_when_it_brings_numbers_the_context_lacks(question: str, adds: bool) -> None:
    known = "Rozanne has 4 cases of 12 eggs and 2 loose eggs. The price is $1,200."
    assert adds_facts(question, known) is adds
