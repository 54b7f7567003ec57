"""How much compute a sleep or an answer may spend.

One ``Budget`` type serves both phases; each phase reads the fields that concern
it. "Not set" and "no limit" are kept apart:

- In a ``Budget``, a field left at ``None`` is *not set*: it takes the configured
  default (``settings.sleep_budget`` / ``settings.ask_budget``), then the built-in
  one below. A budget has no "no limit": every model call is bounded by ``max_tokens``.
- ``resolve_sleep`` and ``resolve_ask`` are the one place where defaults are applied.
  They return a ``SleepBudget`` / ``AskBudget``, in which every field that phase reads
  is set, so nothing past resolution needs (or has) a fallback of its own. There,
  ``seed=None`` means unseeded and ``reasoning_effort=None`` means not sent.
- Limits that can be switched off (the server's sleep-token windows,
  ``settings.*_tokens_per_*``, ``scheduler.policy.TokenLimits``) are settings, not
  budget fields; for them ``None`` means *no limit*.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InvalidInputError
from .llm.base import ReasoningEffort


class Budget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "0" and true are not 0

    # --- test time: T_b(q, c') -> a
    verbosity: int | None = Field(
        None,
        ge=0,
        le=4,
        description="Test-time verbosity: 0 = one sentence from the notes, 4 = step by step.",
    )
    n: int | None = Field(None, ge=1, le=64, description="Independent answers sampled (pass@k baseline).")
    # --- sleep time: S(c) -> c'
    rounds: int | None = Field(
        None,
        ge=1,
        le=20,
        description="Most rounds: rethink rewrites; solve re-solves the questions whose solutions disagree.",
    )
    k: int | None = Field(
        None, ge=1, le=16, description="Parallel learned contexts, concatenated at test time."
    )
    questions: int | None = Field(
        None, ge=1, le=32, description="solve strategy: questions anticipated and solved ahead of time."
    )
    votes: int | None = Field(
        None, ge=1, le=16, description="solve strategy: independent solutions per question, majority kept."
    )
    # --- both
    max_tokens: int | None = Field(
        None, ge=1, le=131072, description="Most completion tokens per model call (per answer, per round)."
    )
    reasoning_effort: ReasoningEffort | None = Field(
        None, description="Reasoning effort passed to models that support it."
    )
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int | None = Field(None, description="Sampling seed (k parallel contexts use seed, seed+1, ...).")

    def over(self, defaults: Budget) -> Budget:
        """This budget with every unset field taken from ``defaults``."""
        merged = defaults.model_dump()
        merged.update(self.model_dump(exclude_none=True))
        return Budget(**merged)

    @classmethod
    def parse(cls, value: Budget | dict[str, Any] | None) -> Budget:
        """A Budget from a Budget, a dict or None, with input errors as InvalidInputError."""
        if value is None:
            return cls()
        if isinstance(value, Budget):
            return value
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise InvalidInputError(f"invalid budget: {problems}") from None


# One vote per question: on 60 public GSM8K problems 3 votes cost twice the sleep tokens (647 against 343
# per context) for the same accuracy (27 against 28 of 60 at verbosity 0), and 7 votes changed no answer
# (docs/results.md). More votes still buy an agreement (the `(uncertain)` marks and escalation's
# low-confidence check), so the knob stays.
DEFAULT_SLEEP_BUDGET = Budget(rounds=1, k=1, questions=3, votes=1, max_tokens=768, temperature=0.0, seed=0)
# The strategy Engine.sleep uses unless told (settings.sleep_strategy): it measured better than
# the paper's rethink on public GSM8K problems (docs/results.md).
DEFAULT_STRATEGY = "solve"
# The paper's rethink loop keeps its own default of 3 rounds (for parity with earlier results);
# solve's extra rounds only re-solve questions whose solutions disagree, so it starts at 1.
STRATEGY_SLEEP_DEFAULTS: dict[str, Budget] = {
    "rethink": Budget(rounds=3),
    "rethink-structured": Budget(rounds=3),
}
DEFAULT_ASK_BUDGET = Budget(verbosity=0, n=1, temperature=0.0, seed=0)
# Most completion tokens per answer, by verbosity, when none is set: a terse answer needs few, and
# a small model that falls into a loop ("= 100 = 100 = ...") should not spend 512 on it. Verbosity 0
# answers a question that adds facts with a program (``answer.AnswerInput.program``, ~100-200 tokens);
# its terse line over the notes stops long before the cap.
VERBOSITY_MAX_TOKENS = (256, 160, 256, 512, 512)
# k > 1 parallel learned contexts at temperature 0 would be k copies of one.
PARALLEL_SLEEP_TEMPERATURE = 0.7
# Likewise n > 1 sampled answers (pass@k) at temperature 0 would be n copies of one.
SAMPLED_ANSWER_TEMPERATURE = 0.7


class SleepBudget(Budget):
    """A resolved sleep budget (``resolve_sleep``): what ``S(c) -> c'`` runs with."""

    rounds: int
    k: int
    questions: int
    votes: int
    max_tokens: int
    temperature: float


class AskBudget(Budget):
    """A resolved test-time budget (``resolve_ask``): what ``T_b(q, c') -> a`` runs with."""

    verbosity: int
    n: int
    max_tokens: int
    temperature: float


def resolve_sleep(
    given: Budget | dict[str, Any] | None, configured: Budget | None = None, *, strategy: str = "solve"
) -> SleepBudget:
    """``given``, then ``configured`` (the settings), then the strategy's defaults
    (``STRATEGY_SLEEP_DEFAULTS``), then ``DEFAULT_SLEEP_BUDGET``, field by field.

    k > 1 loops left at temperature 0 by the caller sample at ``PARALLEL_SLEEP_TEMPERATURE``.
    """
    asked = Budget.parse(given)
    built_in = STRATEGY_SLEEP_DEFAULTS.get(strategy, Budget()).over(DEFAULT_SLEEP_BUDGET)
    values = asked.over((configured or Budget()).over(built_in)).model_dump(exclude_none=True)
    if values["k"] > 1 and asked.temperature is None and values["temperature"] == 0.0:
        values["temperature"] = PARALLEL_SLEEP_TEMPERATURE
    return SleepBudget(**values)


def resolve_ask(given: Budget | dict[str, Any] | None, configured: Budget | None = None) -> AskBudget:
    """``given``, then ``configured`` (the settings), then ``DEFAULT_ASK_BUDGET``, field by field;
    an unset ``max_tokens`` is the verbosity's (``VERBOSITY_MAX_TOKENS``).

    n > 1 samples left at temperature 0 by the caller sample at ``SAMPLED_ANSWER_TEMPERATURE``.
    """
    asked = Budget.parse(given)
    values = asked.over((configured or Budget()).over(DEFAULT_ASK_BUDGET)).model_dump(exclude_none=True)
    values.setdefault("max_tokens", VERBOSITY_MAX_TOKENS[values["verbosity"]])
    if values["n"] > 1 and asked.temperature is None and values["temperature"] == 0.0:
        values["temperature"] = SAMPLED_ANSWER_TEMPERATURE
    return AskBudget(**values)
