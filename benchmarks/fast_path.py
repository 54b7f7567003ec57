"""The query path before and after prompt states and preemption, side by side in one table.

    SLEEPTIME_N_THREADS=2 .venv/bin/python benchmarks/fast_path.py [--model default]

"old" is today's path without this work: no saved prompt states (llama.cpp only reuses
what its context still holds from the previous call) and sleep calls that keep the model
for a whole call. "new" restores the prefix state computed at sleep time, and sleep calls
run in ``background()``, handing the model to queries between tokens.

1. time to first token (median of --repeats) of the first question on a context, right after
   another context was used, for answer prompt prefixes of about 500 to 4,000 tokens;
2. restoring a 2,000-token state from a warm disk cache (file read + llama.cpp load);
3. p50/p99 latency of questions asked one after another while sleep calls run on the
   same model, against the same questions with no sleep running; the sleep's greedy
   output with preemption is compared with its uninterrupted output;
4. memory: the state set aside while a sleep is preempted, against a second llama.cpp
   context on the same (memory-mapped) weights.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sleeptime import prompts
from sleeptime.llm import load_model
from sleeptime.llm.base import SamplingParams
from sleeptime.llm.kv_state import get_sequence, set_sequence
from sleeptime.llm.llamacpp import LlamaCppModel
from sleeptime.llm.priority import background
from sleeptime.llm.prompt_state import PromptStateCache
from sleeptime.settings import load_settings

ANSWER = SamplingParams(max_tokens=8, temperature=0.0)
QUESTION = "Which district holds the most crates of part 5?"
# Consecutive questions differ from their first word on, as real ones do: with questions that share
# their first words, a question with no sleep running reuses them from the one before (llama.cpp keeps
# the last prompt), while after a sleep held the model it evaluates them again, which the idle p99 would
# hide (runs before 2026-12-07 asked "How many crates in record {i}?" each time).
QUESTIONS_DURING_SLEEP = (
    "How many crates does record {i} store?",
    "Which district stores record {i}?",
    "What part is in record {i}?",
    "Is record {i} in district 3?",
    "Name the part that record {i} stores.",
    "Where are the crates of record {i}?",
    "Count the crates of record {i}.",
    "Does record {i} store more than 50 crates?",
)


def filler(model: LlamaCppModel, tokens: int, seed: int) -> str:
    """A context of about ``tokens`` tokens (facts with numbers, different per seed)."""
    lines: list[str] = []
    i = seed * 1000
    while True:
        i += 1
        lines.append(f"Record {i}: district {i % 7} stores {i * 13 % 97} crates of part {i * 7 % 31}.")
        if len(lines) % 10 == 0 and model.count_tokens("\n".join(lines)) >= tokens:
            return "\n".join(lines)


def ttft(model: LlamaCppModel, context: str, question: str = QUESTION) -> float:
    completion = model.complete(prompts.answer_messages(context, "", question, 0), ANSWER)
    assert completion.time_to_first_token_s is not None
    return completion.time_to_first_token_s


def first_question_ttft(model: LlamaCppModel, other: str, context: str, repeats: int) -> float:
    """Median time to first token on ``context`` asked right after a question on ``other``
    (so its prefix is not what the model evaluated last): one sample is at the mercy of a
    shared machine's noise, the median of a few is not."""
    samples = []
    for _ in range(repeats):
        ttft(model, other)
        samples.append(ttft(model, context))
    return statistics.median(samples)


