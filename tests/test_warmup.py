"""Engine.sleep runs as background work and warms the answer prompts; a failing warm-up never fails it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from sleeptime import Budget, Engine, prompts
from sleeptime.errors import BackendError
from sleeptime.llm.base import Completion, Message, PrefixCachingLLM, PrefixReport, SamplingParams
from sleeptime.llm.fake import ScriptedModel
from sleeptime.llm.priority import in_background

BUDGET = Budget(rounds=1, k=1, max_tokens=32, temperature=0.0, seed=0)


@dataclass
class WarmingModel(ScriptedModel):
    """A scripted model that records what a sleep asks of it."""

    background_calls: list[bool] = field(default_factory=list)
    prepared: list[tuple[list[list[Message]], str]] = field(default_factory=list)
    retained: list[tuple[str, list[str]]] = field(default_factory=list)
    fail_prepare: bool = False

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        self.background_calls.append(in_background())
        return super().complete(messages, params)

    def prepare_prefix(self, variants: Sequence[Sequence[Message]], *, owner: str) -> PrefixReport:
        assert in_background()
        if self.fail_prepare:
            raise BackendError("the server went away")
        self.prepared.append(([list(v) for v in variants], owner))
        return PrefixReport(100, 100, 0.0, key=f"key{len(self.prepared)}")

    def retain_prefixes(self, owner: str, keep: Sequence[str]) -> int:
        self.retained.append((owner, list(keep)))
        return 0


def test_sleep_calls_are_background_work_and_both_answer_prefixes_are_warmed(sqlite_url: str) -> None:
    model = WarmingModel(default="Notes: 2 + 2 = 4.")
    assert isinstance(model, PrefixCachingLLM)
    with Engine(model=model, store=sqlite_url) as engine:
        ctx = engine.add_context("Two apples and two pears.")
        learned = engine.sleep(ctx.id, BUDGET, strategy="rethink")
        assert model.background_calls and all(model.background_calls)
        assert [owner for _, owner in model.prepared] == [ctx.id] * 4
        prepared = [variants for variants, _ in model.prepared]
        assert prepared == [
            prompts.answer_prefix_messages(ctx.text, "", verbosity=None),
            prompts.answer_prefix_messages(ctx.text, "", verbosity=0),
            prompts.answer_prefix_messages(ctx.text, learned.text, verbosity=None),
            prompts.answer_prefix_messages(ctx.text, learned.text, verbosity=0),
        ]
        assert model.retained == [(ctx.id, ["key1", "key2", "key3", "key4"])]
        engine.ask(ctx.id, "How many fruits?")
        assert model.background_calls[-1] is False  # a query is not background work
    assert not in_background()


def test_a_failing_warm_up_is_logged_and_the_learned_context_kept(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    model = WarmingModel(default="Notes: the text has 2 words.", fail_prepare=True)
    with Engine(model=model, store=sqlite_url) as engine:
        ctx = engine.add_context("Some text.")
        learned = engine.sleep(ctx.id, BUDGET, strategy="rethink")
        assert engine.learned_context(ctx.id) == learned
    assert "could not prepare the answer prompt" in caplog.text


def test_the_warm_up_can_be_switched_off(sqlite_url: str) -> None:
    model = WarmingModel(default="Notes: the text has 2 words.")
    with Engine(model=model, store=sqlite_url, prompt_warmup=False) as engine:
        engine.sleep(engine.add_context("Some text.").id, BUDGET, strategy="rethink")
    assert model.prepared == []


def test_named_values_also_warm_the_program_prompt_of_questions_that_add_facts(sqlite_url: str) -> None:
    def reply(messages: Sequence[Message]) -> str:
        if "JSON object" in messages[-1]["content"]:
            return '{"questions": ["How many fruits are there?"]}'
        return "```python\napples = 2\npears = 2\nanswer = apples + pears\n```"

    model = WarmingModel()
    model.extend([reply] * 3)
    with Engine(model=model, store=sqlite_url) as engine:
        ctx = engine.add_context("Two apples and two pears.")
        learned = engine.sleep(ctx.id)
        assert learned.entries is not None and learned.entries.values()
        prepared = [variants for variants, _ in model.prepared]
        assert len(prepared) == 5
        learned_prefix = prompts.answer_prefix_messages(ctx.text, learned.text, computable=True, verbosity=0)
        assert prepared[3] == learned_prefix
        assert prepared[4] == prompts.program_prefix_messages(ctx.text)
        assert model.retained == [(ctx.id, [f"key{i}" for i in range(1, 6)])]
