"""GSM-Symbolic templates: parse, sample, fill.

A template (``gsm-symbolic/templates/{symbolic,p1,p2}/NNNN.json``) holds

- ``question_annotated``: the question with ``{var,default}`` slots, then
  ``#init:`` lines (``- $x = range(30, 50)``, ``- a, b = sample(names, 2)``;
  ``$`` marks a numeric variable), ``#conditions:`` lines and ``#answer:``;
- ``answer_annotated``: the worked answer with ``{expr}`` slots (and
  ``<<calc>>`` annotations, which Apple's released instances drop), ending in
  ``#### {expr}``.

``instantiate`` samples the ``#init`` lines until every condition holds and the
worked answer's final value equals the ``#answer`` expression, then fills both
texts. ``instantiate_with`` fills a template from given values. Expressions go
through the whitelisting evaluator in ``expressions``, never ``eval``.

Sampling semantics (checked against Apple's released P2 instances, see
``tests/bench/test_templates.py``): ``range(a, b[, step])`` is Python's
(end excluded); an assignment of a list to one variable samples one element;
``numbers_within(a, b)`` gives number words for a..b inclusive; a sampled pair
``("six-sided", 6)`` shows its text in the question and computes with its number.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .expressions import ExpressionError, Function, Labeled, all_hold, evaluate, names_in, unwrap
from .functions import common_functions, numbers_equal
from .sampler import Assignment, draw, make_plan
from .vocab import load_vocabulary

TEMPLATE_DIR = Path("gsm-symbolic") / "templates"
VARIANTS = ("symbolic", "p1", "p2")

SLOT_RE = re.compile(r"\{\s*(\w+)\s*,([^{}]*)\}")
ANSWER_SLOT_RE = re.compile(r"\{([^{}]*)\}")
# "<<calc>>" annotations; symbolic/0084 closes one with a single ">".
CALC_RE = re.compile(r"<<[^<>]*>>?")
_DOLLAR_NAME = re.compile(r"\$(?=[A-Za-z_])")

# ``#answer`` expressions that disagree with their own worked answer and question
# (the worked answer is what Apple's released instances use). The fix is checked
# instead; ``tests/bench/test_templates.py`` shows the original disagrees.
ANSWER_FIXES: dict[str, str] = {
    # "percentage of the present students": the #answer divides by all students.
    "p1/0074": "int((total-num_girls-absent_boys)/(total-absent_girls-absent_boys)*100)",
    # the P1 variant added an insurance cost the #answer forgot.
    "p1/0089": "first_hour_cost + (end_time - start_time - free_hours - 1) * first_hour_cost * multiplier"
    " + extra",
    # the yellow cards equal red plus green, which the #answer counts as red only.
    "symbolic/0062": "2*(n1+(n1+int(p/100*n1)))",
    # the #answer subtracts a stray 1 from the daily count in the last half-month.
    "p2/0026": "int(((n1 + n2) * (1+frac)) * 30 + ((n1 + n2) * (1+frac)) * 15 * (100-p1) / 100"
    " + ((n1 + n2) * (1+frac)) * 15 * (100-p1) / 100 * (100 - p2) / 100)",
}


class TemplateError(ValueError):
    """A template cannot be parsed, sampled or filled."""


class AnswerMismatchError(TemplateError):
    """The worked answer's final value disagrees with the ``#answer`` expression."""


@dataclass(frozen=True)
class Template:
    variant: str
    index: int
    question_annotated: str
    init: tuple[Assignment, ...]
    conditions: tuple[str, ...]
    answer_expr: str
    answer_annotated: str
    original_question: str
    original_answer: str
    original_id: int

    @property
    def key(self) -> str:
        return f"{self.variant}/{self.index:04d}"

    @property
    def slots(self) -> list[tuple[str, str]]:
        """``(variable, default)`` for each question slot, in order (repeats included)."""
        return [(m.group(1), m.group(2).strip()) for m in SLOT_RE.finditer(self.question_annotated)]

    @property
    def numeric_variables(self) -> frozenset[str]:
        return frozenset(t for a in self.init if a.numeric for t in a.targets)

    @property
    def checked_answer_expr(self) -> str:
        """The ``#answer`` expression, or its fix from ``ANSWER_FIXES``."""
        return ANSWER_FIXES.get(self.key, self.answer_expr)

    @property
    def final_expr(self) -> str:
        """The expression after ``####`` in the worked answer."""
        m = re.search(r"####\s*\{([^{}]*)\}\s*$", self.answer_annotated.strip())
        if not m:
            raise TemplateError(f"{self.key}: worked answer does not end in '#### {{expr}}'")
        return m.group(1).strip()


