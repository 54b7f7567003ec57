"""The repetition guard: a generation that has fallen into a loop ends there.

Small models fall into loops ("= 100 (uncertain) = 100 (uncertain) ...", a rethink
note numbering "26. The number of trees ... 27. ..."), and a loop runs to
``max_tokens``: 768 tokens of a sleep round, ~40 s on 2 cores, for nothing. The
embedded model checks the tokens generated so far after each one and ends the
completion once its tail repeats one unit of up to ``MAX_PERIOD`` tokens over at
least ``MIN_SPAN`` tokens (and at least ``MIN_REPEATS`` times): long enough that
real text (a table, a list, a program) does not trip it. Greedy output up to
that point is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_PERIOD = 64
MIN_SPAN = 64
MIN_REPEATS = 4


def looping(tokens: Sequence[int]) -> bool:
    """Does ``tokens`` end in ``MIN_REPEATS`` or more copies of one unit, ``MIN_SPAN`` tokens at least?"""
    n = len(tokens)
    if n < MIN_SPAN:
        return False
    for period in range(1, MAX_PERIOD + 1):
        span = max(MIN_REPEATS * period, MIN_SPAN)
        if span > n:
            break
        tail = tokens[n - span :]
        if tail[period:] == tail[:-period]:
            return True
    return False


__all__ = ["looping"]
