"""What a benchmark run is: its options (``BenchConfig``) and the conditions it compares.

A ``Condition`` is one way of answering: from a learned context made with a
``SleepSpec`` (``kind="sleep"``), from the raw context only (``"test-time"``, the
paper's baseline), or from the context without the question (``"context-only"``,
the ablation); each with a test-time budget (verbosity, samples, tokens, effort).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..budget import Budget
from ..llm.base import ReasoningEffort

Kind = Literal["sleep", "test-time", "context-only"]
ScoreKind = Literal["mean", "sum"]


class BenchConfig(BaseModel):
    """Options shared by every experiment, and each experiment's own (ignored by the others)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    experiment: str = Field(
        description="pareto, passk, scaling, amortization, predictability, ablation, swe."
    )
    dataset: str = Field(description="A dataset name of sleeptime.bench.datasets.")
    limit: int | None = Field(None, ge=1, description="Examples (contexts) per seed; None: all.")
    seeds: int = Field(
        1, ge=1, le=20, description="Runs 0..seeds-1: subset and sampling seed differ per run."
    )
    t: float = Field(10.0, ge=0, description="Cost of a test-time token in sleep-time tokens.")
    concurrency: int = Field(4, ge=1, le=64, description="Examples in flight against a remote endpoint.")
    splitter: Literal["sentence", "naive"] = Field("sentence", description="How problems are split.")
    data_dir: Path | None = Field(None, description="Benchmark data dir (default: the datasets' default).")
    dataset_path: Path | None = Field(None, description="A task file for datasets that take one (swe).")
    max_tokens: int | None = Field(None, ge=1, description="Most completion tokens per test-time answer.")
    sleep_max_tokens: int | None = Field(None, ge=1, description="Most completion tokens per sleep call.")
    sleep_rounds: int | None = Field(None, ge=1, le=20, description="Rethink rounds per learned context.")
    verbosities: tuple[int, ...] | None = Field(None, description="Test-time verbosity levels (0-4).")
    efforts: tuple[ReasoningEffort, ...] = Field((), description="Reasoning efforts (reasoning models).")
    n_samples: int = Field(5, ge=1, le=64, description="passk: samples per question.")
    sample_temperature: float = Field(0.7, gt=0, le=2, description="passk: sampling temperature.")
    ks: tuple[int, ...] = Field((1, 2, 5, 10), description="scaling: parallel learned contexts.")
    rounds: tuple[int, ...] = Field((1, 2, 3, 5), description="scaling: rethink rounds (k = 1).")
    ns: tuple[int, ...] = Field((1, 2, 5, 10), description="amortization: queries per context.")
    min_questions: int = Field(1, ge=1, description="amortization: keep contexts with this many questions.")
    generate_questions: int = Field(
        0, ge=0, le=50, description="amortization: extra questions the model writes per context (verified)."
    )
    score: ScoreKind = Field("mean", description="predictability: per-token mean or sum of log P(q|c).")
    score_model: str | None = Field(
        None, description="predictability: the model that scores log P(q|c) (default: the benchmark's)."
    )
    steps: tuple[int, ...] = Field((1, 2, 4), description="swe: step budgets.")


def _label(items: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in items.items() if v is not None) or "default"


@dataclass(frozen=True)
class SleepSpec:
    """A sleep-time budget; unset fields take the engine's defaults (``resolve_sleep_budget``)."""

    k: int | None = None
    rounds: int | None = None
    max_tokens: int | None = None
    effort: ReasoningEffort | None = None

    def budget(self, seed: int) -> Budget:
        # Seeds matter only when sampling: k > 1 contexts are sampled at a temperature.
        # Seed s uses s*100, s*100+1, ... for its k contexts, so seeds never share a sample.
        sampled = (self.k or 1) > 1
        return Budget(
            k=self.k,
            rounds=self.rounds,
            max_tokens=self.max_tokens,
            reasoning_effort=self.effort,
            seed=seed * 100 if sampled else None,
        )

    @property
    def label(self) -> str:
        return _label(
            {"k": self.k, "rounds": self.rounds, "max_tokens": self.max_tokens, "effort": self.effort}
        )


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


__all__ = ["BenchConfig", "Condition", "Kind", "ScoreKind", "SleepSpec"]
