"""Queries before sleep: who may use a model that runs one call at a time.

An embedded model is one object: a sleep run and a question cannot use it at
once. Calls made inside ``with background():`` (``Engine.sleep`` makes its
calls so) hold the model's ``PriorityLock`` at low priority: they only get it
when no query is waiting, and between two tokens they call
``yield_to_queries``, which hands the model to every waiting query and then
takes it back. Everything else is a query.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar("sleeptime_background", default=False)


@contextmanager
def background() -> Iterator[None]:
    """Model calls in this block (in this thread) give way to queries."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def in_background() -> bool:
    return _BACKGROUND.get()


class PriorityLock:
    """A reentrant lock where queries (foreground holders) go before background work.

    Reentrant per thread, but the last release may come from another thread: a
    streamed answer's generator can be finished by a different worker thread.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._queries_waiting = 0
        self._preemptions = 0

    @contextmanager
    def hold(self, *, background: bool | None = None) -> Iterator[None]:
        low = in_background() if background is None else background
        self._acquire(low)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, low: bool) -> None:
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return
            if not low:
                self._queries_waiting += 1
            try:
                self._cond.wait_for(lambda: self._owner is None and (not low or self._queries_waiting == 0))
            finally:
                if not low:
                    self._queries_waiting -= 1
            self._owner, self._depth = me, 1

    def _release(self) -> None:
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()

    @property
    def queries_waiting(self) -> int:
        return self._queries_waiting

    @property
    def preemptions(self) -> int:
        """How often background work has given the model to queries (for tests and benchmarks)."""
        return self._preemptions

    def yield_to_queries(self, suspend: Callable[[], T], resume: Callable[[T], None]) -> bool:
        """If queries wait: ``suspend()`` (still holding the lock), let them all run, take the
        lock back and ``resume(what suspend returned)``. False (and nothing done) if none wait.
        Only the holder may call it."""
        if not self._queries_waiting:  # unlocked read: at worst one more token before yielding
            return False
        saved = suspend()
        me = threading.get_ident()
        with self._cond:
            depth, self._owner, self._depth = self._depth, None, 0
            self._preemptions += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._owner is None and self._queries_waiting == 0)
            self._owner, self._depth = me, depth
        resume(saved)
        return True


def background_work(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a function whose model calls are background work (``Engine.sleep``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with background():
            return func(*args, **kwargs)

    return wrapper


def yields_to_queries(llm: object) -> bool:
    """Whether ``llm`` hands itself to waiting queries between tokens, so that nobody needs to
    hold background work back before a call (``scheduler.worker.GatedLLM``)."""
    return isinstance(getattr(llm, "lock", None), PriorityLock)