def prefill_rows(
    model: LlamaCppModel, cache: PromptStateCache, lengths: list[int], repeats: int
) -> tuple[list[list[str]], dict[int, str]]:
    other = filler(model, 200, seed=99)
    rows: list[tuple[str, float, float]] = []
    contexts: dict[int, str] = {}
    for length in lengths:
        context = contexts[length] = filler(model, length - 90, seed=length)  # ~90 prompt tokens around it
        model.prompt_cache = None
        old = first_question_ttft(model, other, context, 1)  # a full prefill each time: one is enough
        model.prompt_cache = cache
        report = model.prepare_prefix(prompts.answer_prefix_messages(context, ""), owner=f"len{length}")
        new = first_question_ttft(model, other, context, repeats)
        rows.append((f"first question after another context, {report.tokens}-token prefix", old, new))
        print(
            f"  prefix {report.tokens}: old {old:.2f} s, new {new:.2f} s (median of {repeats}; "
            f"warm-up {report.seconds:.1f} s)",
            flush=True,
        )
    table = [[r[0], f"{r[1]:.2f} s", f"{r[2]:.2f} s", f"{r[1] / r[2]:.1f}x lower"] for r in rows]
    growth = rows[-1][2] / rows[0][2]
    table.append(
        [
            "time to first token, longest / shortest prefix",
            f"{rows[-1][1] / rows[0][1]:.1f}x",
            f"{growth:.1f}x",
            "",
        ]
    )
    return table, contexts


def restore_row(model: LlamaCppModel, cache_dir: Path, context: str) -> list[list[str]]:
    """Restore the saved prefix of ``context`` from files only (no RAM copy), several times."""
    disk = PromptStateCache(cache_dir, 1 << 40, ram_bytes=0)
    tokens = model.prompt_tokens(prompts.answer_messages(context, "", QUESTION, 0))
    llama: Any = model._llama
    times, size, n = [], 0, 0
    for _ in range(6):
        with model.lock.hold():
            started = time.perf_counter()
            found = disk.lookup(model.model_sha256, model.context_window, tokens)
            assert found is not None
            key, data = found
            assert set_sequence(llama, data, key.tokens)
            times.append(time.perf_counter() - started)
            size, n = len(data), len(key.tokens)
    again = statistics.median(times[1:])
    first_ms, again_ms = times[0] * 1000, again * 1000
    print(f"  restore {n} tokens ({size / 2**20:.0f} MiB): first {first_ms:.0f} ms, again {again_ms:.0f} ms")
    what = f"restore a {n}-token state ({size / 2**20:.0f} MiB) from warm disk"
    return [
        [f"{what}, first read (checksum verified)", "-", f"{times[0] * 1000:.0f} ms", ""],
        [f"{what}, later reads (median of 5)", "-", f"{again * 1000:.0f} ms", ""],
    ]


def sleep_rows(
    model: LlamaCppModel, questions: int, sleep_tokens: int
) -> tuple[list[list[str]], dict[str, str]]:
    sleep_prompt = prompts.sleep_first_round(filler(model, 600, seed=3))
    params = SamplingParams(max_tokens=sleep_tokens, temperature=0.0)
    query_context = filler(model, 150, seed=5)
    model.prepare_prefix(prompts.answer_prefix_messages(query_context, ""), owner="queries")
    reference = model.complete(sleep_prompt, params).text
    memory: dict[str, str] = {}

    def ask_many() -> list[float]:
        latencies = []
        for i in range(questions):
            started = time.perf_counter()
            question = QUESTIONS_DURING_SLEEP[i % len(QUESTIONS_DURING_SLEEP)].format(i=i)
            model.complete(prompts.answer_messages(query_context, "", question, 0), ANSWER)
            latencies.append(time.perf_counter() - started)
            time.sleep(0.3)
        return latencies

    def with_sleep(preempt: bool) -> tuple[list[float], list[str]]:
        stop, texts = threading.Event(), []

        def sleeper() -> None:
            while not stop.is_set():
                if preempt:
                    with background():
                        texts.append(model.complete(sleep_prompt, params).text)
                else:  # the old QueryGate: wait for queries before a call, then keep the model for all of it
                    while model.lock.queries_waiting:
                        time.sleep(0.005)
                    texts.append(model.complete(sleep_prompt, params).text)

        thread = threading.Thread(target=sleeper)
        thread.start()
        time.sleep(1.0)
        latencies = ask_many()
        stop.set()
        thread.join()
        return latencies, texts

    idle = ask_many()
    old, _ = with_sleep(preempt=False)
    before = model.lock.preemptions
    new, texts = with_sleep(preempt=True)
    same = all(text == reference for text in texts)
    memory["preemptions"] = str(model.lock.preemptions - before)
    memory["same_notes"] = f"{sum(t == reference for t in texts)} of {len(texts)} preempted sleep calls"

    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    rows = [
        [f"question latency p50, no sleep running ({questions} questions)", f"{p(idle, 0.5):.2f} s", "", ""],
        [f"question latency p99, no sleep running ({questions} questions)", f"{p(idle, 0.99):.2f} s", "", ""],
        ["question latency p50 while sleep calls run", f"{p(old, 0.5):.2f} s", f"{p(new, 0.5):.2f} s", ""],
        ["question latency p99 while sleep calls run", f"{p(old, 0.99):.2f} s", f"{p(new, 0.99):.2f} s", ""],
        [
            "p99 during sleep / p99 with no sleep",
            f"{p(old, 0.99) / p(idle, 0.99):.1f}x",
            f"{p(new, 0.99) / p(idle, 0.99):.1f}x",
            "",
        ],
        [
            "preempted sleep output equals uninterrupted (greedy)",
            "",
            "yes" if same else "NO",
            memory["same_notes"],
        ],
    ]
    return rows, memory


