"""The paper's cost model, in one place: what a query costs when sleep-time work is shared.

Only generated (completion) tokens count. A test-time token costs ``t`` times a
sleep-time token (latency-optimized serving is dearer; the paper uses t = 10),
and the sleep-time tokens of one context are shared by the N queries asked
about it::

    cost per query = t x test_tokens + sleep_tokens / N

Sleeping pays for itself after N queries when answering from the learned context
is cheaper by enough: ``t x test_raw >= t x test_learned + sleep / N``
(``break_even``). The quickstart, the scheduler's ``/stats`` break-even and the
benchmark's amortization table all use these functions and this default.
"""

from __future__ import annotations

import math

DEFAULT_T = 10.0


def cost_per_query(test_tokens: float, sleep_tokens: float, n_queries: int, t: float = DEFAULT_T) -> float:
    """``t * test_tokens + sleep_tokens / n_queries`` for one query among ``n_queries`` on a context."""
    if n_queries < 1:
        raise ValueError(f"n_queries must be at least 1, not {n_queries}")
    if t < 0 or test_tokens < 0 or sleep_tokens < 0:
        raise ValueError("t and token counts must not be negative")
    return t * test_tokens + sleep_tokens / n_queries


def break_even(
    sleep_tokens: int, learned_avg: float | None, raw_avg: float | None, t: float = DEFAULT_T
) -> int | None:
    """The fewest queries after which sleeping paid for itself (the smallest N with
    ``cost_per_query(learned_avg, sleep_tokens, N, t) <= t * raw_avg``); None if answers from the
    learned context are not cheaper than from the raw one (or either is unknown)."""
    if learned_avg is None or raw_avg is None:
        return None
    saving = t * (raw_avg - learned_avg)
    if saving <= 0:
        return None
    return max(1, math.ceil(sleep_tokens / saving)) if sleep_tokens else 0


__all__ = ["DEFAULT_T", "break_even", "cost_per_query"]
