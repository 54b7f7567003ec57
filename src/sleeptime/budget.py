"""How much compute a sleep or an answer may spend.

One ``Budget`` type serves both phases; each phase reads the fields that concern
it. A field left at ``None`` means "use the engine's default", never "no limit".
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
    rounds: int | None = Field(None, ge=1, le=20, description="Most rethink rounds per learned context.")
    k: int | None = Field(
        None, ge=1, le=16, description="Parallel learned contexts, concatenated at test time."
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


DEFAULT_SLEEP_BUDGET = Budget(rounds=3, k=1, max_tokens=768, temperature=0.0, seed=0)
DEFAULT_ASK_BUDGET = Budget(verbosity=0, n=1, max_tokens=512, temperature=0.0, seed=0)
# k > 1 parallel learned contexts at temperature 0 would be k copies of one.
PARALLEL_SLEEP_TEMPERATURE = 0.7
