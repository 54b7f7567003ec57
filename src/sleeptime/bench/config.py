"""What a benchmark run is: its options and the conditions it compares.

``BenchOptions`` holds the options every experiment shares; each experiment's
module subclasses it with its own (``pareto.Options``, ``scaling.Options``, ...).
The fields' types, defaults and descriptions are the one definition the CLI's
``sleeptime bench`` options, their ``--help`` and the report's summary.json are
built from.

A ``Condition`` is one way of answering: from a learned context made with a
``SleepSpec`` (``kind="sleep"``), from the raw context only (``"test-time"``, the
paper's baseline), or from the context without the question (``"context-only"``,
the ablation); each with a test-time budget (verbosity, samples, tokens, effort).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..budget import Budget
from ..costs import DEFAULT_T
from ..llm.base import ReasoningEffort

Kind = Literal["sleep", "test-time", "context-only"]
ScoreKind = Literal["mean", "sum"]
Verbosity = Annotated[int, Field(ge=0, le=4)]
GSM_P2 = "stateful-gsm-symbolic-p2"


def sleep_knobs(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` if it is a valid sleep budget (any field of ``Budget``, plus ``strategy``: the
    ``Engine.sleep`` strategy), else a ValueError naming the bad field, so a knob added to
    ``Budget`` or a new strategy is accepted here without new code."""
    knobs = {k: v for k, v in value.items() if v is not None}
    strategy = knobs.get("strategy")
    if strategy is not None:
        known = getattr(importlib.import_module("sleeptime.sleep"), "STRATEGIES", ())
        if not isinstance(strategy, str) or (known and strategy not in known):
            raise ValueError(f"unknown sleep strategy {strategy!r}; known: {', '.join(known)}")
    try:
        Budget.model_validate({k: v for k, v in knobs.items() if k != "strategy"})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"not a sleep budget ({problems})") from None
    return knobs


class BenchOptions(BaseModel):
    """Options shared by every experiment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str = Field(GSM_P2, description="Dataset (see `sleeptime data`) or hub:OWNER/NAME.")
    limit: int = Field(50, ge=0, description="Examples (contexts) per seed; 0 for all.")
    seeds: int | None = Field(
        None,
        ge=1,
        le=20,
        description="Runs; default 1 on the embedded model, 3 (the paper's) on a remote one.",
    )
    t: float = Field(DEFAULT_T, ge=0, description="Cost of a test-time token in sleep-time tokens.")
    concurrency: int = Field(4, ge=1, le=64, description="Examples in flight on a remote endpoint.")
    splitter: Literal["sentence", "naive"] = Field(
        "sentence", description="Problem splitter: sentence (keeps numbers) or naive."
    )
    data_dir: Path | None = Field(
        None, description="Benchmark data dir (default: $SLEEPTIME_DATA_DIR, else ../shared/data)."
    )
    max_tokens: int | None = Field(
        None,
        ge=1,
        description="Most completion tokens per answer (default: by verbosity, 256 at 0 to 512 at 4).",
    )
    sleep_max_tokens: int | None = Field(None, ge=1, description="Most completion tokens per sleep call.")
    sleep_rounds: int | None = Field(None, ge=1, le=20, description="Rethink rounds per sleep.")
    sleep: dict[str, Any] = Field(
        default_factory=dict,
        description='Sleep budget for every sleep, as JSON with any Budget field, e.g. {"rounds": 2}.',
    )
    verbosities: tuple[Verbosity, ...] | None = Field(
        None, description="Test-time verbosities, e.g. 0,2,4 (default: the experiment's)."
    )

    @field_validator("sleep")
    @classmethod
    def _sleep_budget(cls, value: dict[str, Any]) -> dict[str, Any]:
        return sleep_knobs(value)

    def dataset_options(self) -> dict[str, Any]:
        """The dataset loader's own options (``load_dataset(**...)``)."""
        return {} if self.splitter == "sentence" else {"splitter": self.splitter}


def _label(items: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in items.items() if v is not None) or "default"


# Labels name the knobs in this order first (kept from before knobs were generic), then the rest.
_LABEL_ORDER = ("k", "rounds", "max_tokens", "reasoning_effort")
_LABEL_NAMES = {"reasoning_effort": "effort"}


class SleepSpec:
    """A sleep-time budget: any ``Budget`` fields; unset ones take the engine's defaults
    (``resolve_sleep_budget``). ``SleepSpec(k=2, rounds=1)``; immutable and hashable."""

    __slots__ = ("knobs",)
    knobs: tuple[tuple[str, Any], ...]

    def __init__(self, **knobs: Any) -> None:
        given = sleep_knobs({("reasoning_effort" if k == "effort" else k): v for k, v in knobs.items()})
        order = [*_LABEL_ORDER, *(f for f in Budget.model_fields if f not in _LABEL_ORDER), "strategy"]
        object.__setattr__(self, "knobs", tuple((k, given[k]) for k in order if k in given))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SleepSpec is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SleepSpec) and other.knobs == self.knobs

    def __hash__(self) -> int:
        return hash(self.knobs)

    def __repr__(self) -> str:
        return f"SleepSpec({', '.join(f'{k}={v!r}' for k, v in self.knobs)})"

    def get(self, name: str) -> Any:
        return dict(self.knobs).get(name)

    @property
    def k(self) -> int | None:
        k: int | None = self.get("k")
        return k

    @property
    def sampled(self) -> bool:
        """k > 1 contexts are sampled (at a temperature), so they differ per seed."""
        return (self.k or 1) > 1

    @property
    def strategy(self) -> str | None:
        """The ``Engine.sleep`` strategy; None: the engine's default."""
        strategy: str | None = self.get("strategy")
        return strategy

    def budget(self, seed: int) -> Budget:
        # Seeds matter only when sampling: k > 1 contexts are sampled at a temperature.
        # Seed s uses s*100, s*100+1, ... for its k contexts, so seeds never share a sample.
        knobs = {k: v for k, v in self.knobs if k != "strategy"}
        if self.sampled:
            knobs.setdefault("seed", seed * 100)
        return Budget(**knobs)

    @property
    def label(self) -> str:
        return _label({_LABEL_NAMES.get(k, k): v for k, v in self.knobs})


@dataclass(frozen=True)
class Condition:
    """One way of answering, named for tables and plots (``name`` is unique in a run)."""

    name: str
    kind: Kind
    verbosity: int = 0
    sleep: SleepSpec | None = None
    n: int = 1
    temperature: float = 0.0
    max_tokens: int | None = None
    effort: ReasoningEffort | None = None
    steps: int | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def budget(self, seed: int, default_max_tokens: int) -> Budget:
        """The test-time budget, fully given, so that engine defaults cannot change a cached result."""
        return Budget(
            verbosity=self.verbosity,
            n=self.n,
            max_tokens=self.max_tokens or default_max_tokens,
            temperature=self.temperature,
            seed=seed * 1000 if self.temperature > 0 else 0,
            reasoning_effort=self.effort,
        )

    def identity(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "verbosity": self.verbosity,
            "sleep": self.sleep.label if self.sleep else None,
            "n": self.n,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "effort": self.effort,
            "steps": self.steps,
        }


__all__ = [
    "GSM_P2",
    "BenchOptions",
    "Condition",
    "Kind",
    "ScoreKind",
    "SleepSpec",
    "Verbosity",
    "sleep_knobs",
]
