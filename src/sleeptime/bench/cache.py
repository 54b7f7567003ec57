"""Every model call of a benchmark run, logged and replayed: what makes a run resumable.

``CachingModel`` wraps any backend. A call is keyed by sha256 of (model name,
messages, ``SamplingParams.cache_key()``); the first time, the inner model
answers and one JSON line ``{key, kind, model, messages, params, texts, usage,
latency_s, ttft_s, finish_reasons, ts}`` is appended to ``calls.jsonl`` and
flushed (fsync'd by default) before the result is returned. A repeat of the key,
in this process or any later one, is served from the log at no cost, with the
original usage and timing, so a killed run continues where it stopped and a
re-run (to re-plot) recomputes nothing. A line cut short by a kill is ignored
and cut off the file before new lines are appended.

Scoring calls (``logprob``) are logged the same way, as ``kind: "logprob"``;
``caching(inner, log)`` returns a wrapper with ``logprob`` only when the inner
model has one, so ``isinstance(model, ScoringLLM)`` stays truthful.

``open_engine`` builds a benchmark's engine with its models wrapped this way; one
call log may serve several runs (``sleeptime bench --calls``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ..engine import Engine
from ..errors import StoreError
from ..llm.base import LLM, Completion, DelegatingModel, Message, SamplingParams, ScoringLLM, Usage
from ..settings import Settings


def call_key(model: str, messages: Sequence[Message], params: SamplingParams) -> str:
    """What identifies a chat call: equal keys return equal results (given the model's determinism)."""
    identity = [model, [dict(m) for m in messages], params.cache_key()]
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def logprob_key(model: str, prefix: Sequence[Message], continuation: str) -> str:
    identity = ["logprob", model, [dict(m) for m in prefix], continuation]
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


class JsonlLog:
    """An append-only JSONL of records with a ``key``, indexed in memory. Thread-safe.

    Used for model calls (``calls.jsonl``) and for result rows (``results.jsonl``).
    ``hits`` and ``misses`` count what this process found in the log and what it
    had to add.
    """

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        self.hits = 0
        self.misses = 0
        self._load()
        self._fh: IO[str] | None = self.path.open("a", encoding="utf-8")

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        good_end = 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # cut short by a kill: dropped below
            try:
                record = json.loads(line)
            except ValueError:
                break
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                self._records[record["key"]] = record
            good_end += len(line)
        if good_end < len(raw):
            with self.path.open("r+b") as fh:
                fh.truncate(good_end)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._records

    def values(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records.values())

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                self.hits += 1
            return record

    def put(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if self._fh is None:
                raise StoreError(f"log {self.path} is closed")
            self.misses += 1
            self._records[record["key"]] = record
            self._fh.write(line)
            self._fh.flush()
            if self._fsync:
                os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


class CachingModel(DelegatingModel):
    """An ``LLM`` that answers repeats of a call from a ``JsonlLog`` (see the module docstring)."""

    def __init__(self, inner: LLM, log: JsonlLog | str | Path) -> None:
        super().__init__(inner)
        self._owns_log = not isinstance(log, JsonlLog)
        self.log = log if isinstance(log, JsonlLog) else JsonlLog(log)
        self._tokens: dict[str, int] = {}
        self._tokens_lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        with self._tokens_lock:
            known = self._tokens.get(text)
        if known is None:
            known = self.inner.count_tokens(text)
            with self._tokens_lock:
                if len(self._tokens) > 50_000:
                    self._tokens.clear()
                self._tokens[text] = known
        return known

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        key = call_key(self.name, messages, params)
        record = self.log.get(key)
        if record is not None:
            return Completion(
                texts=tuple(record["texts"]),
                usage=Usage.from_dict(record["usage"]),
                model=str(record.get("model", self.name)),
                latency_s=float(record.get("latency_s", 0.0)),
                time_to_first_token_s=record.get("ttft_s"),
                finish_reasons=tuple(record.get("finish_reasons", ())),
            )
        completion = self.inner.complete(messages, params)
        self._log(
            key,
            "chat",
            completion.model,
            messages,
            completion.latency_s,
            params=params.cache_key(),
            texts=list(completion.texts),
            usage=completion.usage.to_dict(),
            ttft_s=completion.time_to_first_token_s,
            finish_reasons=list(completion.finish_reasons),
        )
        return completion

    def _log(
        self,
        key: str,
        kind: str,
        model: str,
        messages: Sequence[Message],
        latency_s: float,
        **result: Any,
    ) -> None:
        """Append one call's line (the fields every kind has, then the kind's own)."""
        self.log.put(
            {
                "key": key,
                "kind": kind,
                "model": model,
                "messages": [dict(m) for m in messages],
                **result,
                "latency_s": latency_s,
                "ts": time.time(),
            }
        )

    def close(self) -> None:
        """Close the inner model, and the log if this wrapper opened it."""
        closer = getattr(self.inner, "close", None)
        if callable(closer):
            closer()
        if self._owns_log:
            self.log.close()


class CachingScoringModel(CachingModel):
    """A ``CachingModel`` over a model that can score text: ``logprob`` is cached too."""

    def __init__(self, inner: ScoringLLM, log: JsonlLog | str | Path) -> None:
        super().__init__(inner, log)
        self._scorer = inner

    def logprob(self, prefix: Sequence[Message], continuation: str) -> float:
        key = logprob_key(self.name, prefix, continuation)
        record = self.log.get(key)
        if record is not None:
            return float(record["logprob"])
        started = time.perf_counter()
        value = self._scorer.logprob(prefix, continuation)
        latency_s = time.perf_counter() - started
        self._log(key, "logprob", self.name, prefix, latency_s, continuation=continuation, logprob=value)
        return value


def caching(inner: LLM, log: JsonlLog | str | Path) -> CachingModel:
    """``inner`` wrapped so that its calls are logged to and replayed from ``log``."""
    if isinstance(inner, CachingModel):
        return inner
    if callable(getattr(inner, "logprob", None)) and isinstance(inner, ScoringLLM):
        return CachingScoringModel(inner, log)
    return CachingModel(inner, log)


def open_engine(
    settings: Settings, out: Path, *, model: LLM | None = None, calls: Path | None = None
) -> tuple[Engine, bool]:
    """An engine whose models log to and replay from ``calls`` (default ``out/calls.jsonl``; several
    runs may share one), storing in ``out/bench.db``.

    Returns it with whether the answering model is embedded (llama.cpp: run sequentially).
    """
    from ..llm import load_model
    from ..llm.llamacpp import LlamaCppModel

    out.mkdir(parents=True, exist_ok=True)
    log = JsonlLog(calls if calls is not None else out / "calls.jsonl")
    inner = model if model is not None else load_model(settings.model, settings)
    sleep_inner = load_model(settings.sleep_model, settings) if settings.sleep_model else None
    engine = Engine(
        model=caching(inner, log),
        sleep_model=caching(sleep_inner, log) if sleep_inner is not None else None,
        store=f"sqlite:///{out / 'bench.db'}",
        settings=settings,
    )
    return engine, isinstance(inner, LlamaCppModel)


def close_engine(engine: Engine) -> None:
    """Close an engine from ``open_engine``: its store, its models and their call log."""
    models = {id(m): m for m in (engine.model, engine.sleep_model)}
    engine.close()
    for model in models.values():
        closer = getattr(model, "close", None)
        if callable(closer):
            closer()
        if isinstance(model, CachingModel):
            model.log.close()


__all__ = [
    "CachingModel",
    "CachingScoringModel",
    "JsonlLog",
    "caching",
    "call_key",
    "close_engine",
    "logprob_key",
    "open_engine",
]
