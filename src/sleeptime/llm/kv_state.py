"""The llama.cpp side of prompt states: one sequence's KV cache out of and into a context.

Only sequence 0 is used. ``llama_state_seq_get_data`` copies that sequence's KV
cells (about 28 KiB a token for Qwen2.5-1.5B), not the logits array that
``Llama.save_state`` also copies (n_vocab floats a position). ``hooked_llama``
is ``llama_cpp.Llama`` with two hooks in ``generate``, the one loop every
completion goes through: before the prompt is evaluated (to restore a saved
prefix, or capture the prompt's tokens) and between two generated tokens (to
give the model to a waiting query, or end a loop: ``repetition.py``).
``llama_cpp`` is imported only here and in ``llamacpp``, and only when a model
is loaded.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .repetition import looping


class Hooks(Protocol):
    def on_prompt(self, llama: Any, tokens: list[int]) -> None: ...

    def on_token(self, llama: Any) -> None: ...

    def between_tokens(self, llama: Any) -> None: ...


class Captured(Exception):
    """Raised from ``generate`` instead of evaluating, to learn a chat prompt's exact tokens."""

    def __init__(self, tokens: list[int]) -> None:
        super().__init__("prompt captured")
        self.tokens = tokens


@functools.cache
def hooked_llama() -> type:
    from llama_cpp import Llama

    class HookedLlama(Llama):
        hooks: Hooks | None = None
        looped = False  # the last generation was ended by the repetition guard

        def generate(  # type: ignore[override]
            self, tokens: Sequence[int], *args: Any, **kwargs: Any
        ) -> Iterator[int]:
            hooks, tokens = self.hooks, list(tokens)
            if hooks is None:
                yield from super().generate(tokens, *args, **kwargs)
                return
            hooks.on_prompt(self, tokens)
            self.looped = False
            generated: list[int] = []
            inner = super().generate(tokens, *args, **kwargs)
            try:
                for token in inner:
                    hooks.on_token(self)
                    yield token
                    generated.append(token)
                    if looping(generated):
                        # An end-of-generation token makes the library finish the completion with
                        # the text so far, as if the model had stopped there.
                        self.looped = True
                        yield self.token_eos()
                        return
                    # The library's generator sits after sampling, before decoding this token.
                    hooks.between_tokens(self)
            finally:
                inner.close()

    return HookedLlama


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    import numpy as np

    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.nonzero(np.asarray(a[:n], dtype=np.intc) != np.asarray(b[:n], dtype=np.intc))[0]
    return int(diff[0]) if len(diff) else n


def cached_prefix(llama: Any, tokens: Sequence[int]) -> int:
    """How many of ``tokens`` the context already holds (what ``generate`` will reuse)."""
    return common_prefix(llama.input_ids[: llama.n_tokens], tokens)


def get_sequence(llama: Any) -> bytearray:
    """Sequence 0's state (KV cells and positions) as bytes."""
    from llama_cpp import llama_cpp as low

    size = low.llama_state_seq_get_size(llama._ctx.ctx, 0)
    data = bytearray(size)
    buffer = (ctypes.c_uint8 * size).from_buffer(data)
    written = low.llama_state_seq_get_data(llama._ctx.ctx, buffer, size, 0)
    del buffer  # release the export, so the bytearray can be resized
    return data[:written] if written != size else data


def set_sequence(llama: Any, data: bytearray, tokens: Sequence[int]) -> bool:
    """Load ``data`` (made for ``tokens``) into sequence 0; False if llama.cpp refuses it,
    and then the context holds nothing (a full evaluation follows)."""
    from llama_cpp import llama_cpp as low

    buffer = (ctypes.c_uint8 * len(data)).from_buffer(data)
    loaded = low.llama_state_seq_set_data(llama._ctx.ctx, buffer, len(data), 0)
    del buffer
    if not loaded:
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        llama.n_tokens = 0
        llama._requires_eval = True
        return False
    llama.input_ids[: len(tokens)] = tokens
    llama.n_tokens = len(tokens)
    llama._requires_eval = True  # no logits came with the state: generate decodes again
    return True


@dataclass
class Suspended:
    """A generation set aside while queries use the model."""

    data: bytearray
    tokens: list[int]
    sampler: Any
    requires_eval: bool


def suspend(llama: Any) -> Suspended:
    tokens = llama.input_ids[: llama.n_tokens].tolist()
    return Suspended(get_sequence(llama), tokens, llama._sampler, llama._requires_eval)


def resume(llama: Any, saved: Suspended) -> None:
    from ..errors import BackendError

    if not set_sequence(llama, saved.data, saved.tokens):
        raise BackendError("llama.cpp refused a generation's own saved state; the sleep call is retried")
    llama._sampler = saved.sampler  # the query replaced it; ours holds the grammar's state
    llama._requires_eval = saved.requires_eval