@dataclass(frozen=True)
class Instance:
    """One filled template. ``answer_text`` ends in ``#### <final>``."""

    question: str
    answer_text: str
    final_answer: Any
    variables: Mapping[str, Any] = field(default_factory=dict)


def _clean(source: str) -> str:
    return _DOLLAR_NAME.sub("", source).strip()


def _section_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("-"):
            lines.append(line[1:].strip())
        elif line:
            raise TemplateError(f"unexpected line {line!r}")
    return lines


def _assignment(line: str) -> Assignment:
    lhs, sep, rhs = line.partition("=")
    if not sep or not rhs.strip():
        raise TemplateError(f"init line {line!r} is not an assignment")
    targets = tuple(t.strip().lstrip("$").strip() for t in lhs.split(","))
    if not all(t.isidentifier() for t in targets):
        raise TemplateError(f"init line {line!r} has bad targets")
    return Assignment(targets, _clean(rhs), numeric="$" in lhs)


def parse_template(raw: Mapping[str, Any], variant: str) -> Template:
    """A ``Template`` from one JSON object of Apple's release."""
    annotated = str(raw["question_annotated"])
    question, sep, program = annotated.partition("#init:")
    if not sep:
        raise TemplateError(f"template {raw.get('id_shuffled')} has no #init section")
    parts = re.split(r"#answer\s*[:=]", program)
    if len(parts) != 2:
        raise TemplateError(f"template {raw.get('id_shuffled')} needs exactly one #answer")
    init_text, _, cond_text = parts[0].partition("#conditions:")
    answer = _clean(parts[1])
    if answer.startswith("{") and answer.endswith("}"):
        answer = answer[1:-1].strip()
    return Template(
        variant=variant,
        index=int(raw["id_shuffled"]),
        question_annotated=question.strip(),
        init=tuple(_assignment(line) for line in _section_lines(init_text)),
        conditions=tuple(_clean(c) for c in _section_lines(cond_text)),
        answer_expr=answer,
        answer_annotated=str(raw["answer_annotated"]).strip(),
        original_question=str(raw["question"]),
        original_answer=str(raw["answer"]),
        original_id=int(raw["id_orig"]),
    )


