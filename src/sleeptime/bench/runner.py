"""The loop every experiment shares: examples in, graded result rows out.

For each seed: load the dataset's subset; for each example, store its context once,
sleep on it once per sleep budget (``Engine.sleep``), answer each question under
each condition (``Engine.ask``, naming the learned context with ``learned_id``; the
ablation calls the engine's model directly) and grade it. Every row is appended to ``results.jsonl`` the
moment it exists, and every model call goes through ``cache.CachingModel`` into
``calls.jsonl``, so a killed run continues where it stopped: finished rows are
read back, a sleep or answer that was under way replays its finished calls free.

Examples run one at a time on the embedded model (llama.cpp serializes calls and
reuses the KV cache of a shared prompt prefix), several at once (``concurrency``)
against a remote endpoint.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from .. import prompts
from ..budget import Budget
from ..engine import Engine
from ..learned import LearnedContext
from ..llm.base import Usage
from ..progress import Tracker
from .asking import (
    EMPTY_CONTEXT,
    MODEL_FAILURES,
    Asker,
    AskRequest,
    Attempt,
    Grader,
    ask,
    context_text,
    grade,
)
from .cache import CachingModel, JsonlLog, close_engine, open_engine
from .config import BenchOptions, Condition, SleepSpec
from .contexts import ExampleContexts
from .datasets import QA, Example, load_dataset, shuffled_indices, subset
from .metrics import Row
from .plan import DryRun, Plan

# Preparing (generating questions for) an example is costly: try at most this many per wanted one.
MAX_PREPARE_FACTOR = 4
OptionsT = TypeVar("OptionsT", bound=BenchOptions)


class BenchRun:
    """One experiment's run in ``out``: results.jsonl, bench.db and calls.jsonl live there."""

    def __init__(
        self,
        engine: Engine,
        options: BenchOptions,
        out: Path,
        *,
        parallel: int = 1,
        console: Console | None = None,
        show_progress: bool = True,
        dry_run: bool = False,
    ) -> None:
        self.engine = engine
        if options.seeds is None:
            options = options.model_copy(update={"seeds": 1})
        self.options = options
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.results = JsonlLog(self.out / "results.jsonl")
        self.parallel = max(1, parallel)
        self.console = console or Console(stderr=True)
        self.show_progress = show_progress
        self.dry_run = dry_run
        self.model_name = engine.model.name
        self.contexts = ExampleContexts(engine, on_call=lambda n: self._advance_sleep(n))
        self._count_lock = threading.Lock()
        self._dataset: list[Example] | None = None
        self._reused = 0
        self._progress: Tracker | None = None
        self._answers: int | None = None
        self._preparing: int | None = None
        self._sleeps: int | None = None

    @property
    def seeds(self) -> int:
        return self.options.seeds or 1

    @property
    def limit(self) -> int | None:
        return self.options.limit or None  # 0: every example

    def options_as(self, kind: type[OptionsT]) -> OptionsT:
        """The run's options as experiment ``kind``'s (shared-only options are completed with
        its defaults; another experiment's options are refused)."""
        if isinstance(self.options, kind):
            return self.options
        given = {**self.options.model_dump(exclude_unset=True), "seeds": self.options.seeds}
        return kind.model_validate(given)

    # ---------------------------------------------------------------- examples
    def examples(self, seed: int, *, min_questions: int = 1) -> list[Example]:
        """The seed's subset of the dataset (``limit`` examples with at least ``min_questions``)."""
        return subset(self._dataset_with(min_questions), self.limit, seed)

    def _dataset_with(self, min_questions: int) -> list[Example]:
        if self._dataset is None:
            self._dataset = load_dataset(
                self.options.dataset, data_dir=self.options.data_dir, **self.options.dataset_options()
            )
        return [e for e in self._dataset if len(e.questions) >= min_questions]

    # -------------------------------------------------------------------- run
    def run(
        self,
        conditions: Sequence[Condition],
        *,
        max_questions: int = 1,
        min_questions: int = 1,
        asker: Asker = ask,
        grader: Grader = grade,
        annotate: Callable[[Example], dict[str, Any]] | None = None,
        prepare: Callable[[Example], Example] | None = None,
        prepare_adds_at_most: int | None = None,
    ) -> list[Row]:
        """Answer the first ``max_questions`` questions of every example of every seed under every
        condition; returns the rows (finished ones read back from results.jsonl). ``prepare``
        (e.g. adding generated questions) runs once per chosen example, before any answer; with
        ``prepare_adds_at_most``, never on an example that could not reach ``min_questions`` even so."""
        names = [c.name for c in conditions]
        if len(set(names)) != len(names):
            raise ValueError(f"condition names must be unique: {names}")
        if prepare is None or self.dry_run:
            units = [
                (seed, ex)
                for seed in range(self.seeds)
                for ex in self.examples(seed, min_questions=min_questions)
            ]
        else:
            units = self._prepared(prepare, min_questions, prepare_adds_at_most)
        n_answers = sum(min(max_questions, len(ex.questions)) for _, ex in units) * len(conditions)
        specs = {c.sleep for c in conditions if c.kind == "sleep" and c.sleep is not None}
        sleep_calls = sum(self._calls_per_sleep(s) for s in specs) * len(units)
        if self.dry_run:
            prepared = prepare is not None
            raise DryRun(self._plan(units, conditions, max_questions, n_answers, sleep_calls, prepared))

        # Answer the conditions that share a prompt prefix (the same learned context, or none)
        # back to back, so llama.cpp's KV cache keeps it, as it would for a user's questions on one
        # context; rows come back in the conditions' order.
        groups = list(dict.fromkeys(_prefix_group(c) for c in conditions))
        run_order = sorted(range(len(conditions)), key=lambda i: groups.index(_prefix_group(conditions[i])))

        def one(unit: tuple[int, Example]) -> list[Row]:
            seed, ex = unit
            extra = annotate(ex) if annotate is not None else {}
            done = {
                i: [
                    self._row(seed, ex, qi, qa, conditions[i], asker, grader, extra)
                    for qi, qa in enumerate(ex.questions[:max_questions])
                ]
                for i in run_order
            }
            return [row for i in range(len(conditions)) for row in done[i]]

        with self._progress_bars(n_answers, sleep_calls):
            if self.parallel > 1 and len(units) > 1:
                with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                    chunks = list(pool.map(one, units))
            else:
                chunks = [one(u) for u in units]
        return [row for chunk in chunks for row in chunk]

    def _prepared(
        self, prepare: Callable[[Example], Example], min_questions: int, adds_at_most: int | None
    ) -> list[tuple[int, Example]]:
        """Per seed, ``limit`` examples with at least ``min_questions`` questions once prepared (e.g.
        with generated questions): candidates are prepared in the subset's seeded order until
        enough qualify, at most ``MAX_PREPARE_FACTOR`` x ``limit`` of them; a candidate that
        ``adds_at_most`` more questions could not bring to ``min_questions`` is passed over."""
        every = self._dataset_with(1)
        if adds_at_most is not None:
            every = [e for e in every if len(e.questions) + adds_at_most >= min_questions]
        limit = self.limit or len(every)
        done: dict[str, Example] = {}  # seeds share examples: prepare each once
        units = []
        with self._progress_bars(0, 0, preparing=min(len(every), MAX_PREPARE_FACTOR * limit)):
            for seed in range(self.seeds):
                chosen: list[int] = []
                for i in shuffled_indices(len(every), seed)[: MAX_PREPARE_FACTOR * limit]:
                    if len(chosen) == limit:
                        break
                    ex = every[i]
                    if ex.id not in done:
                        done[ex.id] = prepare(ex)
                        self._advance(self._preparing)
                    if len(done[ex.id].questions) >= min_questions:
                        chosen.append(i)
                units += [(seed, done[every[i].id]) for i in sorted(chosen)]
        return units

    def _plan(
        self,
        units: list[tuple[int, Example]],
        conditions: Sequence[Condition],
        max_questions: int,
        n_answers: int,
        sleep_calls: int,
        prepared: bool,
    ) -> Plan:
        done, calls = 0, 0
        for seed, ex in units:
            for qi in range(min(max_questions, len(ex.questions))):
                for cond in conditions:
                    if self.row_key(seed, ex, qi, cond, self._budget(cond, seed)) in self.results:
                        done += 1
                    else:
                        calls += cond.n * (cond.steps or 1)
        return Plan(len(units), len(conditions), n_answers, done, calls, sleep_calls, self.parallel, prepared)

    def _budget(self, cond: Condition, seed: int) -> Budget:
        default_max = (
            self.options.max_tokens
            or self.engine.resolve_ask_budget({"verbosity": cond.verbosity}).max_tokens
        )
        return cond.budget(seed, default_max)

    def _calls_per_sleep(self, spec: SleepSpec) -> int:
        """At most: rethink makes rounds x k calls; solve one to anticipate, then questions x
        votes per round (and a fallback per question whose programs all failed)."""
        resolved = self.engine.resolve_sleep_budget(spec.budget(0))
        default = getattr(importlib.import_module("sleeptime.sleep"), "DEFAULT_STRATEGY", "")
        strategy = spec.strategy or default
        if strategy == "solve":
            questions = getattr(resolved, "questions", None) or 1
            return 1 + resolved.rounds * questions * ((getattr(resolved, "votes", None) or 1) + 1)
        return resolved.rounds * resolved.k

    def row_key(self, seed: int, example: Example, qi: int, cond: Condition, budget: Budget) -> str:
        """What identifies a graded answer: a finished row with this key is not asked again."""
        sleep = None
        if cond.sleep is not None and cond.kind == "sleep":
            sleep = self.engine.resolve_sleep_budget(cond.sleep.budget(seed)).model_dump(exclude_none=True)
        identity = {
            "model": self.model_name,
            "dataset": example.dataset,
            "splitter": self.options.splitter,
            "example": example.id,
            "seed": seed,
            "question": qi,
            "text": [context_text(example), example.questions[qi].question, example.questions[qi].answer],
            "condition": cond.identity(),
            "budget": budget.model_dump(exclude_none=True),
            "sleep": sleep,
            "prompt_version": prompts.PROMPT_VERSION,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def _row(
        self,
        seed: int,
        example: Example,
        qi: int,
        qa: QA,
        cond: Condition,
        asker: Asker,
        grader: Grader,
        extra: dict[str, Any],
    ) -> Row:
        budget = self._budget(cond, seed)
        key = self.row_key(seed, example, qi, cond, budget)
        done = self.results.get(key)
        if done is not None:
            with self._count_lock:
                self._reused += 1
            self._advance_answer()
            return {**done, **extra, "condition": cond.name, "params": cond.params}
        learned: LearnedContext | str | None = None
        if cond.kind == "sleep" and cond.sleep is not None:
            learned = self.contexts.learned(seed, example, cond.sleep)
        request = AskRequest(
            self.engine,
            self.contexts.context_id(example),
            context_text(example),
            example,
            qa,
            cond,
            budget,
            learned.id if isinstance(learned, LearnedContext) else None,
        )
        error = learned if isinstance(learned, str) else None
        try:
            attempt = asker(request)
        except MODEL_FAILURES as exc:
            attempt, error = Attempt("", Usage(), 0.0), f"{type(exc).__name__}: {exc.message}"
        texts = attempt.texts or (attempt.text,)
        sample_scores = [grader(example, qa, t) for t in texts]
        sleep_usage = learned.usage if isinstance(learned, LearnedContext) else Usage()
        row: Row = {
            "key": key,
            "model": self.model_name,
            "dataset": example.dataset,
            "seed": seed,
            "example_id": example.id,
            "question_index": qi,
            "n_questions": len(example.questions),
            "question": qa.question,
            "gold": qa.answer,
            "condition": cond.name,
            "kind": cond.kind,
            "verbosity": cond.verbosity,
            "params": cond.params,
            "sleep_label": cond.sleep.label if cond.kind == "sleep" and cond.sleep else None,
            "score": sample_scores[0],
            "sample_scores": sample_scores,
            "answer": attempt.text,
            "texts": list(texts) if len(texts) > 1 else [],
            "source": attempt.source,
            "test_completion_tokens": attempt.usage.completion_tokens,
            "test_prompt_tokens": attempt.usage.prompt_tokens,
            "test_calls": attempt.usage.calls,
            "latency_s": attempt.latency_s,
            "sleep_completion_tokens": sleep_usage.completion_tokens,
            "sleep_prompt_tokens": sleep_usage.prompt_tokens,
            "learned_context_id": learned.id if isinstance(learned, LearnedContext) else None,
            "error": error,
            **attempt.extra,
            **extra,
        }
        self.results.put(row)
        self._advance_answer()
        return row

    # --------------------------------------------------------------- progress
    def _progress_bars(self, answers: int, sleep_calls: int, *, preparing: int = 0) -> Tracker:
        progress = Tracker(self.console, enabled=self.show_progress)
        self._progress = progress
        self._preparing = progress.add_task("preparing examples", total=preparing) if preparing else None
        self._sleeps = progress.add_task("sleep calls (at most)", total=sleep_calls) if sleep_calls else None
        self._answers = progress.add_task("answers", total=answers) if answers else None
        return progress

    def _advance(self, task: int | None, n: int = 1) -> None:
        if self._progress is not None and task is not None:
            self._progress.advance(task, n)

    def _advance_sleep(self, n: int) -> None:
        self._advance(self._sleeps, n)

    def _advance_answer(self) -> None:
        self._advance(self._answers)

    # -------------------------------------------------------------- lifecycle
    def cache_stats(self) -> dict[str, int]:
        """What this invocation computed and what it found done (answers, then model calls)."""
        stats = {"answers_read_back": self._reused}
        model = self.engine.model
        if isinstance(model, CachingModel):
            stats |= {"calls_replayed": model.log.hits, "calls_made": model.log.misses}
        return stats

    def close(self) -> None:
        self.results.close()


def _prefix_group(cond: Condition) -> tuple[str, str | None]:
    return cond.kind, cond.sleep.label if cond.sleep is not None and cond.kind == "sleep" else None


__all__ = [
    "EMPTY_CONTEXT",
    "AskRequest",
    "Asker",
    "Attempt",
    "BenchRun",
    "Grader",
    "ask",
    "close_engine",
    "context_text",
    "grade",
    "open_engine",
]
