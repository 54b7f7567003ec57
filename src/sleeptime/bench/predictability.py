"""How predictable a question is from its context: log P(q | c) under the model itself.

The paper scores each question with a base language model and splits the
examples into 5 quantile bins; the accuracy gain of sleep-time compute grows
with predictability. Here the score comes from the benchmark's own model
(``ScoringLLM.logprob``: llama.cpp computes it in-process; OpenAI-compatible
servers that return prompt logprobs do too). The context is the prefix and the
question its continuation, as in the unsplit problem (``c + " " + q``).

The default score is the mean log-probability per question token, so that long
questions are not "unpredictable" merely for being long; the sum is kept too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConfigurationError
from ..llm.base import LLM, ScoringLLM
from .metrics import Row, by, interval95, mean, mean_std, spearman

N_BINS = 5
ScoreKind = Literal["mean", "sum"]


@dataclass(frozen=True)
class Predictability:
    logprob: float  # sum over the question's tokens
    tokens: int

    @property
    def per_token(self) -> float:
        return self.logprob / max(1, self.tokens)

    def value(self, kind: ScoreKind) -> float:
        return self.per_token if kind == "mean" else self.logprob


def score_question(model: LLM, context: str, question: str) -> Predictability:
    """log P(q | c) of ``question`` after ``context`` under ``model`` (which must be a ScoringLLM)."""
    if not isinstance(model, ScoringLLM):
        raise ConfigurationError(
            f"model {model.name} cannot score text (no logprob)",
            hint="use the embedded llama.cpp model or a server that returns prompt logprobs",
        )
    continuation = f" {question.strip()}"
    total = model.logprob([{"role": "user", "content": context.strip()}], continuation)
    return Predictability(total, model.count_tokens(continuation))


def quantile_bins(scores: Sequence[float], n_bins: int = N_BINS) -> list[int]:
    """A bin index per score, 0 = least predictable: ranks split into ``n_bins`` near-equal groups
    (ties broken by position, so every bin is filled; fewer items than bins: one bin each)."""
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    n = len(scores)
    bins = min(n_bins, n)
    order = sorted(range(n), key=lambda i: (scores[i], i))
    out = [0] * n
    for rank, i in enumerate(order):
        out[i] = rank * bins // n
    return out


def bin_table(
    rows: Sequence[Row], sleep_condition: str, baseline_condition: str, n_bins: int = N_BINS
) -> list[dict[str, Any]]:
    """Per predictability bin: sleep-time and baseline accuracy and the gain (sleep - baseline).

    Rows carry ``predictability``; each seed's examples are binned separately, then
    every bin's numbers are averaged across seeds (with their spread).
    """
    per_bin: dict[int, list[dict[str, float]]] = {}
    pooled: dict[int, list[float]] = {}  # each question's gain, over seeds: the 95% interval
    for (_seed,), group in by(rows, "seed").items():
        sleep = {r["example_id"]: r for r in group if r["condition"] == sleep_condition}
        base = {r["example_id"]: r for r in group if r["condition"] == baseline_condition}
        ids = [i for i in sleep if i in base and sleep[i].get("predictability") is not None]
        scores = [float(sleep[i]["predictability"]) for i in ids]
        for b, members in _members(ids, quantile_bins(scores, n_bins)).items():
            s = mean(float(sleep[i]["score"]) for i in members)
            t = mean(float(base[i]["score"]) for i in members)
            values = [float(sleep[i]["predictability"]) for i in members]
            pooled.setdefault(b, []).extend(
                float(sleep[i]["score"]) - float(base[i]["score"]) for i in members
            )
            per_bin.setdefault(b, []).append(
                {
                    "sleep": s,
                    "base": t,
                    "gain": s - t,
                    "lo": min(values),
                    "hi": max(values),
                    "n": len(members),
                }
            )
    table = []
    for b in sorted(per_bin):
        seeds = per_bin[b]
        gain, gain_sd = mean_std(x["gain"] for x in seeds)
        low, high = interval95(pooled[b], binary=False, bounds=(-1.0, 1.0))
        table.append(
            {
                "bin": b + 1,
                "examples": int(sum(x["n"] for x in seeds)),
                "score_min": min(x["lo"] for x in seeds),
                "score_max": max(x["hi"] for x in seeds),
                "sleep_accuracy": mean(x["sleep"] for x in seeds),
                "baseline_accuracy": mean(x["base"] for x in seeds),
                "gain": gain,
                "gain_std": gain_sd,
                "gain_ci_low": low,
                "gain_ci_high": high,
            }
        )
    return table


def _members(ids: list[str], bins: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for i, b in zip(ids, bins, strict=True):
        out.setdefault(b, []).append(i)
    return out


def trend(table: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Does the gain grow with predictability? Spearman over bins and top minus bottom bin."""
    if not table:
        return {"spearman": float("nan"), "top_minus_bottom": float("nan")}
    gains = [float(b["gain"]) for b in table]
    return {
        "spearman": spearman([float(b["bin"]) for b in table], gains),
        "top_minus_bottom": gains[-1] - gains[0],
    }


__all__ = ["N_BINS", "Predictability", "bin_table", "quantile_bins", "score_question", "trend"]
