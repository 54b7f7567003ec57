"""Experiment 5: is sleep-time compute worth more when the question is predictable?

Each example is scored with log P(q | c) under the benchmark's model
(``bench/predictability.py``) and answered with and without the learned context;
examples are split into 5 quantile bins of the score and the accuracy gain of
sleep-time is reported per bin. The paper: the gain grows with predictability.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import Field

from ...errors import ConfigurationError, InvalidInputError
from ...llm import load_model
from ...llm.base import LLM, ScoringLLM
from .. import plots
from ..asking import context_text
from ..cache import CachingModel, caching
from ..config import BenchOptions, ScoreKind
from ..datasets import Example
from ..metrics import condition_table
from ..predictability import bin_table, score_question, trend
from ..runner import BenchRun
from .common import Claim, Experiment, Outcome, build_outcome, interval_text, judged, paired, pp, sleep_spec

DEFAULT_VERBOSITIES = (0,)


class Options(BenchOptions):
    score: ScoreKind = Field("mean", description="mean (per question token) or sum of log P(q | c).")
    score_model: str | None = Field(
        None, description="Score log P(q | c) with this model (the paper: a base model); default: --model."
    )


def scoring_model(bench: BenchRun) -> LLM:
    """The model that scores questions: ``score_model`` if given (its calls logged with the
    run's), else the benchmark's; it must give token log-probabilities."""
    model = bench.engine.model
    score_model = bench.options_as(Options).score_model
    if score_model is not None:
        inner = load_model(score_model, bench.engine.settings)
        model = caching(inner, model.log) if isinstance(model, CachingModel) else inner
    if not isinstance(model, ScoringLLM):
        raise ConfigurationError(
            f"the predictability experiment needs token log-probabilities, which {model.name} does not give",
            hint="pass --score-model smollm2-135m (or any .gguf), or use a server that returns prompt "
            "logprobs (vLLM, llama-cpp-python)",
        )
    return model


def run(bench: BenchRun) -> Outcome:
    model = scoring_model(bench)
    try:
        return _run(bench, model)
    finally:
        if model is not bench.engine.model:
            inner = model.inner if isinstance(model, CachingModel) else model
            closer = getattr(inner, "close", None)
            if callable(closer):
                closer()


def _run(bench: BenchRun, model: LLM) -> Outcome:
    options = bench.options_as(Options)
    v = (options.verbosities or DEFAULT_VERBOSITIES)[0]

    def annotate(example: Example) -> dict[str, Any]:
        try:
            score = score_question(model, context_text(example), example.question)
        except InvalidInputError:  # too long to score in the window
            return {"predictability": None}
        value = score.value(options.score)
        return {
            "predictability": None if math.isnan(value) else value,
            "logprob": score.logprob,
            "question_tokens": score.tokens,
        }

    conds = paired((v,), sleep_spec(options))
    rows = bench.run(conds, annotate=annotate)
    bins = bin_table(rows, conds[0].name, conds[1].name)
    shape = trend(bins)
    if len(bins) >= 2 and len({b["gain"] for b in bins}) == 1:
        measured = f"the gain is {pp(bins[0]['gain'])} in every bin: no trend to see at this size"
        holds: bool | None = None
    elif len(bins) >= 2:
        measured = (
            f"gain {pp(bins[0]['gain'])} in the least predictable bin, {pp(bins[-1]['gain'])} in the most "
            f"predictable; Spearman over bins {shape['spearman']:+.2f}"
        )
        measured += (
            f"; 95% intervals of the gain{interval_text(bins[0], 'gain', pp)} and"
            f"{interval_text(bins[-1], 'gain', pp)}"
        )
        grows = shape["top_minus_bottom"] > 0 and not shape["spearman"] < 0
        measured, holds = judged(measured, grows, (bins[0], bins[-1]), metric="gain")
    else:
        measured, holds = "too few scored examples for bins", None
    claims = [Claim("The gain of sleep-time grows with predictability", "grows", measured, holds)]
    scorer = (
        f"{model.name}, a separate scorer (the paper scored with a base model)"
        if options.score_model
        else f"{bench.model_name} itself (the paper used a base model; see --score-model)"
    )
    note = (
        f"Score: {'mean log P per question token' if options.score == 'mean' else 'log P(q | c), summed'} "
        f"under {scorer}; 5 quantile bins per seed."
    )
    tables = {"bins": bins, "conditions": condition_table(rows)}
    return build_outcome("predictability", options, bench, rows, tables, claims, [note])


def plot(outcome: Outcome, path: Path) -> Path:
    fig, ax = plots.figure()
    bins = outcome.tables["bins"]
    if bins:
        xs = [b["bin"] for b in bins]
        ax.bar(
            xs,
            [b["gain"] for b in bins],
            yerr=[b["gain_std"] for b in bins],
            color="tab:blue",
            alpha=0.7,
            capsize=3,
            label="accuracy gain (sleep - test-time)",
        )
        ax.plot(xs, [b["sleep_accuracy"] for b in bins], "o-", color="tab:green", label="sleep-time accuracy")
        ax.plot(
            xs, [b["baseline_accuracy"] for b in bins], "s:", color="tab:orange", label="test-time accuracy"
        )
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(xs)
    what = "gain by predictability bin (1 = least)"
    xlabel = "quantile bin of log P(q | c)"
    return plots.finish(fig, ax, path, plots.title(outcome, what), xlabel, "accuracy / gain (%)")


EXPERIMENT = Experiment(
    "predictability",
    "Sleep-time's accuracy gain per quantile bin of log P(q | c) under the model.",
    Options,
    run,
    plot,
)

__all__ = ["DEFAULT_VERBOSITIES", "EXPERIMENT", "Options", "plot", "run", "scoring_model"]
