"""Streamed text and echoed-prompt logprobs: the parts of the OpenAI backend that parse responses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from openai.types import Completion as TextCompletion

from ..errors import BackendError, MalformedOutputError
from .base import Usage

SCORING_HINT = (
    "use a server whose /v1/completions supports echo with logprobs (vLLM, llama-cpp-python) "
    "or the embedded llama.cpp backend"
)


class TextStream(Iterator[str]):
    """The text pieces of one streamed completion. ``usage``, ``time_to_first_token_s``
    and ``latency_s`` are filled in as it is consumed (usage and latency at the end)."""

    def __init__(self, pieces: Callable[[TextStream], Iterator[str]]) -> None:
        self.usage: Usage | None = None
        self.time_to_first_token_s: float | None = None
        self.latency_s: float | None = None
        self._pieces = pieces(self)

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        """Stop early and release the connection (also done when the pieces run out)."""
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> TextStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def continuation_logprob(response: TextCompletion, start: int, end: int, *, where: str) -> float:
    """Sum the logprobs of the tokens of an echoed prompt that overlap ``[start, end)``.

    A token straddling ``start`` counts: it carries continuation characters (the
    embedded backend likewise scores from the first token that differs).
    """
    if not response.choices:
        raise MalformedOutputError(f"{where} answered with no choices")
    choice = response.choices[0]
    lp = choice.logprobs
    offsets = getattr(lp, "text_offset", None)
    values = getattr(lp, "token_logprobs", None)
    tokens = getattr(lp, "tokens", None)
    if not offsets or values is None or tokens is None or min(offsets) >= end:
        raise BackendError(f"{where} returned no logprobs for the prompt (echo)", hint=SCORING_HINT)
    if len(choice.text or "") > end and offsets[-1] < end:
        # A token was generated but has no logprob entry: llama-cpp-python's server then
        # pairs every prompt token with the logits *after* it (abetlen/llama-cpp-python#1983;
        # it happens for models that add no BOS token), so the numbers are not P(token | prefix).
        # Undetectable when the model stops at once (nothing generated); rare at temperature 0.
        raise BackendError(
            f"{where} returned echo logprobs shifted by one token",
            hint="for llama-cpp-python's server add --kv_overrides tokenizer.ggml.add_bos_token=bool:true, "
            "or use vLLM or the embedded llama.cpp backend",
        )
    total = 0.0
    counted = 0
    for offset, value, token in zip(offsets, values, tokens, strict=False):
        if offset < end and offset + len(token) > start and value is not None:
            total += value
            counted += 1
    if counted == 0:
        raise MalformedOutputError(f"{where} returned no logprobs for the continuation")
    return total
