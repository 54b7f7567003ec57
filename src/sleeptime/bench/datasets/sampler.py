"""Draw a template's ``#init`` variables.

Plain rejection sampling (draw every line, test the conditions, repeat) wastes
most draws on templates with an equality condition such as
``ans == n - n1*w1 - ...`` or ``total == x + n1 - n2``. ``make_plan`` finds
conditions of the form ``v == expr`` where ``v`` is drawn from a fixed list
that nothing else reads while drawing; ``draw`` then skips drawing ``v``,
computes ``expr`` and takes ``v`` from the matching list items. Accepting with
probability (matches / most matches of any value) keeps the distribution
exactly that of rejection sampling, only faster. Each condition is also tested
as soon as its variables are drawn, so a failing draw stops early.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .expressions import ExpressionError, Labeled, all_hold, evaluate, names_in, parse, unwrap
from .functions import enumerating_functions, sampling_functions


@dataclass(frozen=True)
class Assignment:
    """One ``#init`` line: ``targets = source``; ``numeric`` if written with ``$``."""

    targets: tuple[str, ...]
    source: str
    numeric: bool


def as_value(value: Any) -> Any:
    """A drawn pair ``("six-sided", 6)`` becomes ``Labeled``; anything else passes."""
    if isinstance(value, tuple | list) and len(value) == 2 and isinstance(value[0], str | int | float):
        number = unwrap(value[1])
        if isinstance(number, int | float | Fraction) and not isinstance(number, bool):
            return Labeled(str(value[0]), number)
    return value


def assign(assignment: Assignment, value: Any, rng: random.Random, env: dict[str, Any]) -> None:
    """Bind ``assignment``'s targets in ``env``; one target given a list takes one element."""
    if len(assignment.targets) == 1:
        if isinstance(value, list):
            if not value:
                raise ExpressionError(f"{assignment.targets[0]} = {assignment.source} is empty")
            value = rng.choice(value)
        env[assignment.targets[0]] = as_value(value)
        return
    values = list(value) if isinstance(value, list | tuple) else None
    if values is None or len(values) != len(assignment.targets):
        raise ExpressionError(f"cannot unpack {assignment.source} into {', '.join(assignment.targets)}")
    for name, item in zip(assignment.targets, values, strict=True):
        env[name] = as_value(item)


def domain(assignment: Assignment, env: Mapping[str, Any]) -> list[Any]:
    """Every value ``assignment`` can give its single target (with repeats)."""
    value = evaluate(assignment.source, env, enumerating_functions())
    return [as_value(v) for v in value] if isinstance(value, list) else [as_value(value)]


def value_key(value: Any) -> Any:
    """A hashable key under which numerically equal values meet."""
    value = unwrap(value)
    if isinstance(value, int | float | Fraction) and not isinstance(value, bool):
        return round(float(value), 9)
    return value


@dataclass(frozen=True)
class Solved:
    """``name`` is not drawn but set from ``expr``, among ``candidates[key]``."""

    name: str
    expr: str
    candidates: Mapping[Any, tuple[Any, ...]]
    most: int


@dataclass(frozen=True)
class Plan:
    drawn: tuple[Assignment, ...]
    solved: tuple[Solved, ...]
    checks: tuple[tuple[str, ...], ...] = ()
    domains: tuple[tuple[Any, ...] | None, ...] = ()


def _equality(condition: str) -> tuple[ast.expr, ast.expr] | None:
    try:
        tree = parse(condition)
    except ExpressionError:
        return None
    body = tree.body if isinstance(tree, ast.Expression) else None
    if isinstance(body, ast.Compare) and len(body.ops) == 1 and isinstance(body.ops[0], ast.Eq):
        return body.left, body.comparators[0]
    return None


