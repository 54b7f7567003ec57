"""The functions GSM-Symbolic template code may call, by name.

``common_functions()`` never samples; ``sampling_functions(rng)`` adds the ones
that draw from a ``random.Random``; ``enumerating_functions()`` replaces those
with versions returning every possible value (to list a variable's domain).
Numeric functions see through ``Labeled`` values.

Semantics follow Apple's released P2 instances (checked in
``tests/bench/test_templates.py``): ``range`` is Python's, end excluded;
``numbers_within(a, b)`` is a..b inclusive, as number words;
``sample_sequential`` takes consecutive items and wraps around the end.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from .expressions import ExpressionError, Function, Labeled, unwrap
from .vocab import number_words

TOLERANCE = 1e-6
MAX_DOMAIN = 1_000_000


def is_int(value: Any) -> bool:
    """True when ``value`` is a whole number (floats within 1e-9 relative count)."""
    value = unwrap(value)
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, Fraction):
        return value.denominator == 1
    if isinstance(value, float):
        return math.isfinite(value) and abs(value - round(value)) <= 1e-9 * max(1.0, abs(value))
    return False


def _exact(*values: Any) -> bool:
    return all(isinstance(v, int | Fraction) and not isinstance(v, bool) for v in values)


def divides(a: Any, b: Any) -> bool:
    """True when ``a / b`` is a whole number: ``divides(12, 4)``."""
    a, b = unwrap(a), unwrap(b)
    if not b:
        return False
    return is_int(Fraction(a) / Fraction(b) if _exact(a, b) else a / b)


def numbers_equal(a: Any, b: Any) -> bool:
    """Exact for ints and fractions, else equal within ``TOLERANCE``."""
    a, b = unwrap(a), unwrap(b)
    if _exact(a, b):
        return bool(a == b)
    try:
        return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    except (TypeError, ValueError):
        return False


def format_frac(value: Any) -> str:
    """A number as ``a/b`` (whole numbers plain)."""
    f = Fraction(unwrap(value)).limit_denominator(1000)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def arange(start: Any, stop: Any, step: Any = 1) -> list[Any]:
    """``numpy.arange`` as a list, floats rounded to 10 places (no binary noise)."""
    start, stop, step = unwrap(start), unwrap(stop), unwrap(step)
    if step == 0:
        raise ValueError("arange step is 0")
    count = max(0, math.ceil((stop - start) / step))
    if count > MAX_DOMAIN:
        raise ValueError("arange is too long")
    if _exact(start, stop, step):
        return [start + i * step for i in range(count)]
    return [round(start + i * step, 10) for i in range(count)]


def python_range(*args: Any) -> list[int]:
    r = range(*(unwrap(a) for a in args))
    if len(r) > MAX_DOMAIN:
        raise ValueError("range is too long")
    return list(r)


def numbers_within(low: Any, high: Any) -> list[Labeled]:
    return [Labeled(number_words(n), n) for n in range(unwrap(low), unwrap(high) + 1)]


def _numeric(function: Callable[..., Any]) -> Function:
    return lambda *args: function(*(unwrap(a) for a in args))


def _fraction(a: Any, b: Any = None) -> Fraction:
    a = unwrap(a)
    return Fraction(a) if b is None else Fraction(a, unwrap(b))


def common_functions() -> dict[str, Function]:
    """Functions that do not sample."""
    return {
        "int": _numeric(int),
        "float": _numeric(float),
        "round": _numeric(round),
        "abs": _numeric(abs),
        "min": _numeric(min),
        "max": _numeric(max),
        "len": len,
        "str": str,
        "list": list,
        "tuple": tuple,
        "Fraction": _fraction,
        "is_int": is_int,
        "divides": divides,
        "format_frac": format_frac,
        "fix_floats": lambda values: [round(unwrap(v), 2) for v in values],
        "np.arange": arange,
        "frange": arange,
        "numbers_within": numbers_within,
        "range": python_range,
    }


def sampling_functions(rng: random.Random) -> dict[str, Function]:
    """``common_functions`` plus the ones that draw from ``rng``."""

    def sample(values: Sequence[Any], k: Any = None) -> Any:
        values = list(values)
        return rng.choice(values) if k is None else rng.sample(values, unwrap(k))

    def sample_sequential(values: Sequence[Any], k: Any) -> list[Any]:
        values = list(values)
        start = rng.randrange(len(values))
        return [values[(start + i) % len(values)] for i in range(unwrap(k))]

    def shuffle_list(values: Sequence[Any]) -> list[Any]:
        out = list(values)
        rng.shuffle(out)
        return out

    def randint(low: Any, high: Any, size: Any = None) -> Any:
        if size is None:
            return rng.randrange(unwrap(low), unwrap(high))
        return [rng.randrange(unwrap(low), unwrap(high)) for _ in range(unwrap(size))]

    return common_functions() | {
        "sample": sample,
        "sample_sequential": sample_sequential,
        "shuffle_list": shuffle_list,
        "np.random.randint": randint,
    }


def enumerating_functions() -> dict[str, Function]:
    """``common_functions`` plus versions of the sampling ones that return every
    possible single value (multi-samples cannot be enumerated this way)."""

    def sample(values: Sequence[Any], k: Any = None) -> list[Any]:
        if k is not None:
            raise ExpressionError("cannot enumerate a multi-sample")
        return list(values)

    def not_enumerable(*args: Any) -> Any:
        raise ExpressionError("cannot enumerate sample_sequential")

    return common_functions() | {
        "sample": sample,
        "sample_sequential": not_enumerable,
        "shuffle_list": list,
        "np.random.randint": lambda low, high, size=None: python_range(low, high),
    }


__all__ = [
    "arange",
    "common_functions",
    "divides",
    "enumerating_functions",
    "format_frac",
    "is_int",
    "numbers_equal",
    "numbers_within",
    "sampling_functions",
]
