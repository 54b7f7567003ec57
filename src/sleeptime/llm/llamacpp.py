"""An embedded llama.cpp model (llama-cpp-python): the offline default backend.

A ``Llama`` object is not thread-safe, so every call holds the model's lock:
concurrent callers queue. llama.cpp keeps the KV cache of the previous prompt
and reuses its longest common prefix, which is why prompts put the shared
context first and the question last.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import BackendError, ConfigurationError, ContextTooLongError, ModelUnavailableError
from .base import Completion, Message, SamplingParams, Usage, render_plain


class LlamaCppModel:
    """A GGUF file run in-process. ``name`` defaults to the file's stem."""

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        chat_format: str | None = None,
    ) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise ModelUnavailableError(f"no model file at {self.path}", hint="give the path of a .gguf file")
        self._name = name or self.path.stem
        self._n_ctx = n_ctx
        self._n_threads = n_threads or max(1, os.cpu_count() or 1)
        self._chat_format = chat_format
        self._lock = threading.RLock()
        self._llama: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        return self._n_ctx

    def _model(self) -> Any:
        """Load lazily: constructing an Engine should not cost a model load."""
        with self._lock:
            if self._llama is None:
                try:
                    from llama_cpp import Llama
                except ImportError as exc:  # pragma: no cover - installed with sleeptime
                    raise ConfigurationError("llama-cpp-python is not installed") from exc
                try:
                    self._llama = Llama(
                        model_path=str(self.path),
                        n_ctx=self._n_ctx,
                        n_threads=self._n_threads,
                        n_threads_batch=self._n_threads,
                        n_batch=512,
                        chat_format=self._chat_format,
                        verbose=False,
                    )
                except (ValueError, RuntimeError, OSError) as exc:
                    raise ModelUnavailableError(
                        f"llama.cpp could not load {self.path}: {exc}",
                        hint="check that the file is a complete GGUF model",
                    ) from exc
            return self._llama

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._model().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        texts: list[str] = []
        reasons: list[str] = []
        usage = Usage()
        first_token_s: float | None = None
        started = time.perf_counter()
        with self._lock:
            llama = self._model()
            for i in range(params.n):
                call_started = time.perf_counter()
                response = self._chat(llama, messages, params, i)
                choice = response["choices"][0]
                texts.append(choice["message"].get("content") or "")
                reasons.append(choice.get("finish_reason") or "stop")
                raw = response.get("usage") or {}
                usage += Usage(int(raw.get("prompt_tokens", 0)), int(raw.get("completion_tokens", 0)), 0, 1)
                if first_token_s is None:
                    first_token_s = _time_to_first_token(llama, time.perf_counter() - call_started)
        return Completion(
            texts=tuple(texts),
            usage=usage,
            model=self._name,
            latency_s=time.perf_counter() - started,
            time_to_first_token_s=first_token_s,
            finish_reasons=tuple(reasons),
        )

    def stream(self, messages: Sequence[Message], params: SamplingParams) -> Iterator[str]:
        """Yield text pieces; the model stays locked until the generator is exhausted or closed."""
        with self._lock:
            llama = self._model()
            for chunk in self._chat(llama, messages, params, 0, stream=True):
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece

    def _chat(
        self, llama: Any, messages: Sequence[Message], params: SamplingParams, index: int, **extra: Any
    ) -> Any:
        kwargs: dict[str, Any] = {
            "messages": list(messages),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stop": list(params.stop),
            # n samples are n calls; each needs its own seed to differ.
            "seed": None if params.seed is None else params.seed + index,
            **extra,
        }
        if params.json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": params.json_schema}
        _reset_perf(llama)
        try:
            return llama.create_chat_completion(**kwargs)
        except ValueError as exc:
            if "exceed context window" in str(exc):
                raise ContextTooLongError(f"{self._name}: {exc}") from exc
            raise BackendError(f"llama.cpp failed on {self._name}: {exc}") from exc
        except RuntimeError as exc:
            raise BackendError(f"llama.cpp failed on {self._name}: {exc}") from exc

    def logprob(self, prefix: Sequence[Message], continuation: str) -> float:
        """Sum of log P(continuation | prefix) over the continuation's tokens.

        The prefix is rendered as plain ``role: content`` lines, as the OpenAI
        backend does (the paper scores q given c with a base LM, not a chat turn).
        Tokens are fed one at a time so that only the last position's logits are
        needed (``logits_all`` would cost n_ctx x vocab floats).
        """
        import numpy as np

        prefix_text = render_plain(prefix)
        with self._lock:
            llama = self._model()
            head = llama.tokenize(prefix_text.encode("utf-8"), add_bos=True, special=False)
            whole = llama.tokenize((prefix_text + continuation).encode("utf-8"), add_bos=True, special=False)
            # Tokenizers may merge across the boundary: score from the first differing token.
            common = 0
            while common < min(len(head), len(whole)) and head[common] == whole[common]:
                common += 1
            common = max(common, 1)
            targets = whole[common:]
            if not targets:
                return 0.0
            if len(whole) > self._n_ctx:
                raise ContextTooLongError(f"{len(whole)} tokens to score; {self._name} holds {self._n_ctx}")
            llama.reset()
            llama.eval(whole[:common])
            total = 0.0
            n_vocab = llama.n_vocab()
            for token in targets:
                logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(n_vocab,)).astype(np.float64)
                top = logits.max()
                log_norm = top + math.log(float(np.exp(logits - top).sum()))
                total += float(logits[token] - log_norm)
                llama.eval([token])
            # The KV cache now holds a non-chat prompt: make the next chat call start clean.
            llama.reset()
            return total

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None


def _reset_perf(llama: Any) -> None:
    try:
        from llama_cpp import llama_cpp as low

        low.llama_perf_context_reset(llama._ctx.ctx)
    except (AttributeError, ImportError):  # pragma: no cover - older bindings
        pass


def _time_to_first_token(llama: Any, latency_s: float) -> float | None:
    """Prompt evaluation plus one decoded token, from llama.cpp's own counters."""
    try:
        from llama_cpp import llama_cpp as low

        perf = low.llama_perf_context(llama._ctx.ctx)
    except (AttributeError, ImportError):  # pragma: no cover - older bindings
        return None
    per_token_ms = perf.t_eval_ms / perf.n_eval if perf.n_eval > 0 else 0.0
    return float(min(latency_s, (perf.t_p_eval_ms + per_token_ms) / 1000.0))