def make_plan(init: Sequence[Assignment], conditions: Sequence[str], lists: Mapping[str, Any]) -> Plan:
    """Which variables ``draw`` may solve for instead of drawing (see the module docstring)."""
    single = {a.targets[0]: a for a in init if len(a.targets) == 1}
    read_by_init = set().union(*(names_in(a.source) for a in init)) if init else set()
    solved: list[Solved] = []
    used: set[str] = set()
    for condition in conditions:
        sides = _equality(condition)
        if sides is None:
            continue
        for name_side, expr_side in (sides, sides[::-1]):
            if not isinstance(name_side, ast.Name) or name_side.id not in single:
                continue
            name, expr = name_side.id, ast.unparse(expr_side)
            expr_names = names_in(expr)
            if (
                name in expr_names
                or name in read_by_init
                or name in used
                or expr_names & {s.name for s in solved}
            ):
                continue
            try:
                values = domain(single[name], lists)
            except ExpressionError:
                continue
            candidates: dict[Any, list[Any]] = {}
            for value in values:
                candidates.setdefault(value_key(value), []).append(value)
            frozen = {k: tuple(v) for k, v in candidates.items()}
            solved.append(Solved(name, expr, frozen, max(len(v) for v in frozen.values())))
            used |= expr_names | {name}
            break
    skip = {s.name for s in solved}
    drawn = tuple(a for a in init if not (len(a.targets) == 1 and a.targets[0] in skip))
    targets = {t for a in init for t in a.targets}
    return Plan(
        drawn, tuple(solved), _checks(drawn, conditions, targets), _fixed_domains(drawn, lists, targets)
    )


def _fixed_domains(
    drawn: Sequence[Assignment], lists: Mapping[str, Any], targets: set[str]
) -> tuple[tuple[Any, ...] | None, ...]:
    """Per drawn line: its values, when they do not depend on other variables (then
    drawing is one ``rng.choice``, equal in distribution to evaluating the line)."""
    out: list[tuple[Any, ...] | None] = []
    for assignment in drawn:
        values: tuple[Any, ...] | None = None
        if len(assignment.targets) == 1 and not names_in(assignment.source) & targets:
            try:
                values = tuple(domain(assignment, lists)) or None
            except ExpressionError:
                values = None
        out.append(values)
    return tuple(out)


def _checks(
    drawn: Sequence[Assignment], conditions: Sequence[str], targets: set[str]
) -> tuple[tuple[str, ...], ...]:
    """Per drawn line, then once more after the solving: the conditions whose
    variables are all known by then, so that a failing draw stops early."""
    known: list[set[str]] = []
    for assignment in drawn:
        known.append((known[-1] if known else set()) | set(assignment.targets))
    buckets: list[list[str]] = [[] for _ in range(len(drawn) + 1)]
    for condition in conditions:
        try:
            needed = names_in(condition) & targets
        except ExpressionError:
            needed = set(targets)
        index = next((i for i, have in enumerate(known) if needed <= have), len(drawn))
        buckets[index].append(condition)
    return tuple(tuple(bucket) for bucket in buckets)


def draw(plan: Plan, rng: random.Random, lists: Mapping[str, Any]) -> dict[str, Any] | None:
    """One draw of every variable, or None as soon as a condition fails or a solved
    variable has no matching value (the caller still checks every condition)."""
    env: dict[str, Any] = dict(lists)
    functions = sampling_functions(rng)
    names: list[str] = []
    for i, assignment in enumerate(plan.drawn):
        fixed = plan.domains[i] if plan.domains else None
        if fixed is not None:
            env[assignment.targets[0]] = rng.choice(fixed)
        else:
            assign(assignment, evaluate(assignment.source, env, functions), rng, env)
        names.extend(assignment.targets)
        if plan.checks and not all_hold(plan.checks[i], env, functions):
            return None
    for solved in plan.solved:
        try:
            matches = solved.candidates.get(value_key(evaluate(solved.expr, env, functions)), ())
        except (ExpressionError, TypeError):
            return None
        if not matches or rng.random() * solved.most >= len(matches):
            return None
        env[solved.name] = rng.choice(matches)
        names.append(solved.name)
    if plan.checks and not all_hold(plan.checks[-1], env, functions):
        return None
    return {name: env[name] for name in names}


__all__ = ["Assignment", "Plan", "Solved", "as_value", "assign", "domain", "draw", "make_plan", "value_key"]
