"""A small, safe evaluator for the expressions in GSM-Symbolic templates.

Templates carry Python-looking code (``#init``, ``#conditions``, ``#answer`` and
the ``{expr}`` slots of the worked answer). It is evaluated by walking the
``ast`` with a whitelist: literals, names, arithmetic, comparisons, boolean
operators, ``x if c else y``, subscripts and slices, list/tuple literals and
calls to functions the caller hands in by name (dotted names such as
``np.arange`` included). Nothing else: no attribute access on values, no
lambdas, no comprehensions (the 250 templates use none), no builtins. ``eval``
is never called.

Arithmetic keeps Python's numeric semantics (int / int is a float, ``Fraction``
stays exact), because the published instances were produced that way and
reproducing their answers needs the same rounding.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

Number = int | float | Fraction
Function = Callable[..., Any]

MAX_POWER = 64
MAX_SEQUENCE = 1_000_000


class ExpressionError(ValueError):
    """An expression uses something outside the whitelist, or failed to evaluate."""


@dataclass(frozen=True)
class Labeled:
    """A value written one way in the question and computed with another:
    ``Labeled("twice", 2)``, ``Labeled("one-half", Fraction(1, 2))``.

    Arithmetic, comparisons and function calls see ``value``; the question slot
    shows ``text``; ``x[0]`` / ``x[1]`` give text / value (some templates index
    the pair explicitly); ``str()`` shows the value, as the worked answers do.
    """

    text: str
    value: Any

    def __str__(self) -> str:
        return str(self.value)

    def __getitem__(self, index: int) -> Any:
        return (self.text, self.value)[index]


def unwrap(value: Any) -> Any:
    """The computed value of ``value`` (``Labeled`` unwrapped, recursively in sequences)."""
    if isinstance(value, Labeled):
        return value.value
    return value


def format_number(value: Any) -> str:
    """A computed value as an answer string: ``Fraction(5, 2)`` -> ``"2.5"``, ``12.0`` -> ``"12"``."""
    value = unwrap(value)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        as_float = float(value)
        return repr(as_float) if Fraction(as_float) == value else f"{value.numerator}/{value.denominator}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float | Fraction) and abs(float(exponent)) > MAX_POWER:
        raise ExpressionError(f"exponent {exponent} is too large")
    return operator.pow(base, exponent)


def _multiply(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, list | tuple | str) and isinstance(count, int) and len(seq) * count > MAX_SEQUENCE:
            raise ExpressionError("sequence repetition is too large")
    return operator.mul(left, right)


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _multiply,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}


@lru_cache(maxsize=8192)
def parse(source: str, mode: str = "eval") -> ast.AST:
    """Parse ``source`` (cached; the tree must not be mutated); a syntax error
    becomes an ``ExpressionError``."""
    try:
        return ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {source!r}: {exc.msg}") from None


def dotted_name(node: ast.expr) -> str | None:
    """``np.random.randint`` for the matching ``Attribute`` chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted_name(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def names_in(source: str) -> set[str]:
    """Variable names ``source`` reads (function names excluded)."""
    tree = parse(source)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


class Evaluator:
    """Evaluate whitelisted expressions against ``variables`` and ``functions``."""

    def __init__(self, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> None:
        self.variables = variables
        self.functions = functions

    def evaluate(self, source: str) -> Any:
        tree = parse(source)
        assert isinstance(tree, ast.Expression)
        return self.node(tree.body)

    def node(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, int | float | str | bool) or node.value is None:
                return node.value
            raise ExpressionError(f"constant {node.value!r} is not allowed")
        if isinstance(node, ast.Name):
            if node.id in self.variables:
                return self.variables[node.id]
            if node.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[node.id]
            raise ExpressionError(f"unknown name {node.id!r}")
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
            return self._apply(op, unwrap(self.node(node.left)), unwrap(self.node(node.right)))
        if isinstance(node, ast.UnaryOp):
            return self._apply(_UNARY[type(node.op)], unwrap(self.node(node.operand)))
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                result: Any = True
                for value in node.values:
                    result = self.node(value)
                    if not unwrap(result):
                        return result
                return result
            for value in node.values:
                result = self.node(value)
                if unwrap(result):
                    return result
            return result
        if isinstance(node, ast.Compare):
            left = unwrap(self.node(node.left))
            for cmp, comparator in zip(node.ops, node.comparators, strict=True):
                right = unwrap(self.node(comparator))
                if not self._apply(_COMPARE[type(cmp)], left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.node(node.body) if unwrap(self.node(node.test)) else self.node(node.orelse)
        if isinstance(node, ast.List):
            return [self.node(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.node(e) for e in node.elts)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExpressionError(f"{type(node).__name__} is not allowed in template expressions")

    def _subscript(self, node: ast.Subscript) -> Any:
        base = self.node(node.value)
        if isinstance(node.slice, ast.Slice):
            bounds = [
                None if b is None else unwrap(self.node(b)) for b in (node.slice.lower, node.slice.upper)
            ]
            step = None if node.slice.step is None else unwrap(self.node(node.slice.step))
            return self._apply(operator.getitem, base, slice(bounds[0], bounds[1], step))
        return self._apply(operator.getitem, base, unwrap(self.node(node.slice)))

    def _call(self, node: ast.Call) -> Any:
        name = dotted_name(node.func)
        if name is None or name not in self.functions:
            raise ExpressionError(f"function {name or ast.unparse(node.func)!r} is not allowed")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise ExpressionError("*args and **kwargs are not allowed")
        args = [self.node(a) for a in node.args]
        kwargs = {str(k.arg): self.node(k.value) for k in node.keywords}
        return self._apply(self.functions[name], *args, **kwargs)

    @staticmethod
    def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ExpressionError:
            raise
        except (ArithmeticError, TypeError, ValueError, IndexError, KeyError) as exc:
            raise ExpressionError(f"{type(exc).__name__}: {exc}") from None


def evaluate(source: str, variables: Mapping[str, Any], functions: Mapping[str, Function]) -> Any:
    """Evaluate one whitelisted expression."""
    return Evaluator(variables, functions).evaluate(source)


def all_hold(
    conditions: Iterable[str], variables: Mapping[str, Any], functions: Mapping[str, Function]
) -> bool:
    """True when every condition is true; one that cannot be evaluated counts as false."""
    for condition in conditions:
        try:
            if not unwrap(evaluate(condition, variables, functions)):
                return False
        except ExpressionError:
            return False
    return True
