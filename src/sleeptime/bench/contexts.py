"""A run's stored contexts and learned contexts: one stored context per example, one learned
context per example and sleep budget (per seed too for sampled budgets), made on first need.

The threads of a run share them: two conditions (or two seeds) that need the same sleep wait
for one ``Engine.sleep`` instead of making two. Contexts are found again in a resumed run's
``bench.db`` by their ``bench_key`` metadata.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from ..engine import Engine
from ..learned import LearnedContext
from .asking import MODEL_FAILURES, context_text
from .config import SleepSpec
from .datasets import Example

PAGE = 500


def sleep_label(spec: SleepSpec, seed: int) -> str:
    """Names a sleep budget's learned context of an example; sampled (k > 1) learned contexts
    differ per seed, so each seed gets its own."""
    return f"{spec.label} seed={seed}" if spec.sampled else spec.label


class ExampleContexts:
    def __init__(self, engine: Engine, *, on_call: Callable[[int], None] | None = None) -> None:
        self.engine = engine
        self.on_call = on_call
        self._contexts: dict[str, str] = {}
        self._contexts_lock = threading.Lock()
        self._learned: dict[tuple[str, str], LearnedContext | str] = {}
        self._learned_lock = threading.Lock()
        self._sleeping: dict[tuple[str, str], threading.Lock] = {}
        offset = 0
        while True:  # what a resumed run stored before
            page = engine.list_contexts(limit=PAGE, offset=offset)
            for ctx in page:
                key = ctx.metadata.get("bench_key")
                if isinstance(key, str):
                    self._contexts[key] = ctx.id
            if len(page) < PAGE:
                break
            offset += PAGE

    def context_id(self, example: Example) -> str:
        """The stored context of ``example``, made on first need: one for all its sleep budgets
        (each answer names its learned context, ``Engine.ask(learned_id=...)``)."""
        text = context_text(example)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        key = f"{example.dataset}|{example.id}|{digest}"
        with self._contexts_lock:
            if key not in self._contexts:
                meta = {"bench_key": key, "example": example.id}
                ctx = self.engine.add_context(text, meta, truncate=True)
                self._contexts[key] = ctx.id
            return self._contexts[key]

    def learned(self, seed: int, example: Example, spec: SleepSpec) -> LearnedContext | str:
        """``Engine.sleep`` on the example's context for ``spec``; an error message if the model failed."""
        memo = (example.id, sleep_label(spec, seed))
        with self._learned_lock:
            if memo in self._learned:
                return self._learned[memo]
            lock = self._sleeping.setdefault(memo, threading.Lock())
        with lock:  # two seeds may share an example: sleep on it once
            with self._learned_lock:
                if memo in self._learned:
                    return self._learned[memo]
            cid = self.context_id(example)
            strategy: dict[str, Any] = {"strategy": spec.strategy} if spec.strategy else {}
            try:
                result: LearnedContext | str = self.engine.sleep(
                    cid, spec.budget(seed), truncate=True, on_call=self.on_call, **strategy
                )
            except MODEL_FAILURES as exc:
                result = f"{type(exc).__name__}: {exc.message}"
            with self._learned_lock:
                self._learned[memo] = result
            return result


__all__ = ["ExampleContexts", "sleep_label"]