def memory_rows(model: LlamaCppModel) -> list[list[str]]:
    """A suspended sleep's state against a second context on the same model object."""
    from llama_cpp import _internals

    llama: Any = model._llama
    with model.lock.hold():
        llama.reset()
        llama.eval(llama.tokenize(b"x " * 1000, add_bos=False))
        state = len(get_sequence(llama))
        before = rss_mib()
        second = _internals.LlamaContext(model=llama._model, params=llama.context_params, verbose=False)
        batch = _internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=1, verbose=False)
        batch.set_batch(llama.tokenize(b"x " * 500, add_bos=False), n_past=0, logits_all=False)
        second.decode(batch)
        grown = rss_mib() - before
        second.close()  # type: ignore[no-untyped-call]
        batch.close()  # type: ignore[no-untyped-call]
        llama.reset()
    return [
        [
            "memory to keep a preempted 1,000-token sleep (its sequence state)",
            "",
            f"{state / 2**20:.0f} MiB",
            "",
        ],
        [
            f"memory of a second llama.cpp context, n_ctx {model.context_window} (RSS growth)",
            "",
            f"{grown:.0f} MiB",
            "not used",
        ],
    ]


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--lengths", default="500,2000,4000", help="prefix lengths in tokens")
    parser.add_argument("--repeats", type=int, default=5, help="first-question samples per length (median)")
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--sleep-tokens", type=int, default=120, help="max_tokens of one sleep call")
    args = parser.parse_args()
    settings = load_settings()
    model = load_model(args.model, settings)
    assert isinstance(model, LlamaCppModel), "the fast path is the embedded llama.cpp model's"
    cache_dir = Path(tempfile.mkdtemp(prefix="sleeptime-fast-path-"))
    cache = PromptStateCache(cache_dir, 4 << 30)
    model.prompt_cache = cache
    started = time.perf_counter()
    print(f"model {model.name}, n_ctx {model.context_window}, threads {settings.n_threads or 'all'}")
    lengths = [int(x) for x in args.lengths.split(",")]
    rows, contexts = prefill_rows(model, cache, lengths, args.repeats)
    rows += restore_row(model, cache_dir, contexts[min(lengths, key=lambda n: abs(n - 2000))])
    more, _ = sleep_rows(model, args.questions, args.sleep_tokens)
    rows += more
    rows += memory_rows(model)
    print("\n| measurement | old path | new path | ratio / note |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    model.close()


if __name__ == "__main__":
    main()