def load_templates(data_dir: Path, variant: str) -> list[Template]:
    """Every template of ``variant`` ("symbolic", "p1" or "p2"), by index."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown GSM-Symbolic variant {variant!r}; choose from {VARIANTS}")
    folder = data_dir / TEMPLATE_DIR / variant
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no templates in {folder}")
    return [parse_template(json.loads(p.read_text(encoding="utf-8")), variant) for p in files]


# -- filling ---------------------------------------------------------------------------------------


def display(value: Any) -> str:
    """How a variable reads in the question (``Labeled`` shows its text)."""
    return value.text if isinstance(value, Labeled) else str(value)


def _capitalize_starts(text: str, starts: set[int]) -> str:
    chars = list(text)
    for i in starts:
        if i < len(chars):
            chars[i] = chars[i].upper()
    return "".join(chars)


def fill_question(template: Template, variables: Mapping[str, Any]) -> str:
    """The question with every slot replaced; a slot that opens a sentence is capitalized."""
    out: list[str] = []
    starts: set[int] = set()
    pos = 0
    text = template.question_annotated
    for m in SLOT_RE.finditer(text):
        out.append(text[pos : m.start()])
        before = "".join(out).rstrip(" ")
        if not before or before[-1] in ".!?\n":
            starts.add(len("".join(out)))
        name = m.group(1)
        if name not in variables:
            raise TemplateError(f"{template.key}: no value for question slot {name!r}")
        out.append(display(variables[name]))
        pos = m.end()
    out.append(text[pos:])
    filled = _capitalize_starts("".join(out), starts)
    return re.sub(r"[ \t]+", " ", filled).strip()


def fill_answer(template: Template, variables: Mapping[str, Any]) -> str:
    """The worked answer without ``<<calc>>`` annotations, every ``{expr}`` evaluated."""
    functions = common_functions()

    def slot(m: re.Match[str]) -> str:
        try:
            return str(unwrap(evaluate(m.group(1), variables, functions)))
        except ExpressionError as exc:
            raise TemplateError(f"{template.key}: answer slot {{{m.group(1)}}}: {exc}") from None

    text = CALC_RE.sub("", template.answer_annotated)
    lines = [ANSWER_SLOT_RE.sub(slot, line).rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip()


def instantiate_with(template: Template, variables: Mapping[str, Any], *, check: bool = False) -> Instance:
    """Fill ``template`` from ``variables``. The final answer is the worked answer's
    (``#### {expr}``), as in Apple's release; with ``check`` it must equal the
    ``#answer`` expression (``AnswerMismatchError`` if not)."""
    env = dict(variables)
    functions = common_functions()
    try:
        final = unwrap(evaluate(template.final_expr, env, functions))
        if check:
            expected = unwrap(evaluate(template.checked_answer_expr, env, functions))
            if not numbers_equal(final, expected):
                raise AnswerMismatchError(
                    f"{template.key}: worked answer gives {final}, #answer gives {expected}"
                )
    except ExpressionError as exc:
        raise TemplateError(f"{template.key}: {exc}") from None
    return Instance(fill_question(template, env), fill_answer(template, env), final, env)


def conditions_hold(template: Template, env: Mapping[str, Any], functions: Mapping[str, Function]) -> bool:
    """True when every ``#conditions`` line is true (an evaluation error counts as false)."""
    return all_hold(template.conditions, env, functions)


def instantiate(
    template: Template,
    rng: random.Random,
    *,
    lists: Mapping[str, Any] | None = None,
    data_dir: Path | None = None,
    max_tries: int = 1000,
) -> Instance:
    """Draw ``template``'s variables until its conditions hold and the worked
    answer agrees with ``#answer``, then fill it.

    ``lists`` are the named lists (default ``load_vocabulary(data_dir)``).
    Raises ``TemplateError`` when no draw in ``max_tries`` qualifies, and
    ``AnswerMismatchError`` when draws met the conditions but every such draw
    had a worked answer disagreeing with ``#answer``.
    """
    if lists is None:
        if data_dir is None:
            raise TemplateError("instantiate needs lists= or data_dir=")
        lists = load_vocabulary(data_dir)
    plan = make_plan(template.init, template.conditions, lists)
    functions = common_functions()
    mismatch: AnswerMismatchError | None = None
    last_error = "no draw met the conditions"
    for _ in range(max_tries):
        try:
            variables = draw(plan, rng, lists)
        except ExpressionError as exc:
            last_error = str(exc)
            continue
        if variables is None or not conditions_hold(template, {**lists, **variables}, functions):
            continue
        try:
            return instantiate_with(template, variables, check=True)
        except AnswerMismatchError as exc:
            mismatch = exc
        except TemplateError as exc:
            last_error = str(exc)
    if mismatch is not None:
        raise mismatch
    raise TemplateError(f"{template.key}: no valid draw in {max_tries} tries ({last_error})")


def expression_names(template: Template) -> set[str]:
    """Variables the worked answer and the ``#answer`` expression read."""
    names = names_in(template.answer_expr)
    for m in ANSWER_SLOT_RE.finditer(CALC_RE.sub("", template.answer_annotated)):
        names |= names_in(m.group(1))
    return names


__all__ = [
    "ANSWER_FIXES",
    "AnswerMismatchError",
    "Instance",
    "Template",
    "TemplateError",
    "conditions_hold",
    "display",
    "expression_names",
    "fill_answer",
    "fill_question",
    "instantiate",
    "instantiate_with",
    "load_templates",
    "parse_template",
]
