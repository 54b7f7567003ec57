"""Recover a template's variable values from an instance's question text.

Used to check the instantiator against Apple's released instances: match the
question against a pattern built from the template (one capture group per
slot, back-references for repeats), read each captured phrase as a value, then
find the variables the question does not show (``ans`` in "... how many did
she buy?") by trying every value of their ``#init`` domain against the
``#conditions``. The answer text is never read, so reproducing an instance's
answer from recovered values is a real check.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from .expressions import ExpressionError, Labeled
from .functions import common_functions
from .sampler import as_value, domain
from .templates import SLOT_RE, Template, conditions_hold, expression_names
from .vocab import parse_quantity

MAX_COMBINATIONS = 200_000


def normalize_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# A numeric slot reads as digits ("1,200", "0.25", "2/4") or as words ("thirty five"), never a mix.
NUMERIC_SLOT = r"(?:[-+]?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?|[^\W\d_][^\W\d_ -]*(?:[ -][^\W\d_]+)*?)"


def question_regex(template: Template, known: Mapping[str, Labeled] | None = None) -> re.Pattern[str]:
    """A case-insensitive pattern matching any instance of the question; ``known``
    label texts (see ``labels``) may fill numeric slots too."""
    text = normalize_space(template.question_annotated)
    numeric = template.numeric_variables
    texts = sorted(known or (), key=len, reverse=True)
    numeric_slot = "|".join([*(re.escape(t) for t in texts), NUMERIC_SLOT])
    parts: list[str] = []
    seen: set[str] = set()
    pos = 0
    for m in SLOT_RE.finditer(text):
        parts.append(re.escape(text[pos : m.start()]))
        name = m.group(1)
        slot = f"(?:{numeric_slot})" if name in numeric else ".+?"
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{slot})")
        seen.add(name)
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def labels(template: Template, lists: Mapping[str, Any]) -> dict[str, Labeled]:
    """Every ``Labeled`` value the template's ``#init`` lines can draw, by lower-cased text."""
    found: dict[str, Labeled] = {}
    for assignment in template.init:
        try:
            values = domain(assignment, lists)
        except ExpressionError:
            continue
        for value in values:
            value = as_value(value)
            if isinstance(value, Labeled):
                found.setdefault(value.text.lower(), value)
    return found


def read_value(text: str, numeric: bool, known: Mapping[str, Labeled] | None = None) -> Any:
    """A captured phrase as a value: plain numbers as numbers (``$`` or not),
    a known label as its ``Labeled`` value, number words and fractions as
    ``Labeled(text, number)``, anything else as text."""
    plain = re.fullmatch(r"[-+]?\d+(\.\d+)?", text.strip())
    if not numeric:
        return parse_quantity(text) if plain else text
    if known and text.lower() in known:
        return Labeled(text, known[text.lower()].value)
    number = parse_quantity(text)
    if number is None:
        return text
    if plain:
        return number
    return Labeled(text, number)


def recover_variables(template: Template, question: str, lists: Mapping[str, Any]) -> dict[str, Any] | None:
    """Variable values that make ``template`` read as ``question``, or None
    when the question does not match or the hidden values are not determined."""
    known = labels(template, lists)
    m = question_regex(template, known).fullmatch(normalize_space(question))
    if m is None:
        return None
    return _complete(template, m.groupdict(), lists, known)


def default_variables(template: Template, lists: Mapping[str, Any]) -> dict[str, Any] | None:
    """The values the slots' defaults (``{x,10}``: the original GSM8K numbers) stand for."""
    return _complete(template, {name: default for name, default in reversed(template.slots)}, lists)


def _complete(
    template: Template,
    texts: Mapping[str, str],
    lists: Mapping[str, Any],
    known: Mapping[str, Labeled] | None = None,
) -> dict[str, Any] | None:
    known = labels(template, lists) if known is None else known
    numeric = template.numeric_variables
    env = {name: read_value(text, name in numeric, known) for name, text in texts.items()}
    by_target = {t: a for a in template.init for t in a.targets}
    hidden = sorted(n for n in expression_names(template) if n in by_target and n not in env)
    if not hidden:
        return env
    scope = {**lists, **env}
    domains: list[list[Any]] = []
    for name in hidden:
        assignment = by_target[name]
        if len(assignment.targets) != 1:
            return None
        try:
            domains.append(domain(assignment, scope))
        except ExpressionError:
            return None
    functions = common_functions()
    found: list[dict[str, Any]] = []
    for count, values in enumerate(itertools.product(*domains)):
        if count >= MAX_COMBINATIONS:
            return None
        candidate = dict(zip(hidden, values, strict=True))
        if conditions_hold(template, {**scope, **candidate}, functions):
            found.append(candidate)
            if len(found) > 1:
                return None
    if len(found) != 1:
        return None
    return {**env, **found[0]}


__all__ = [
    "default_variables",
    "labels",
    "normalize_space",
    "question_regex",
    "read_value",
    "recover_variables",
]
