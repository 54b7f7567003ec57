"""Deterministic fake models for the benchmark-runner tests.

``HashModel`` answers as a pure function of (messages, params, sample index), so a
killed and resumed run sees exactly what an uninterrupted one sees (a scripted
model's answers depend on call order, which a resume changes). ``KillAfter``
raises ``Killed`` (a BaseException, as a kill would not be caught) after N calls.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
import time
from collections.abc import Sequence

from sleeptime import prompts
from sleeptime.engine import Engine
from sleeptime.llm.base import LLM, Completion, DelegatingModel, Message, SamplingParams, Usage

ANSWERS = ("17.5", "24", "0", "7")
# The paper's rethink strategy (calls per sleep = its rounds), where the engine has strategies.
RETHINK = {"strategy": "rethink"} if "strategy" in inspect.signature(Engine.sleep).parameters else {}


class HashModel:
    def __init__(self, name: str = "hash-model", delay_s: float = 0.0) -> None:
        self._name = name
        self.delay_s = delay_s
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        return 8192

    @property
    def max_concurrency(self) -> int:
        return 4

    def close(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        with self._lock:
            self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if getattr(params, "json_schema", None):  # the solve strategy anticipating questions
            questions = {"questions": ["What is the total?", "How many are left?"]}
            text = json.dumps(questions)
            return Completion((text,) * params.n, Usage(10, 12, 0, params.n), self._name, 0.001)
        texts = []
        for i in range(params.n):
            digest = hashlib.sha256(json.dumps([list(messages), params.cache_key(), i]).encode()).hexdigest()
            value = int(digest[:8], 16)
            if messages[0]["content"] == prompts.SLEEP_SYSTEM:
                text = f"NOTES: the first quantity is {value % 97}; the total is {ANSWERS[value % 4]}."
            else:
                words = " ".join(["step"] * (value % 5 + params.max_tokens % 3))
                text = f"{words} The answer is {ANSWERS[value % 4]}."
            texts.append(" ".join(text.split()[: params.max_tokens]))
        prompt = sum(self.count_tokens(m["content"]) for m in messages)
        return Completion(
            texts=tuple(texts),
            usage=Usage(prompt * params.n, sum(self.count_tokens(t) for t in texts), 0, params.n),
            model=self._name,
            latency_s=0.001,
        )


class Killed(BaseException):
    """Stands for SIGKILL: nothing catches it."""


class KillAfter(DelegatingModel):
    """Passes ``limit`` calls to ``inner``, then raises ``Killed``."""

    def __init__(self, inner: LLM, limit: int) -> None:
        super().__init__(inner)
        self.limit = limit
        self.calls = 0

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        if self.calls >= self.limit:
            raise Killed
        self.calls += 1
        return self.inner.complete(messages, params)
