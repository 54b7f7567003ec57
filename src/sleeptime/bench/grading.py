"""Grade model answers against gold answers.

- GSM (``grade_gsm``): the prediction is the last number of the final answer
  (the line after the last ``####``, else after the last "answer is", else the
  last ``\\boxed{}``, else the whole text), compared *numerically* with a small
  tolerance. The reference code compared strings, so "45.0" failed against "45".
- AIME (``grade_aime``): the last ``\\boxed{...}`` (nested braces allowed) as an
  integer; fallback: the last 1–3 digit integer in the text.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

ABS_TOLERANCE = 1e-6
REL_TOLERANCE = 1e-9

_NUMBER = re.compile(
    r"""
    (?<![\w.])                    # not inside a word or after a decimal point
    (?P<sign>[-−])?\s?
    \$?\s?
    (?P<body>
        \d{1,3}(?:,\d{3})+(?:\.\d+)?   # 1,234,567.89
      | \d+(?:\.\d+)?(?:\s*/\s*\d+)?     # 1234.5 or 3/4
      | \.\d+                           # .5
    )
    (?P<percent>\s?%)?
    """,
    re.X,
)
_ANSWER_IS = re.compile(r"answer\s+is\s*:?", re.I)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def boxed_contents(text: str) -> list[str]:
    """The contents of every ``\\boxed{...}`` / ``\\fbox{...}`` in order (nested braces kept)."""
    out = []
    for m in _BOXED.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            out.append(text[m.end() : i - 1])
    return out


def final_answer_text(text: str) -> str:
    """The part of a response that states the final answer (see the module docstring)."""
    if "####" in text:
        return text.rsplit("####", 1)[1].lstrip().split("\n", 1)[0]
    matches = list(_ANSWER_IS.finditer(text))
    if matches:
        return text[matches[-1].end() :].lstrip().split("\n", 1)[0]
    boxed = boxed_contents(text)
    if boxed:
        return boxed[-1]
    return text


def parse_number(token: str) -> Fraction | None:
    """``"$1,234.50"`` -> 1234.5, ``"3/4"`` -> 3/4, ``"-5%"`` -> -5, exactly (a ``Fraction``);
    None if ``token`` is not a number."""
    t = token.strip().replace("−", "-").replace("$", "").replace(",", "").replace("%", "").replace(" ", "")
    try:
        if "/" in t:
            num, den = t.split("/", 1)
            return Fraction(Decimal(num)) / Fraction(Decimal(den)) if Decimal(den) != 0 else None
        return Fraction(Decimal(t))
    except (InvalidOperation, ValueError, ZeroDivisionError):
        return None


def extract_last_number(text: str) -> str | None:
    """The last number in ``text`` as written, without ``$``, thousands commas or ``%``
    (``"... costs $1,234.50."`` -> ``"1234.50"``); None when there is none."""
    matches = list(_NUMBER.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    sign = "-" if m.group("sign") else ""
    return sign + m.group("body").replace(",", "").replace(" ", "")


def numbers_match(prediction: Fraction, gold: Fraction) -> bool:
    """Equal within ``ABS_TOLERANCE`` plus ``REL_TOLERANCE`` of the gold value."""
    return abs(prediction - gold) <= Fraction(ABS_TOLERANCE) + Fraction(REL_TOLERANCE) * abs(gold)


def extract_gsm_answer(text: str) -> str | None:
    """The predicted GSM answer: the last number of the final answer text."""
    return extract_last_number(final_answer_text(text)) or extract_last_number(text)


def grade_gsm(prediction_text: str, gold: str) -> bool:
    """Is the response's final number equal to ``gold`` (numerically, see ``numbers_match``)?"""
    gold_value = parse_number(gold)
    if gold_value is None:
        raise ValueError(f"GSM gold answer {gold!r} is not a number")
    token = extract_gsm_answer(prediction_text)
    value = parse_number(token) if token is not None else None
    return value is not None and numbers_match(value, gold_value)


def extract_aime_answer(text: str) -> int | None:
    """The predicted AIME answer: the last ``\\boxed{}``'s integer, else the last 1–3 digit integer."""
    boxed = boxed_contents(text)
    if boxed:
        content = re.sub(r"\\text\{[^{}]*\}|\\[;!: ]", " ", boxed[-1])
        content = re.sub(r"\\,|[$,{}]", "", content)  # "1{,}000", "1\,000" are one number
        integers = re.findall(r"(?<![\d.])-?\d+(?![\d.]*\d)", content)
        if integers:
            return int(integers[-1])
    fallback = re.findall(r"(?<![\d.,])\d{1,3}(?![\d]|[.,]\d)", text)
    return int(fallback[-1]) if fallback else None


def grade_aime(prediction_text: str, gold: str | int) -> bool:
    """Is the response's answer (see ``extract_aime_answer``) the gold integer?"""
    predicted = extract_aime_answer(prediction_text)
    return predicted is not None and predicted == int(str(gold).strip())


__all__ = [
    "boxed_contents",
    "extract_aime_answer",
    "extract_gsm_answer",
    "extract_last_number",
    "final_answer_text",
    "grade_aime",
    "grade_gsm",
    "numbers_match",
    "parse_number",
]
