"""Any OpenAI-compatible endpoint: OpenAI itself, vLLM, SGLang, Ollama, llama.cpp servers.

Built on an ``openai.OpenAI`` client whose own retries are switched off: every
call goes through ``call_with_retries`` and ``map_backend_errors`` so that the
sleeptime error tree, the attempt limit and the overall deadline apply. Servers
differ in what they accept; when one rejects an optional parameter
(``reasoning_effort``, ``stream_options``, ``max_tokens`` on newer OpenAI
models, ``json_schema`` response formats) the call is repeated without it once
and the model remembers, instead of failing every later call.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import openai
from openai.types import Completion as TextCompletion
from openai.types.chat import ChatCompletion

from ..errors import BackendError, MalformedOutputError
from .base import Completion, Message, PrefixReport, SamplingParams, Usage, render_plain
from .openai_errors import map_backend_errors
from .openai_text import SCORING_HINT as _SCORING_HINT
from .openai_text import TextStream, continuation_logprob
from .retry import call_with_retries

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# The SDK refuses to start without a key; local servers ignore it. A placeholder
# (rather than None) also stops the SDK reading OPENAI_API_KEY behind the settings layer's back.
NO_KEY = "not-needed"

_DEGRADABLE = ("reasoning_effort", "stream_options", "response_format", "max_tokens")


class OpenAIModel:
    """A model served over the OpenAI chat API; ``name`` is the model id the server expects."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: openai.OpenAI | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 4,
        context_window: int = 8192,
        extra_body: dict[str, object] | None = None,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 20.0,
        max_concurrency: int = 8,
    ) -> None:
        if max_retries < 1:
            raise ValueError(f"max_retries counts attempts and must be at least 1, not {max_retries}")
        self._model = model
        self._owns_client = client is None
        if client is None:
            client = openai.OpenAI(
                base_url=base_url or DEFAULT_BASE_URL,
                api_key=api_key or NO_KEY,
                timeout=timeout_s,
                max_retries=0,
            )
        else:
            client = client.with_options(max_retries=0, timeout=timeout_s)
        self._client = client
        self.base_url = str(client.base_url).rstrip("/")
        key = client.api_key if isinstance(client.api_key, str) else None
        self._secrets = tuple(s for s in (api_key, key) if s and s != NO_KEY)
        self._timeout_s = timeout_s
        self._attempts = max_retries
        self._context_window = context_window
        self._extra_body = dict(extra_body or {})
        self._retry_base_delay = retry_base_delay
        self._retry_max_delay = retry_max_delay
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self._max_concurrency = max_concurrency
        # What this server turned out not to accept; see _degrade. Guarded by _lock.
        self._lock = threading.Lock()
        self._dropped: set[str] = set()
        self._json_mode = "json_schema"
        self._n_supported = True

    @property
    def name(self) -> str:
        return self._model

    @property
    def context_window(self) -> int:
        return self._context_window

    @property
    def max_concurrency(self) -> int:
        """Calls worth sending at once: the endpoint batches them (``openai_max_concurrency``)."""
        return self._max_concurrency

    def count_tokens(self, text: str) -> int:
        """About four characters per token: the server's tokenizer is not available to
        us, and budgets only need an estimate (usage from the server is exact)."""
        return math.ceil(len(text) / 4)

    # -- chat -----------------------------------------------------------------------

    def complete(self, messages: Sequence[Message], params: SamplingParams) -> Completion:
        started = time.perf_counter()
        texts: list[str] = []
        reasons: list[str] = []
        usage = Usage()
        first: float | None = None
        # Some servers (llama-cpp-python) ignore n and answer one choice: ask for the rest
        # one by one, each with its own seed so that the samples differ.
        while len(texts) < params.n:
            missing = params.n - len(texts)
            n = missing if self._n_supported else 1
            seed = None if params.seed is None else params.seed + len(texts)
            got, why, used = self._chat(messages, params, n=n, seed=seed)
            if n > 1 and len(got) < n:
                with self._lock:
                    self._n_supported = False
            texts += got[:missing]
            reasons += why[:missing]
            usage += used
            first = time.perf_counter() - started if first is None else first
        return Completion(
            texts=tuple(texts),
            usage=usage,
            model=self._model,
            latency_s=time.perf_counter() - started,
            # A non-streamed reply brings its first token with the rest: the wait for the first reply.
            time_to_first_token_s=first,
            finish_reasons=tuple(reasons),
        )

    def _chat(
        self, messages: Sequence[Message], params: SamplingParams, *, n: int, seed: int | None
    ) -> tuple[list[str], list[str], Usage]:
        def once(timeout: float, kwargs: dict[str, Any]) -> tuple[list[str], list[str], Usage]:
            return self._parse_chat(self._client.chat.completions.create(**kwargs, timeout=timeout), messages)

        return self._with_fallbacks(lambda: self._chat_kwargs(messages, params, n=n, seed=seed), once)

    def _chat_kwargs(
        self, messages: Sequence[Message], params: SamplingParams, *, n: int, seed: int | None
    ) -> dict[str, Any]:
        with self._lock:
            dropped, json_mode = set(self._dropped), self._json_mode
        kwargs: dict[str, Any] = {
            "model": self._model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            ("max_completion_tokens" if "max_tokens" in dropped else "max_tokens"): params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if n > 1:
            kwargs["n"] = n
        if seed is not None:
            kwargs["seed"] = seed
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if params.reasoning_effort is not None and "reasoning_effort" not in dropped:
            kwargs["reasoning_effort"] = params.reasoning_effort
        if params.json_schema is not None:
            if json_mode == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "output", "schema": params.json_schema, "strict": True},
                }
            else:  # llama.cpp server and Anyscale-style endpoints
                kwargs["response_format"] = {"type": "json_object", "schema": params.json_schema}
        if self._extra_body:
            kwargs["extra_body"] = dict(self._extra_body)
        return kwargs

    def _parse_chat(
        self, response: object, messages: Sequence[Message]
    ) -> tuple[list[str], list[str], Usage]:
        if not isinstance(response, ChatCompletion):
            # The SDK hands back the raw text when the body is not labelled JSON.
            raise MalformedOutputError(f"{self._where} answered with something other than a chat completion")
        choices = sorted(getattr(response, "choices", None) or [], key=lambda c: getattr(c, "index", 0))
        if not choices:
            raise MalformedOutputError(f"{self._where} answered with no choices")
        texts: list[str] = []
        reasons: list[str] = []
        for choice in choices:
            content = getattr(getattr(choice, "message", None), "content", None)
            if not isinstance(content, str):
                raise MalformedOutputError(f"{self._where} answered with no message content")
            texts.append(content)
            reasons.append(getattr(choice, "finish_reason", None) or "stop")
        return texts, reasons, self._usage(getattr(response, "usage", None), messages, texts)

    def _usage(self, raw: object, messages: Sequence[Message], texts: Sequence[str]) -> Usage:
        if raw is None:
            # The server reported no usage (some proxies and older servers): estimate it with
            # count_tokens so that budgets still move, if less exactly.
            prompt = sum(self.count_tokens(m["content"]) for m in messages)
            return Usage(prompt, sum(self.count_tokens(t) for t in texts), 0, 1)
        details = getattr(raw, "completion_tokens_details", None)
        prompt_details = getattr(raw, "prompt_tokens_details", None)  # vLLM, SGLang, llama-server, OpenAI
        return Usage(
            int(getattr(raw, "prompt_tokens", 0) or 0),
            int(getattr(raw, "completion_tokens", 0) or 0),
            int(getattr(details, "reasoning_tokens", 0) or 0),
            1,
            int(getattr(prompt_details, "cached_tokens", 0) or 0),
        )

    # -- prompt prefixes ------------------------------------------------------------

    def prepare_prefix(self, variants: Sequence[Sequence[Message]], *, owner: str) -> PrefixReport:
        """One ``max_tokens=1`` request with the first variant, so that a server with a prefix
        cache (vLLM ``--enable-prefix-caching``, SGLang, llama-server) holds the shared prefix
        when the questions come. ``cached_tokens`` is what the server says it already had."""
        started = time.perf_counter()
        completion = self.complete(variants[0], SamplingParams(max_tokens=1, temperature=0.0))
        used = completion.usage
        return PrefixReport(
            used.prompt_tokens,
            used.prompt_tokens - used.cached_tokens,
            time.perf_counter() - started,
            used.cached_tokens,
        )

    def retain_prefixes(self, owner: str, keep: Sequence[str]) -> int:
        """Nothing: the server evicts its cache itself."""
        return 0

    # -- streaming ------------------------------------------------------------------

    def stream(self, messages: Sequence[Message], params: SamplingParams) -> TextStream:
        """Text pieces of one choice. The returned stream also records usage, time to
        first token and latency once it is consumed. Opening the stream is retried; an
        error half-way is translated but not retried (pieces were already handed out)."""
        return TextStream(lambda out: self._stream_pieces(messages, params, out))

    def _stream_pieces(
        self, messages: Sequence[Message], params: SamplingParams, out: TextStream
    ) -> Iterator[str]:
        started = time.perf_counter()

        def kwargs() -> dict[str, Any]:
            values = self._chat_kwargs(messages, params, n=1, seed=params.seed)
            values["stream"] = True
            with self._lock:
                if "stream_options" not in self._dropped:
                    values["stream_options"] = {"include_usage": True}
            return values

        def once(timeout: float, values: dict[str, Any]) -> openai.Stream[Any]:
            opened = self._client.chat.completions.create(**values, timeout=timeout)
            if not isinstance(opened, openai.Stream):
                raise MalformedOutputError(f"{self._where} did not answer with an event stream")
            return opened

        events = self._with_fallbacks(kwargs, once)
        texts: list[str] = []
        try:
            with self._errors():
                for chunk in events:
                    if getattr(chunk, "usage", None) is not None:
                        out.usage = self._usage(chunk.usage, messages, ())
                    for choice in getattr(chunk, "choices", None) or []:
                        piece = getattr(getattr(choice, "delta", None), "content", None)
                        if getattr(choice, "index", 0) != 0 or not piece:
                            continue
                        if out.time_to_first_token_s is None:
                            out.time_to_first_token_s = time.perf_counter() - started
                        texts.append(piece)
                        yield piece
        finally:
            events.close()
        if out.usage is None:
            out.usage = self._usage(None, messages, ["".join(texts)])
        out.latency_s = time.perf_counter() - started

    # -- scoring --------------------------------------------------------------------

    def logprob(self, prefix: Sequence[Message], continuation: str) -> float:
        """Sum of log P(continuation tokens | prefix) from the legacy completions endpoint.

        The prefix is rendered as plain ``role: content`` lines and the continuation is
        appended as is (include any separator in it). vLLM and llama-cpp-python's server
        support this (``echo`` with ``logprobs``); OpenAI's chat models and llama.cpp's own
        server do not, which raises ``BackendError``.
        """
        if not continuation:
            return 0.0
        head = render_plain(prefix)
        text = head + continuation

        def once(timeout: float, kwargs: dict[str, Any]) -> float:
            response = self._client.completions.create(**kwargs, timeout=timeout)
            if not isinstance(response, TextCompletion):
                raise MalformedOutputError(f"{self._where} answered with something other than a completion")
            return continuation_logprob(response, len(head), len(text), where=self._where)

        # max_tokens=1, not 0: llama-cpp-python reads 0 as "no limit". The one generated
        # token is also how continuation_logprob checks the server's alignment.
        kwargs: dict[str, Any] = {"model": self._model, "prompt": text, "echo": True, "logprobs": 1}
        kwargs |= {"max_tokens": 1, "temperature": 0.0}
        if self._extra_body:
            kwargs["extra_body"] = dict(self._extra_body)
        try:
            return self._retrying(lambda timeout: once(timeout, kwargs))
        except BackendError as exc:
            if exc.retryable or not isinstance(exc.__cause__, openai.APIStatusError):
                raise
            raise BackendError(f"{exc.message}; scoring needs /v1/completions", hint=_SCORING_HINT) from exc

    # -- plumbing -------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"openai backend at {self.base_url}"

    def _errors(self) -> AbstractContextManager[None]:
        return map_backend_errors("openai", base_url=self.base_url, model=self._model, secrets=self._secrets)

    def _retrying(self, attempt: Callable[[float], T]) -> T:
        """``attempt(timeout)`` with retries; attempts and waits all end within
        ``timeout_s * max_retries`` because each attempt gets at most what is left."""
        budget = self._timeout_s * self._attempts
        deadline = time.monotonic() + budget

        def once() -> T:
            left = max(0.001, min(self._timeout_s, deadline - time.monotonic()))
            with self._errors():
                return attempt(left)

        return call_with_retries(
            once,
            attempts=self._attempts,
            base_delay=self._retry_base_delay,
            max_delay=self._retry_max_delay,
            deadline_s=budget,
        )

    def _with_fallbacks(
        self, kwargs: Callable[[], dict[str, Any]], attempt: Callable[[float, dict[str, Any]], T]
    ) -> T:
        """Retry a call once per optional parameter the server rejects (see _degrade)."""
        while True:
            values = kwargs()

            def once(timeout: float, values: dict[str, Any] = values) -> T:
                return attempt(timeout, values)

            try:
                return self._retrying(once)
            except BackendError as exc:
                if exc.retryable or not self._degrade(exc, values):
                    raise

    def _degrade(self, exc: BackendError, sent: dict[str, Any]) -> bool:
        """Whether a rejected request names an optional parameter we can do without.

        Each parameter degrades at most once (json_schema to json_object, then no
        further), so the loop in _with_fallbacks ends.
        """
        cause = exc.__cause__
        if not isinstance(cause, openai.APIStatusError):
            return False
        for name in _DEGRADABLE:
            if name not in sent or not _mentions(cause, name):
                continue
            with self._lock:
                if name == "response_format":
                    if self._json_mode != "json_schema":
                        return False
                    self._json_mode = "json_object"
                else:
                    self._dropped.add(name)
            return True
        return False

    def close(self) -> None:
        """Close the HTTP connections, if this model created the client."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> OpenAIModel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _mentions(exc: openai.APIStatusError, name: str) -> bool:
    """Whether a rejected request's error names parameter ``name``. This reads the SDK error, outside
    map_backend_errors, because it decides what to send next rather than what to raise."""
    if exc.param == name:
        return True
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("detail"), list):
        # FastAPI validation errors: look at where they point, not at the echoed input.
        return any(
            name in [str(p) for p in item.get("loc", [])] or name in str(item.get("msg", ""))
            for item in body["detail"]
            if isinstance(item, dict)
        )
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return name in str(body["error"].get("message", ""))
    return name in (json.dumps(body, default=str) if body is not None else exc.message)


__all__ = ["OpenAIModel", "TextStream", "continuation_logprob", "render_plain"]
