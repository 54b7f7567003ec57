"""Store throughput and memory: contexts added, versions bumped and queries recorded per second.

    .venv/bin/python benchmarks/store_throughput.py [--url sqlite:///tmp/b.db] [--n 2000]

Prints one JSON line per operation. No model is involved; this bounds what the store adds to a request.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import uuid
from pathlib import Path

from sleeptime.llm.base import Usage
from sleeptime.store import QueryRecord, open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None, help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--n", type=int, default=2000, help="operations per kind")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    store = open_store(url)
    text = "A shop sells 3 pens for $2 and 5 pencils for $1. " * 20

    started = time.perf_counter()
    ids = [store.add_context(text, {"i": i}).id for i in range(args.n)]
    report("add_context", args.n, time.perf_counter() - started, url)

    started = time.perf_counter()
    for i, context_id in enumerate(ids):
        store.update_context(context_id, text + f" Version {i}.")
    report("update_context", args.n, time.perf_counter() - started, url)

    started = time.perf_counter()
    for context_id in ids:
        store.record_query(
            QueryRecord(
                id=uuid.uuid4().hex[:16],
                context_id=context_id,
                context_version=2,
                question="How much?",
                answer="The answer is 4.",
                usage=Usage(300, 8, 0, 1),
                latency_s=0.5,
                model="bench",
                source="raw",
            )
        )
    report("record_query", args.n, time.perf_counter() - started, url)

    started = time.perf_counter()
    for context_id in ids:
        store.get_context(context_id)
        store.latest_learned(context_id, 2)
    report("get_context+latest_learned", args.n, time.perf_counter() - started, url)
    store.close()


def report(op: str, n: int, seconds: float, url: str) -> None:
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "op": op,
                "n": n,
                "per_second": round(n / seconds, 1),
                "ms_each": round(1000 * seconds / n, 3),
                "store": url.split(":")[0],
                "max_rss_mb": round(rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
