"""A scripted model for fault injection and exact logic checks (never the only test of a path).

Each call takes the next step of the script: a string is returned as the
completion, an exception is raised, a callable gets the messages and returns
either. When the script runs out, ``default`` answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .base import Completion, Message, SamplingParams, Usage

Step = str | BaseException | Callable[[Sequence[Message]], "str | BaseException"]


@dataclass
class ScriptedModel:
    script: list[Step] = field(default_factory=list)
    default: str = "The answer is 0."
    name: str = "scripted"
    context_window: int = 8192
    delay_s: float = 0.0
    calls: list[tuple[list[Message], SamplingParams]] = field(default_factory=list)
    max_concurrency: int = 1  # > 1: k > 1 sleep loops call it from parallel threads

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: Iterator[Step] = iter(list(self.script))

    def extend(self, steps: Iterable[Step]) -> None:
        with self._lock:
            self._steps = iter([*self._steps, *steps])

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        started = time.perf_counter()
        texts, reasons = [], []
        for _ in range(params.n):
            with self._lock:
                self.calls.append((list(messages), params))
                step = next(self._steps, self.default)
            if self.delay_s:
                time.sleep(self.delay_s)
            outcome = step(messages) if callable(step) and not isinstance(step, BaseException) else step
            if isinstance(outcome, BaseException):
                raise outcome
            words = outcome.split()
            # Within the limit the text is kept as written (newlines matter to programs).
            text = outcome if len(words) <= params.max_tokens else " ".join(words[: params.max_tokens])
            reason = "length" if len(words) > params.max_tokens else "stop"  # as real backends say
            for stop in params.stop:
                if stop and stop in text:
                    text, reason = text[: text.index(stop)], "stop"
            texts.append(text)
            reasons.append(reason)
        prompt = sum(self.count_tokens(m["content"]) for m in messages)
        completion = sum(self.count_tokens(t) for t in texts)
        return Completion(
            texts=tuple(texts),
            usage=Usage(prompt * params.n, completion, 0, params.n),
            model=self.name,
            latency_s=time.perf_counter() - started,
            time_to_first_token_s=0.0,
            finish_reasons=tuple(reasons),
        )

    def count_tokens(self, text: str) -> int:
        """One token per whitespace-separated word: exact and predictable for tests."""
        return len(text.split())

    def close(self) -> None:
        pass

    def stream(self, messages: Sequence[Message], params: SamplingParams) -> Iterator[str]:
        text = self.complete(messages, SamplingParams(**{**params.__dict__, "n": 1})).text
        for i, word in enumerate(text.split(" ")):
            yield word if i == 0 else " " + word
