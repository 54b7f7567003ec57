"""Does decoding several sequences in one ``llama_decode`` pay on this CPU?

    SLEEPTIME_N_THREADS=2 .venv/bin/python benchmarks/batched_decode.py [--model default]

Every embedded call today decodes one sequence, one token per ``llama_decode``. If a decode
step were bound by reading the weights (read once however many sequences it advances), n
sequences side by side would cost little more than one. The sleep's votes and a context's
step-by-step answers are such sequences: this measures what batching them would buy, before
anyone builds it (result and command in docs/benchmarks.md).

For each n in ``--batches``: n answer prompts on one context (different questions) are
evaluated, each in a sequence of its own, then ``--tokens`` greedy tokens are generated for
every sequence, all n advancing by one token per ``llama_decode``. Printed: generated tokens
per second for each n against n = 1 (today's path), and how many of the n sequences produce
exactly the greedy tokens they produce decoded alone (batched matrix products may round
differently).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time
from typing import Any

import numpy as np

from sleeptime import prompts
from sleeptime.llm import load_model
from sleeptime.llm.llamacpp import LlamaCppModel
from sleeptime.settings import load_settings

CONTEXT = (
    "A warehouse ships 240 crates a day from Monday to Friday and half as many on Saturday. "
    "Each crate holds 36 parts and weighs 18 kg when full. A truck carries at most 4,500 kg, "
    "costs $120 a trip, and the warehouse pays its 14 packers $21 an hour for 8-hour days."
)
QUESTIONS = (
    "How many crates does the warehouse ship in a week?",
    "How many parts does it ship on Saturday?",
    "How many truck trips does one weekday's shipment need?",
    "What does the warehouse pay its packers in a five-day week?",
    "How much does trucking cost for a whole week?",
    "How many kilograms does the warehouse ship on a weekday?",
)


class Batched:
    """A llama.cpp context of its own with room for ``n_seq`` sequences in one unified KV cache."""

    def __init__(self, path: str, n_seq: int, n_ctx: int, n_threads: int) -> None:
        from llama_cpp import llama_cpp as low

        self.low = low
        low.llama_backend_init()
        self.model = low.llama_model_load_from_file(path.encode(), low.llama_model_default_params())
        self.n_vocab = low.llama_vocab_n_tokens(low.llama_model_get_vocab(self.model))
        params = low.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_seq_max = n_ctx, 512, n_seq
        params.n_threads = params.n_threads_batch = n_threads
        params.kv_unified = True  # every sequence may use any cell, as a shared prefix would
        self.ctx = low.llama_init_from_model(self.model, params)
        self.batch = low.llama_batch_init(512, 0, n_seq)

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> None:
        """items: (token, position, sequence, wants logits)."""
        b = self.batch
        b.n_tokens = len(items)
        for i, (token, pos, seq, logits) in enumerate(items):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, 1, logits
            b.seq_id[i][0] = seq
        if self.low.llama_decode(self.ctx, b) != 0:
            raise RuntimeError("llama_decode failed")

    def _argmax(self, index: int) -> int:
        pointer = self.low.llama_get_logits_ith(self.ctx, index)
        row = np.ctypeslib.as_array(
            ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,)
        )
        return int(row.argmax())

    def generate(self, prompts_tokens: list[list[int]], tokens: int) -> tuple[list[list[int]], float]:
        """Greedy ``tokens`` for each prompt, all sequences per step; (outputs, decode seconds)."""
        self.low.llama_memory_clear(self.low.llama_get_memory(self.ctx), True)
        nexts: list[int] = []
        for seq, prompt in enumerate(prompts_tokens):
            for at in range(0, len(prompt), 512):
                chunk = prompt[at : at + 512]
                last = at + len(chunk) == len(prompt)
                self._decode([(t, at + j, seq, last and j == len(chunk) - 1) for j, t in enumerate(chunk)])
            nexts.append(self._argmax(len(chunk) - 1))  # the last chunk's last token
        outputs = [[t] for t in nexts]
        started = time.perf_counter()
        for step in range(1, tokens):
            self._decode(
                [
                    (out[-1], len(p) + step - 1, seq, True)
                    for seq, (p, out) in enumerate(zip(prompts_tokens, outputs, strict=True))
                ]
            )
            for seq, out in enumerate(outputs):
                out.append(self._argmax(seq))
        return outputs, time.perf_counter() - started

    def close(self) -> None:
        self.low.llama_batch_free(self.batch)
        self.low.llama_free(self.ctx)
        self.low.llama_model_free(self.model)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--batches", default="1,2,3,4,6", help="sequences decoded together")
    parser.add_argument("--tokens", type=int, default=96, help="greedy tokens per sequence")
    args = parser.parse_args()
    batches = [int(n) for n in args.batches.split(",")]
    if max(batches) > len(QUESTIONS):
        parser.error(f"at most {len(QUESTIONS)} sequences")
    settings = load_settings()
    chat: Any = load_model(args.model, settings)
    if not isinstance(chat, LlamaCppModel):
        parser.error("an embedded (.gguf) model is needed")
    prompt_tokens = [chat.prompt_tokens(prompts.answer_messages(CONTEXT, "", q, 4)) for q in QUESTIONS]
    path = str(chat.path)
    chat.close()
    threads = int(os.environ.get("SLEEPTIME_N_THREADS") or os.cpu_count() or 1)
    engine = Batched(path, max(batches), 4096, threads)
    try:
        alone = [engine.generate([p], args.tokens)[0][0] for p in prompt_tokens[: max(batches)]]
        rows = []
        for n in batches:
            outputs, seconds = engine.generate(prompt_tokens[:n], args.tokens)
            rate = n * (args.tokens - 1) / seconds
            same = sum(out == ref for out, ref in zip(outputs, alone[:n], strict=True))
            rows.append((n, seconds, rate, same))
    finally:
        engine.close()
    base = next(rate for n, _, rate, _ in rows if n == 1) if 1 in batches else rows[0][2]
    print(f"model {chat.name}, {threads} threads, {args.tokens} greedy tokens per sequence")
    print("| sequences | decode s | tokens / s | vs one | same tokens as alone |")
    print("|---|---|---|---|---|")
    for n, seconds, rate, same in rows:
        print(f"| {n} | {seconds:.1f} | {rate:.1f} | {rate / base:.2f}x | {same} / {n} |")


if __name__ == "__main__":
    main()
