"""call_with_retries with a fake clock: exact waits, hard stops, what is never retried."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sleeptime.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigurationError,
    MalformedOutputError,
    RateLimitedError,
    SleeptimeError,
)
from sleeptime.llm.retry import backoff_delay, call_with_retries


class FakeTime:
    """A clock that only moves when someone sleeps (or a call is said to take time)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(*errors: BaseException, result: str = "ok", cost_s: float = 0.0, clock: FakeTime | None = None):
    """A callable raising ``errors`` in turn, then returning ``result``; counts its calls."""
    pending = list(errors)
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if clock is not None:
            clock.now += cost_s
        if pending:
            raise pending.pop(0)
        return result

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def run(fn: Callable[[], str], t: FakeTime, rng: float = 1.0, **kwargs: object) -> str:
    return call_with_retries(fn, sleep=t.sleep, clock=t.clock, rng=lambda: rng, **kwargs)  # type: ignore[arg-type]


def test_returns_first_success_without_sleeping() -> None:
    t = FakeTime()
    fn = failing()
    assert run(fn, t) == "ok"
    assert len(fn.calls) == 1 and t.sleeps == []


def test_exponential_backoff_exact_waits() -> None:
    t = FakeTime()
    fn = failing(BackendUnavailableError("a"), BackendTimeoutError("b"), MalformedOutputError("c"))
    assert run(fn, t, attempts=4, base_delay=0.5) == "ok"
    assert t.sleeps == [0.5, 1.0, 2.0]
    assert len(fn.calls) == 4


def test_jitter_scales_each_wait_into_half_to_full() -> None:
    t = FakeTime()
    fn = failing(BackendUnavailableError("a"), BackendUnavailableError("b"))
    run(fn, t, rng=0.0, attempts=3, base_delay=1.0)
    assert t.sleeps == [0.5, 1.0]


def test_waits_are_capped_by_max_delay() -> None:
    t = FakeTime()
    fn = failing(*[BackendUnavailableError("x") for _ in range(5)])
    run(fn, t, attempts=6, base_delay=1.0, max_delay=3.0)
    assert t.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_gives_up_after_attempts_and_reraises_the_last_error() -> None:
    t = FakeTime()
    last = BackendTimeoutError("third")
    fn = failing(BackendUnavailableError("first"), BackendUnavailableError("second"), last)
    with pytest.raises(BackendTimeoutError) as info:
        run(fn, t, attempts=3, base_delay=0.1)
    assert info.value is last
    assert len(fn.calls) == 3
    assert len(t.sleeps) == 2


def test_retry_after_is_honoured_and_capped() -> None:
    t = FakeTime()
    fn = failing(RateLimitedError("slow", retry_after=7.0), RateLimitedError("slow", retry_after=60.0))
    run(fn, t, attempts=3, base_delay=0.5, max_delay=20.0)
    assert t.sleeps == [7.0, 20.0]


def test_rate_limit_without_retry_after_backs_off_normally() -> None:
    t = FakeTime()
    run(failing(RateLimitedError("slow")), t, base_delay=0.25)
    assert t.sleeps == [0.25]


@pytest.mark.parametrize(
    "exc",
    [
        BackendError("bad request"),
        ConfigurationError("no key"),
        SleeptimeError("root"),
        TypeError("programmer error"),
        KeyError("x"),
    ],
)
def test_non_retryable_errors_propagate_at_once(exc: BaseException) -> None:
    t = FakeTime()
    fn = failing(exc)
    with pytest.raises(type(exc)) as info:
        run(fn, t)
    assert info.value is exc
    assert len(fn.calls) == 1 and t.sleeps == []


def test_deadline_stops_before_a_wait_that_would_pass_it() -> None:
    t = FakeTime()
    # Each call takes 2 s; waits 1, 2, 4 ... The deadline of 6 s allows call (2 s),
    # wait 1, call (5 s in), and then a 2 s wait would end at 7 s: stop there.
    fn = failing(*[BackendUnavailableError("down") for _ in range(10)], cost_s=2.0, clock=t)
    start = t.now
    with pytest.raises(BackendUnavailableError):
        run(fn, t, attempts=10, base_delay=1.0, deadline_s=6.0)
    assert len(fn.calls) == 2
    assert t.sleeps == [1.0]
    assert t.now - start <= 6.0


def test_deadline_hard_stop_even_with_huge_attempts() -> None:
    t = FakeTime()
    fn = failing(*[BackendUnavailableError("down") for _ in range(10_000)], cost_s=0.01, clock=t)
    start = t.now
    with pytest.raises(BackendUnavailableError):
        run(fn, t, attempts=10_000, base_delay=0.01, max_delay=0.05, deadline_s=1.0)
    # Waits never cross the deadline; only the call already running may (callers bound it).
    assert t.now - start <= 1.0 + 0.01
    assert len(fn.calls) < 100


def test_retry_after_longer_than_the_deadline_gives_up_at_once() -> None:
    t = FakeTime()
    fn = failing(RateLimitedError("slow", retry_after=30.0))
    with pytest.raises(RateLimitedError):
        run(fn, t, max_delay=60.0, deadline_s=10.0)
    assert t.sleeps == []


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        call_with_retries(lambda: "x", attempts=0)


def test_backoff_delay_formula() -> None:
    err = BackendUnavailableError("x")
    assert [backoff_delay(k, err, base_delay=0.5, max_delay=20.0, jitter=1.0) for k in (1, 2, 3, 4)] == [
        0.5,
        1.0,
        2.0,
        4.0,
    ]
    assert backoff_delay(3, err, base_delay=0.5, max_delay=20.0, jitter=0.5) == 1.5
    assert backoff_delay(9, RateLimitedError("x", retry_after=-3), base_delay=1, max_delay=5, jitter=1) == 0.0


def test_default_sleep_is_real_but_short() -> None:
    fn = failing(BackendUnavailableError("x"))
    assert call_with_retries(fn, base_delay=0.001) == "ok"
