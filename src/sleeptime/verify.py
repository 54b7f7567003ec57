"""Arithmetic a model wrote, recomputed: ``24 - 5 = 18`` is corrected to ``24 - 5 = 19``.

Small models set up a calculation right far more often than they carry it out.
Wherever sleeptime stores or returns text that states ``expression = result``
(a solution's final sentence, an answer's final sentence), the expression is
recomputed in the sandbox and a wrong result replaced. Only plain arithmetic
on numbers is touched: anything with words or names is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .entries import Value, format_result, format_value
from .sandbox import extract_code, run_program

# The pieces of a plain calculation. Each stretch of whitespace can be taken by one place only:
# a pattern with two optional `\s*` side by side backtracks exponentially on a long chain with no
# "=" (a looping model's "15 + 15 + 15 + ..." took hours), so these match in linear time.
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_OPERAND = rf"[-+]?(?:\$\s*)?(?:\(\s*[-+]?\$?)*{_NUMBER}(?:\s*\))*"
_CHAIN = rf"{_OPERAND}(?:\s*[-+*/x×÷^]\s*{_OPERAND})+"
# "(12 + 3) * 2 = 30", "$1,200 / 4 = $300", "3 x 4 = 12", "2^3 = 8" at the end of a sentence.
_EXPRESSION = re.compile(rf"(?P<expr>{_CHAIN}\s*)=\s*\$?(?P<result>-?{_NUMBER})")
# "The answer is 240 = 30 * 8." : the result first, then the calculation, ending the sentence.
_RESULT_FIRST = re.compile(rf"(?<![\d.])\$?-?{_NUMBER}\s*=\s*(?P<expr>{_CHAIN}\s*)(?=[.!]?\s*$)")
_FINAL = re.compile(r"the (?:final )?answer is\b", re.IGNORECASE)
MAX_EXPRESSION_CHARS = 200
# Matching is quadratic in a long chain of numbers and operators; beyond this, a reply has looped.
MAX_TAIL_CHARS = 4_000


def _python(expression: str) -> str | None:
    cleaned = expression.replace(",", "").replace("$", "").replace("×", "*").replace("÷", "/")
    cleaned = re.sub(r"(?<=[\d)\s])x(?=[\s\d(])", "*", cleaned).replace("^", "**").strip()
    if len(cleaned) > MAX_EXPRESSION_CHARS or not re.fullmatch(r"[-+*/().\d\s]+", cleaned):
        return None
    if cleaned.count("(") != cleaned.count(")"):
        return None
    return cleaned


def recompute(expression: str) -> int | float | None:
    """The value of a plain arithmetic expression, computed in the sandbox; None if it is not one."""
    code = _python(expression)
    if code is None or not re.search(r"\d\s*[-+*/]", code):
        return None
    result = run_program(f"answer = {code}")
    value = result.answer if result.ok else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def correct_final_arithmetic(text: str) -> str:
    """``text`` with the last ``expression = result`` of its final answer sentence recomputed.

    The final sentence is the last one saying "the answer is", else the last line. A result
    written first (``The answer is 240 = 30 * 8``) is turned around, so that the sentence
    ends with the result as the prompts ask. Returns ``text`` unchanged when there is
    nothing to check and the result is right.
    """
    starts = [m.start() for m in _FINAL.finditer(text)]
    start = starts[-1] if starts else max(text.rstrip().rfind("\n"), 0)
    if len(text) - start > MAX_TAIL_CHARS:  # a looping reply: its last sentences are enough
        cut = len(text) - MAX_TAIL_CHARS
        start = min((i + 1 for i in (text.find(". ", cut), text.find("\n", cut)) if i >= 0), default=cut)
    tail = text[start:]
    reversed_form = _RESULT_FIRST.search(tail)
    if reversed_form is not None:
        value = recompute(reversed_form.group("expr"))
        if value is not None:
            fixed = f"{reversed_form.group('expr').strip()} = {format_value(value)}"
            return text[:start] + tail[: reversed_form.start()] + fixed + tail[reversed_form.end() :]
    matches = list(_EXPRESSION.finditer(tail))
    if not matches:
        return text
    match = matches[-1]
    value = recompute(match.group("expr"))
    if value is None:
        return text
    stated = float(match.group("result").replace(",", ""))
    if _close(stated, float(value)):
        return text
    fixed = f"{match.group('expr').rstrip()} = {format_value(value)}"
    return text[:start] + tail[: match.start()] + fixed + tail[match.end() :]


# A reply that computes its answer: "answer = pages_left / 4", alone or in a ```python block, or a
# program that prints its result (small models often end with print() instead of ``answer =``).
_ANSWER_ASSIGNMENT = re.compile(r"^\s*answer\s*=(?!=)|^\s*print\(", re.MULTILINE)
MAX_ANSWER_PROGRAM_CHARS = 4_000


def computed_answer(text: str, inputs: Mapping[str, Value] | None) -> str:
    """A reply written as Python, run in the sandbox with ``inputs`` defined: the learned context's
    named values for verbosity 0's line over them (``answer = pages_left / 4``), none for a whole
    program written from the context. The reply is kept and 'The answer is X.' added, X being
    ``answer`` or else the last number the program printed. With ``inputs`` None (no computation was
    asked for), a reply of any other form, or a program that fails, the reply is returned as written
    (and its own arithmetic checked)."""
    code = extract_code(text).strip()
    if inputs is None or not _ANSWER_ASSIGNMENT.search(code) or len(code) > MAX_ANSWER_PROGRAM_CHARS:
        return correct_final_arithmetic(text)
    result = run_program(code, inputs=dict(inputs))
    answer = result.answer if result.ok else None
    if answer is None or isinstance(answer, bool):
        return correct_final_arithmetic(text)
    return f"{text.rstrip()}\nThe answer is {format_result(answer)}."


__all__ = ["computed_answer", "correct_final_arithmetic", "recompute"]
