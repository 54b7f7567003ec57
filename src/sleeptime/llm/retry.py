"""Retrying a backend call: exponential backoff with jitter and a hard stop.

Only a ``SleeptimeError`` whose ``retryable`` is True is retried (the error tree
decides, never message text); everything else propagates at once. A short loop
rather than tenacity: the deadline needs an injectable clock and the wait needs
``RateLimitedError.retry_after``, which would mean replacing most of tenacity's
parts, and the loop is easier to read than that configuration.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import RateLimitedError, SleeptimeError

T = TypeVar("T")

log = logging.getLogger(__name__)


def backoff_delay(
    retry: int,
    error: SleeptimeError,
    *,
    base_delay: float,
    max_delay: float,
    jitter: float,
) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first retry).

    ``jitter`` is a number in [0, 1] (``random.random()``): the exponential step
    ``base_delay * 2**(retry - 1)`` is scaled into [half, full] of itself, so that
    clients that failed together do not all come back together. A server's
    ``retry_after`` is taken as given (it knows better than our guess), capped by
    ``max_delay``.
    """
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        return min(max_delay, max(0.0, error.retry_after))
    step = min(max_delay, base_delay * 2.0 ** (retry - 1))
    return step * (0.5 + 0.5 * jitter)


def call_with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 4,
    base_delay: float = 0.5,
    max_delay: float = 20.0,
    deadline_s: float | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[], float] = random.random,
) -> T:
    """``fn()``, retried while it raises a retryable ``SleeptimeError``.

    Stops after ``attempts`` calls, or earlier when waiting for the next one
    would end past ``deadline_s`` seconds from the start; then the last error is
    re-raised unchanged. A call already running is not interrupted: callers bound
    each attempt with their own time-out (see ``OpenAIModel``).
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    deadline = None if deadline_s is None else clock() + deadline_s
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except SleeptimeError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = backoff_delay(attempt, exc, base_delay=base_delay, max_delay=max_delay, jitter=rng())
            if deadline is not None and clock() + delay >= deadline:
                log.info("giving up after %d attempt(s): the deadline would pass", attempt)
                raise
            log.info(
                "attempt %d/%d failed (%s); retry in %.2fs", attempt, attempts, type(exc).__name__, delay
            )
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


__all__ = ["backoff_delay", "call_with_retries"]
