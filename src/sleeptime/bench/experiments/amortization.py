"""Experiment 4: amortizing sleep-time compute over several queries on one context.

On a multi-query dataset, each context is slept on once and all its questions
are answered, with and without the learned context, at each verbosity. For N
queries per context (1, 2, 5, 10; contexts with at least N questions, their
first N) the cost per query is ``t x test tokens + sleep tokens / N``
(``costs.py``). The paper: at N = 10 the cost per query at equal accuracy falls
up to 2.5x against test-time only.

The paper's questions came from a strong model and were not released; with
``generate_questions`` the benchmark model itself writes extra questions for
each chosen context (``datasets.multi_query.generate_questions``: kept only when
the model, solving them again, reaches the same number), cached per model, so
N = 10 can be measured where the derived questions run out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from ...llm.base import Message, SamplingParams
from ..asking import MODEL_FAILURES
from ..costs import amortized_table
from ..datasets import Example
from ..datasets.multi_query import cached_generated_questions
from ..datasets.paths import default_cache_dir
from ..metrics import Row, condition_table, ratio_at_equal_accuracy
from ..runner import BenchRun
from .common import Claim, Outcome, generic_notes, paired, pct, sleep_spec

DEFAULT_VERBOSITIES = (0, 1, 2, 3, 4)
# One call writes all the questions with worked answers; verifying one solves it again.
GENERATION_MAX_TOKENS = 1536


def with_generated_questions(bench: BenchRun, n: int) -> Callable[[Example], Example]:
    """Adds up to ``n`` verified questions written by the benchmark's model to an example."""
    model = bench.engine.model
    params = SamplingParams(max_tokens=GENERATION_MAX_TOKENS)

    def complete(messages: Sequence[Message]) -> str:
        return model.complete(messages, params).text

    def prepare(example: Example) -> Example:
        try:
            generated = cached_generated_questions(
                default_cache_dir(),
                model=bench.model_name,
                seed=0,
                context=example.context,
                n=n,
                llm_complete=complete,
                example_question=example.question,
            )
        except MODEL_FAILURES as exc:
            bench.console.print(f"[yellow]no generated questions for {example.id}: {exc}[/yellow]")
            return example
        known = {qa.question for qa in example.questions}
        extra = tuple(qa for qa in generated or () if qa.question not in known)
        return dataclasses.replace(example, extra_questions=example.extra_questions + extra)

    return prepare


def cost_claim(table: list[Row]) -> Claim:
    """At the largest N with data: the baseline's cost per query over sleep-time's, at equal accuracy."""
    with_data = [r for r in table if r.get("condition")]
    if not with_data:
        return Claim(
            "Lower cost per query at N = 10", "up to 2.5x lower", "no context had enough questions", None
        )
    n = max(r["n_queries"] for r in with_data)
    at_n = [r for r in with_data if r["n_queries"] == n]
    sleep = [(float(r["cost_per_query"]), float(r["accuracy"])) for r in at_n if r["kind"] == "sleep"]
    base = [(float(r["cost_per_query"]), float(r["accuracy"])) for r in at_n if r["kind"] == "test-time"]
    ratio = ratio_at_equal_accuracy(sleep, base)
    contexts = max(r["contexts"] for r in at_n)
    if ratio is not None:
        measured = (
            f"{ratio['ratio']:.1f}x at N = {n} ({contexts} contexts): sleep-time {pct(ratio['accuracy'])} "
            f"at cost {ratio['x']:.0f}, test-time-only needs {ratio['baseline_x']:.0f}"
        )
        holds: bool | None = ratio["ratio"] > 1
    else:
        best_sleep = max((a for _, a in sleep), default=0.0)
        best_base = max((a for _, a in base), default=0.0)
        holds = best_sleep > best_base if best_sleep > 0 else None
        measured = (
            f"no equal-accuracy pair at N = {n}: best accuracy sleep-time {pct(best_sleep)}, "
            f"test-time-only {pct(best_base)}"
        )
    return Claim(f"Lower cost per query at N = 10 (measured at N = {n})", "up to 2.5x lower", measured, holds)


def run(bench: BenchRun) -> Outcome:
    config = bench.config
    ns = tuple(sorted(set(config.ns)))
    conds = paired(config.verbosities or DEFAULT_VERBOSITIES, sleep_spec(config))
    n_generated = config.generate_questions
    prepare = with_generated_questions(bench, n_generated) if n_generated else None
    rows = bench.run(conds, max_questions=max(ns), min_questions=config.min_questions, prepare=prepare)
    table = amortized_table(rows, ns, config.t)
    notes = generic_notes(rows, config)
    missing = [str(r["n_queries"]) for r in table if not r.get("condition")]
    if missing:
        notes.append(
            f"No context had at least N questions for N = {', '.join(missing)}: those costs are not "
            "measured (the derived multi-query set has at most about 9 per context; add "
            "--generate-questions 10 for more)."
        )
    notes.append(
        f"Cost per query = {config.t:g} x test-time tokens + sleep-time tokens / N (generated only)."
    )
    return Outcome(
        "amortization",
        config,
        bench.model_name,
        rows,
        {"amortization": table, "conditions": condition_table(rows)},
        [cost_claim(table)],
        notes,
    )


__all__ = ["DEFAULT_VERBOSITIES", "cost_claim", "run", "with_generated_questions"]
