"""The one protocol every model backend implements, and the records it returns."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol, TypedDict, runtime_checkable

Role = Literal["system", "user", "assistant"]
ReasoningEffort = Literal["low", "medium", "high"]


class Message(TypedDict):
    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    """Tokens one or more model calls used. ``reasoning_tokens`` is counted inside
    ``completion_tokens`` (as OpenAI reports it) and is 0 where not reported.
    ``cached_tokens`` is counted inside ``prompt_tokens``: prompt tokens a prefix cache
    served instead of evaluating (the server's ``prompt_tokens_details``; for llama.cpp,
    a restored prompt state). It is a measurement, not stored with the usage."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    calls: int = 0
    cached_tokens: int = field(default=0, compare=False)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.calls + other.calls,
            self.cached_tokens + other.cached_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in STORED_USAGE}

    @classmethod
    def from_dict(cls, data: dict[str, int] | None) -> Usage:
        data = data or {}
        return cls(**{name: int(data.get(name, 0)) for name in STORED_USAGE})


# The counts a usage is stored with (``cached_tokens`` is a measurement of one call, not stored).
STORED_USAGE = ("prompt_tokens", "completion_tokens", "reasoning_tokens", "calls")


@dataclass(frozen=True)
class SamplingParams:
    """Everything that changes what a call returns. Explicit, so that two calls
    with equal params and messages are the same call (and may be cached)."""

    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = 0
    n: int = 1
    stop: tuple[str, ...] = ()
    reasoning_effort: ReasoningEffort | None = None
    # JSON schema the output must follow, where the backend can enforce one.
    json_schema: dict[str, object] | None = field(default=None, hash=False)

    def cache_key(self) -> dict[str, object]:
        """Every field, since every field changes what a call returns."""
        return {**asdict(self), "stop": list(self.stop)}


@dataclass(frozen=True)
class Completion:
    """One call's result. ``texts`` has ``n`` entries; ``text`` is the first."""

    texts: tuple[str, ...]
    usage: Usage
    model: str
    latency_s: float
    time_to_first_token_s: float | None = None
    finish_reasons: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""


@runtime_checkable
class LLM(Protocol):
    """A chat model. Backends: ``llamacpp.LlamaCppModel``, ``openai.OpenAIModel``,
    ``fake.ScriptedModel``."""

    @property
    def name(self) -> str: ...

    @property
    def context_window(self) -> int:
        """How many tokens prompt plus completion may hold."""
        ...

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion: ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model (an estimate where exact counts are unknown)."""
        ...

    @property
    def max_concurrency(self) -> int:
        """How many calls may usefully run at once: 1 for an embedded model (calls queue on
        its lock), more for a remote endpoint that batches requests. ``k > 1`` sleeps run
        this many loops in parallel."""
        ...

    def close(self) -> None:
        """Release what the model holds (a loaded file, HTTP connections). Idempotent."""
        ...


@runtime_checkable
class StreamingLLM(LLM, Protocol):
    def stream(self, messages: Sequence[Message], params: SamplingParams) -> Iterator[str]:
        """Yield text pieces as they are generated (n is ignored: one choice)."""
        ...


@runtime_checkable
class ScoringLLM(LLM, Protocol):
    def logprob(self, prefix: Sequence[Message], continuation: str) -> float:
        """Sum of log P(continuation tokens | prefix), used to measure predictability."""
        ...


class DelegatingModel:
    """An ``LLM`` wrapping another: forwards everything to ``inner``. Wrappers (the benchmark's
    call cache, the scheduler's token meter) subclass it and override ``complete``."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    @property
    def max_concurrency(self) -> int:
        return self.inner.max_concurrency

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        return self.inner.complete(messages, params)

    def close(self) -> None:
        """Nothing: the wrapped model belongs to whoever made it."""


class UsageMeter(DelegatingModel):
    """Counts what the calls through it spend, also of calls made by a run that fails
    later; ``on_usage`` (if given) hears the running total after every call."""

    def __init__(self, inner: LLM, on_usage: Callable[[Usage], None] | None = None) -> None:
        super().__init__(inner)
        self.on_usage = on_usage
        self._usage = Usage()
        self._lock = threading.Lock()

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        completion = self.inner.complete(messages, params)
        with self._lock:  # held while reporting, so totals are heard in order
            self._usage += completion.usage
            if self.on_usage is not None:
                self.on_usage(self._usage)
        return completion

    @property
    def usage(self) -> Usage:
        with self._lock:
            return self._usage


def render_plain(messages: Sequence[Message]) -> str:
    """Messages as ``role: content`` lines: the text a base model scores (both backends use it)."""
    return "\n".join(f"{m['role']}: {m['content']}" for m in messages)


@dataclass(frozen=True)
class PrefixReport:
    """What ``prepare_prefix`` did: ``tokens`` in the prefix, ``evaluated`` of them computed
    now, ``cached_tokens`` a server reported as served from its cache, and ``key`` (the
    saved state's id) where the backend keeps one."""

    tokens: int
    evaluated: int
    seconds: float
    cached_tokens: int = 0
    key: str | None = None


@runtime_checkable
class PrefixCachingLLM(LLM, Protocol):
    """A model that can compute a prompt prefix ahead of time (at sleep time), so that a
    later prompt starting with it only evaluates the rest."""

    def prepare_prefix(self, variants: Sequence[Sequence[Message]], *, owner: str) -> PrefixReport:
        """Compute and keep the prefix all ``variants`` share (the same prompt with different
        placeholder questions); ``owner`` (a context id) is what ``retain_prefixes`` sorts by."""
        ...

    def retain_prefixes(self, owner: str, keep: Sequence[str]) -> int:
        """Forget ``owner``'s kept prefixes except the keys in ``keep``; how many went."""
        ...
