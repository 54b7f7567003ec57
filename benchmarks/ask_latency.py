"""Test-time cost of answering from a learned context versus the test-time-only baseline.

    .venv/bin/python benchmarks/ask_latency.py [--model default] [--verbosity-low 0] [--verbosity-high 4]

Uses the shipped quickstart examples: sleeps on each context once, then for every question measures
completion tokens, latency and time to first token for (a) learned context at the low verbosity and
(b) the baseline at the high verbosity. Prints JSON lines per question and a summary with medians.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
from pathlib import Path

from sleeptime import Budget, Engine
from sleeptime.cli.quickstart import load_examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--verbosity-low", type=int, default=0)
    parser.add_argument("--verbosity-high", type=int, default=4)
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp()) / "bench.db"
    engine = Engine(model=args.model, store=f"sqlite:///{db}")
    rows = []
    for example in load_examples(None):
        ctx = engine.add_context(example["text"])
        learned = engine.sleep(ctx.id)
        for qa in example["questions"]:
            fast = engine.ask(ctx.id, qa["question"], Budget(verbosity=args.verbosity_low))
            slow = engine.ask(
                ctx.id, qa["question"], Budget(verbosity=args.verbosity_high), use_learned=False
            )
            row = {
                "question": qa["question"],
                "sleep_tokens": learned.usage.completion_tokens,
                "learned_tokens": fast.usage.completion_tokens,
                "learned_latency_s": round(fast.latency_s, 3),
                "learned_ttft_s": round(fast.time_to_first_token_s or 0.0, 3),
                "baseline_tokens": slow.usage.completion_tokens,
                "baseline_latency_s": round(slow.latency_s, 3),
                "baseline_ttft_s": round(slow.time_to_first_token_s or 0.0, 3),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {
        key: statistics.median(r[key] for r in rows)
        for key in (
            "learned_tokens",
            "learned_latency_s",
            "learned_ttft_s",
            "baseline_tokens",
            "baseline_latency_s",
        )
    }
    summary["model"] = engine.model.name
    summary["questions"] = len(rows)
    summary["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps({"summary": summary}))
    engine.close()


if __name__ == "__main__":
    main()
