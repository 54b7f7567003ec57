"""Variations of a GSM-Symbolic question: the same context, other numbers in the question.

The most predictable follow-ups to "If the farmer has {n} trucks, how many trips ...?" are the
same question with another ``n``. Where a template's question sentence states a number that the
rest of the problem does not (17 of the 50 P2 templates), this module asks the question again
with other values for such numbers, drawn from the template's own ranges and kept only when its
``#conditions`` hold; the template computes each answer exactly, so no model writes or checks
anything. These are the questions that add facts to what a learned context holds: its notes can
hold the quantities, and the answer must still combine them with the new number.

A variant is kept only when the filled problem's context, cut by the same splitter, is the
original context to the character: a value that shows up before the question sentence is never
varied.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .expressions import ExpressionError, format_number, unwrap
from .functions import common_functions
from .records import QA
from .sampler import draw, make_plan
from .splitting import Splitter, split_problem
from .templates import Template, TemplateError, conditions_hold, fill_question, instantiate_with

MAX_VARIANTS = 5
DRAWS = 400  # draws of the template's variables tried per context


def question_only_variables(
    template: Template, variables: Mapping[str, Any], context: str, splitter: Splitter
) -> list[str]:
    """The numeric variables that, changed alone, leave the context as it is."""
    original_question = split_problem(fill_question(template, variables), splitter)[1]
    out = []
    for name in sorted(template.numeric_variables & variables.keys()):
        value = variables[name]
        if not isinstance(value, int) or isinstance(value, bool):
            continue  # fractions and labeled values are displayed in ways a probe cannot vary safely
        probe = {**variables, name: value + 1}
        try:
            text = fill_question(template, probe)
        except TemplateError:
            continue
        changed_context, changed_question = split_problem(text, splitter)
        if changed_context == context and changed_question != original_question:
            out.append(name)
    return out


def variant_questions(
    template: Template,
    variables: Mapping[str, Any],
    context: str,
    lists: Mapping[str, Any],
    *,
    splitter: Splitter = "sentence",
    limit: int = MAX_VARIANTS,
    seed: str = "",
) -> list[QA]:
    """Up to ``limit`` variations of the question about ``context`` (see the module docstring),
    the same for the same ``seed``; answers as the worked answer computes them."""
    if limit <= 0:
        return []
    names = question_only_variables(template, variables, context, splitter)
    if not names:
        return []
    rng = random.Random(int(hashlib.sha256(f"variants:{seed}".encode()).hexdigest()[:16], 16))
    plan = make_plan(template.init, template.conditions, lists)
    functions = common_functions()
    original = split_problem(fill_question(template, variables), splitter)[1]
    seen = {original}
    out: list[QA] = []
    for _ in range(DRAWS):
        try:
            drawn = draw(plan, rng, lists)
        except ExpressionError:
            continue
        if drawn is None:
            continue
        env = {**variables, **{name: drawn[name] for name in names if name in drawn}}
        if not conditions_hold(template, {**lists, **env}, functions):
            continue
        try:
            instance = instantiate_with(template, env, check=True)
        except TemplateError:
            continue
        new_context, question = split_problem(instance.question, splitter)
        if new_context != context or question in seen or not _is_number(instance.final_answer):
            continue
        seen.add(question)
        out.append(QA(question, format_number(instance.final_answer), "variant"))
        if len(out) >= limit:
            break
    return out


def _is_number(value: Any) -> bool:
    value = unwrap(value)
    return isinstance(value, int | float | Fraction) and not isinstance(value, bool)


__all__ = ["MAX_VARIANTS", "question_only_variables", "variant_questions"]
