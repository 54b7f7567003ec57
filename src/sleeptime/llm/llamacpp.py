"""An embedded llama.cpp model (llama-cpp-python): the offline default backend.

A ``Llama`` object is not thread-safe, so every call holds the model's
``PriorityLock``: queries go first, and a call made in ``background()`` (sleep)
hands the model to waiting queries between two tokens, its sequence state set
aside and restored after, so it resumes with the output it would have produced.

Prompt prefixes are computed ahead (``prepare_prefix``, at sleep time) and kept
in a ``PromptStateCache``; a prompt that starts with a kept prefix restores it
and evaluates only the rest. llama.cpp also reuses the longest prefix the
context still holds from the previous call, which is why prompts put the
shared context first and the question last.

Counting tokens never waits for generation: it uses a vocabulary-only copy of
the model with a lock of its own.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import BackendError, ConfigurationError, ContextTooLongError, ModelUnavailableError
from . import kv_state
from .base import Completion, Message, PrefixReport, SamplingParams, Usage, render_plain
from .priority import PriorityLock, in_background
from .prompt_state import PromptStateCache, StateKey, file_sha256

log = logging.getLogger(__name__)

# Background prompt evaluation (a sleep's prefill) runs in chunks of this many tokens, and a query that
# arrives waits for the chunk in progress: 16 tokens take ~0.4 s on 2 cores (64 took 1.2 s) at ~39
# prompt tokens/s instead of ~53 for full batches (docs/benchmarks.md). Fixed, not sized from measured
# speed: llama.cpp's logits differ slightly with the batch size, so a chunk size that followed timing
# would make a sleep's greedy output depend on the machine's load.
BACKGROUND_CHUNK = 16


class LlamaCppModel:
    """A GGUF file run in-process. ``name`` defaults to the file's stem.

    ``prompt_cache`` keeps prompt prefix states (see ``prompt_state``); None keeps none.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        chat_format: str | None = None,
        prompt_cache: PromptStateCache | None = None,
    ) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise ModelUnavailableError(f"no model file at {self.path}", hint="give the path of a .gguf file")
        self._name = name or self.path.stem
        self._n_ctx = n_ctx
        self._n_threads = n_threads or max(1, os.cpu_count() or 1)
        self._chat_format = chat_format
        self.prompt_cache = prompt_cache
        self.lock = PriorityLock()
        self._llama: Any = None
        self._vocab: Any = None
        self._vocab_lock = threading.Lock()
        self._sha256: str | None = None
        self._capturing = False
        self._first_token_at: float | None = None
        self._restored = 0  # prompt tokens the last call took from a saved state or the context

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        return self._n_ctx

    @property
    def max_concurrency(self) -> int:
        """One: calls queue on the model's lock, so parallel loops would only wait."""
        return 1

    @property
    def model_sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return self._sha256

    def _model(self) -> Any:
        """Load lazily: constructing an Engine should not cost a model load. Call with the lock held."""
        if self._llama is None:
            try:
                llama_class = kv_state.hooked_llama()
            except ImportError as exc:  # pragma: no cover - installed with sleeptime
                raise ConfigurationError("llama-cpp-python is not installed") from exc
            try:
                self._llama = llama_class(
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
            self._llama.hooks = self
        return self._llama

    # --- tokens, outside the generation lock

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text.encode("utf-8")))

    def _tokenize(self, data: bytes) -> list[int]:
        with self._vocab_lock:
            if self._vocab is None:
                from llama_cpp import _internals
                from llama_cpp import llama_cpp as low

                params = low.llama_model_default_params()
                params.vocab_only = True
                path = str(self.path)
                try:
                    self._vocab = _internals.LlamaModel(path_model=path, params=params, verbose=False)
                except ValueError as exc:
                    raise ModelUnavailableError(f"llama.cpp could not read the vocabulary of {path}") from exc
            return list(self._vocab.tokenize(data, add_bos=False, special=False))

    # --- chat

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        texts: list[str] = []
        reasons: list[str] = []
        usage = Usage()
        first_token_s: float | None = None
        started = time.perf_counter()
        with self.lock.hold():
            llama = self._model()
            for i in range(params.n):
                self._first_token_at = None
                response = self._chat(llama, messages, params, i)
                choice = response["choices"][0]
                texts.append(choice["message"].get("content") or "")
                # A loop ended by the repetition guard was cut short, like one max_tokens cut.
                reasons.append("length" if llama.looped else choice.get("finish_reason") or "stop")
                raw = response.get("usage") or {}
                prompt = int(raw.get("prompt_tokens", 0))
                generated = int(raw.get("completion_tokens", 0))
                usage += Usage(prompt, generated, 0, 1, min(self._restored, prompt))
                if first_token_s is None:
                    done = self._first_token_at or time.perf_counter()
                    first_token_s = done - started
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
        with self.lock.hold():
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
        try:
            return llama.create_chat_completion(**kwargs)
        except ValueError as exc:
            if "exceed context window" in str(exc):
                raise ContextTooLongError(f"{self._name}: {exc}") from exc
            raise BackendError(f"llama.cpp failed on {self._name}: {exc}") from exc
        except RuntimeError as exc:
            raise BackendError(f"llama.cpp failed on {self._name}: {exc}") from exc

    # --- hooks called from inside llama.cpp's generate loop (lock held)

    def on_prompt(self, llama: Any, tokens: list[int]) -> None:
        if self._capturing:
            raise kv_state.Captured(tokens)
        self._restore_longest(llama, tokens)
        self._restored = kv_state.cached_prefix(llama, tokens)
        if in_background():
            self._evaluate(llama, tokens[:-1])  # in chunks that queries may interrupt

    def on_token(self, llama: Any) -> None:
        if self._first_token_at is None:
            self._first_token_at = time.perf_counter()

    def between_tokens(self, llama: Any) -> None:
        if in_background():
            self._yield_to_queries(llama)

    def _yield_to_queries(self, llama: Any) -> None:
        """Let waiting queries use the model; this call's sequence state is set aside meanwhile."""
        restored, first = self._restored, self._first_token_at
        if self.lock.yield_to_queries(lambda: kv_state.suspend(llama), lambda s: kv_state.resume(llama, s)):
            self._restored, self._first_token_at = restored, first

    def _restore_longest(self, llama: Any, tokens: Sequence[int]) -> None:
        """Load the longest saved prefix of ``tokens`` if it is longer than what the context holds."""
        if self.prompt_cache is None:
            return
        held = kv_state.cached_prefix(llama, tokens)
        found = self.prompt_cache.lookup(self.model_sha256, self._n_ctx, tokens, longer_than=held)
        if found is None:
            return
        key, data = found
        if not kv_state.set_sequence(llama, data, key.tokens):
            log.warning("llama.cpp refused a saved state of %d tokens; evaluating in full", len(key.tokens))

    def _evaluate(self, llama: Any, tokens: Sequence[int]) -> int:
        """Make the context hold ``tokens``; in background, chunk by chunk, yielding to queries."""
        start = kv_state.cached_prefix(llama, tokens)
        llama.n_tokens = start  # eval drops the cells past this point
        chunk = BACKGROUND_CHUNK if in_background() else len(tokens) or 1
        for at in range(start, len(tokens), chunk):
            if in_background():
                self._yield_to_queries(llama)
            llama.eval(tokens[at : at + chunk])
        return len(tokens) - start

    # --- prompt prefixes computed ahead

    def prompt_tokens(self, messages: Sequence[Message]) -> list[int]:
        """The exact tokens llama.cpp evaluates for this chat prompt (nothing is evaluated)."""
        with self.lock.hold():
            llama = self._model()
            self._capturing = True
            try:
                llama.create_chat_completion(messages=list(messages), max_tokens=1)
            except kv_state.Captured as captured:
                return captured.tokens
            except ValueError as exc:
                raise ContextTooLongError(f"{self._name}: {exc}") from exc
            finally:
                self._capturing = False
        raise BackendError("llama.cpp generated without evaluating a prompt")  # pragma: no cover

    def prepare_prefix(self, variants: Sequence[Sequence[Message]], *, owner: str) -> PrefixReport:
        """Evaluate the tokens all ``variants`` share and save that state (``owner``: a context id)."""
        started = time.perf_counter()
        with self.lock.hold():
            token_lists = [self.prompt_tokens(v) for v in variants]
            n = min(len(t) for t in token_lists)
            for other in token_lists[1:]:
                n = min(n, kv_state.common_prefix(token_lists[0], other))
            prefix = token_lists[0][:n]
            key = StateKey(self.model_sha256, self._n_ctx, tuple(prefix))
            if self.prompt_cache is not None and self.prompt_cache.contains(key):
                return PrefixReport(n, 0, time.perf_counter() - started, n, key.file_id)
            llama = self._model()
            self._restore_longest(llama, [*prefix, -1])
            evaluated = self._evaluate(llama, prefix)
            if self.prompt_cache is not None and n:
                self.prompt_cache.put(key, kv_state.get_sequence(llama), owner=owner)
        seconds = time.perf_counter() - started
        log.info(
            "prompt prefix of %d tokens for %s ready (%d evaluated, %.1fs)", n, owner, evaluated, seconds
        )
        return PrefixReport(n, evaluated, seconds, n - evaluated, key.file_id if self.prompt_cache else None)

    def retain_prefixes(self, owner: str, keep: Sequence[str]) -> int:
        if self.prompt_cache is None:
            return 0
        return self.prompt_cache.retain(owner, keep, model_sha256=self.model_sha256)

    # --- scoring

    def logprob(self, prefix: Sequence[Message], continuation: str) -> float:
        """Sum of log P(continuation | prefix) over the continuation's tokens.

        The prefix is rendered as plain ``role: content`` lines, as the OpenAI
        backend does (the paper scores q given c with a base LM, not a chat turn).
        Tokens are fed one at a time so that only the last position's logits are
        needed (``logits_all`` would cost n_ctx x vocab floats).
        """
        import numpy as np

        prefix_text = render_plain(prefix)
        with self.lock.hold():
            llama = self._model()
            head = llama.tokenize(prefix_text.encode("utf-8"), add_bos=True, special=False)
            whole = llama.tokenize((prefix_text + continuation).encode("utf-8"), add_bos=True, special=False)
            # Tokenizers may merge across the boundary: score from the first differing token.
            common = max(kv_state.common_prefix(head, whole), 1)
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
        with self.lock.hold():
            if self._llama is not None:
                self._llama.close()
                self._llama = None
        with self._vocab_lock:
            if self._vocab is not None:
                self._vocab.close()
                self._vocab = None
