"""Named value lists for GSM-Symbolic templates, and number words.

Apple's templates sample from named lists (``sample(names)``,
``sample(fraction_alnum)``) that Apple never published. Most come from a
third-party English file (``gsm-symbolic-vocab/eng_replacements.json``, MIT),
read at run time from the data dir. Four names that file lacks are defined
here by hand, from the values they show in Apple's published P2 instances
(``generated_data/GSM_p2.jsonl``, read once while writing this module; only the
list of phrases is kept, no text from the instances):

- ``fraction_alph``: hyphenated fraction words ("one-half" ... "one-tenth",
  including unreduced ones such as "two-fourths" that P2 shows);
- ``fraction_nums``: digit fractions, also unreduced ("2/4"); templates take
  ``fraction_nums[:4]`` and P2 only shows 1/2, 1/3, 2/3, 1/4 there, so those
  four come first;
- ``multiple_ice``: "twice", "thrice", "two times" ... "ten times";
- ``multiple``: "double", "triple", "quadruple", "quintuple".

The English file's own lists are also narrower than Apple's: P2 shows, for
example, ``fractions`` drawn as "a third" and "1/7", ``fraction_alnum`` as both
"one-tenth" and "1/10", ``multi_times`` up to "ten times" and
``fraction_decimals`` from 0.1 to 0.9. ``observed_values()`` holds those extra
phrases; ``load_vocabulary(observed=True)`` (the default) adds them, so that
regenerated instances cover what Apple's do (without them, p1/0078 has no
draw that meets its conditions).

Values are typed the way the templates compute with them: ``"1/2"`` becomes a
``Fraction``, ``"0.25"`` a float, and a pair such as ``["twice", 2]`` a
``Labeled`` (text in the question, number in the arithmetic).
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from .expressions import Labeled, Number

VOCAB_FILE = Path("gsm-symbolic-vocab") / "eng_replacements.json"

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
CARDINALS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)} | _TENS
ORDINALS: dict[str, int] = {
    "half": 2,
    "halves": 2,
    "third": 3,
    "quarter": 4,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "sixteenth": 16,
    "twentieth": 20,
}
MULTIPLICATIVES: dict[str, int] = {
    "once": 1,
    "twice": 2,
    "thrice": 3,
    "double": 2,
    "triple": 3,
    "quadruple": 4,
    "quintuple": 5,
}

_FRACTION_WORDS = [
    (1, 2),
    (1, 3),
    (2, 3),
    (1, 4),
    (2, 4),
    (3, 4),
    (1, 5),
    (2, 5),
    (3, 5),
    (4, 5),
    (1, 6),
    (2, 6),
    (3, 6),
    (4, 6),
    (5, 6),
    (1, 7),
    (1, 8),
    (1, 9),
    (1, 10),
]
_FRACTION_NUMS = ["1/2", "1/3", "2/3", "1/4", "2/4", "1/5", "2/5", "1/6", "1/7", "1/8", "1/9", "1/10"]


def number_words(n: int) -> str:
    """English words for 0 <= n < 100: ``number_words(35) == "thirty-five"``."""
    if not 0 <= n < 100:
        raise ValueError(f"number_words covers 0..99, not {n}")
    if n < 20:
        return _UNITS[n]
    tens = next(w for w, v in _TENS.items() if v == n - n % 10)
    return tens if n % 10 == 0 else f"{tens}-{_UNITS[n % 10]}"


def fraction_words(numerator: int, denominator: int) -> str:
    """``fraction_words(2, 3) == "two-thirds"``; ``(1, 2)`` is ``"one-half"``."""
    ordinal = next(w for w, v in ORDINALS.items() if v == denominator and w not in ("quarter", "halves"))
    if numerator != 1:
        ordinal = "halves" if denominator == 2 else ordinal + "s"
    return f"{number_words(numerator)}-{ordinal}"


def _cardinal(words: list[str]) -> int | None:
    if len(words) == 1 and words[0] in ("a", "an"):
        return 1
    if len(words) == 1 and words[0] in CARDINALS:
        return CARDINALS[words[0]]
    if len(words) == 2 and words[0] in _TENS and words[1] in CARDINALS and 0 < CARDINALS[words[1]] < 10:
        return _TENS[words[0]] + CARDINALS[words[1]]
    return None


def parse_quantity(text: str) -> Number | None:
    """The number a short phrase names, or None.

    Digits (``"12"``, ``"-3"``, ``"0.25"``, ``"2/4"``), number words
    (``"thirty five"``, ``"forty-two"``), fraction words (``"half"``,
    ``"a third"``, ``"two-fifths"``, ``"three quarters"``) and multiplicatives
    (``"twice"``, ``"quintuple"``, ``"four times"``). Fractions are exact
    (``Fraction``), decimals are floats.
    """
    t = text.strip().lower().replace(",", "")
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)", t):
        return float(t)
    if m := re.fullmatch(r"([-+]?\d+)\s*/\s*(\d+)", t):
        return Fraction(int(m.group(1)), int(m.group(2))) if int(m.group(2)) else None
    if t in MULTIPLICATIVES:
        return MULTIPLICATIVES[t]
    words = re.split(r"[\s-]+", t)
    if words and words[-1] == "times":
        return parse_quantity(" ".join(words[:-1])) if len(words) > 1 else None
    if (n := _cardinal(words)) is not None:
        return n
    last = words[-1]
    stem = last[:-1] if last.endswith("s") and last[:-1] in ORDINALS else last
    if stem in ORDINALS:
        numerator = _cardinal(words[:-1]) if len(words) > 1 else 1
        if numerator is not None:
            return Fraction(numerator, ORDINALS[stem])
    return None


def _typed(value: Any) -> Any:
    """Vocabulary values as templates compute with them."""
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], str):
            number = value[1] if isinstance(value[1], int | float) else parse_quantity(str(value[1]))
            return Labeled(value[0], number if number is not None else value[1])
        return [_typed(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d+/\d+|\d*\.\d+", value):
        return parse_quantity(value)
    return value


def builtin_lists() -> dict[str, list[Any]]:
    """The four lists the English vocabulary file lacks (see the module docstring)."""
    return {
        "fraction_alph": [Labeled(fraction_words(n, d), Fraction(n, d)) for n, d in _FRACTION_WORDS],
        "fraction_nums": [Labeled(f, parse_quantity(f)) for f in _FRACTION_NUMS],
        "multiple_ice": [Labeled("twice", 2), Labeled("thrice", 3)]
        + [Labeled(f"{number_words(i)} times", i) for i in range(2, 11)],
        "multiple": [Labeled(w, MULTIPLICATIVES[w]) for w in ("double", "triple", "quadruple", "quintuple")],
    }


def _labeled(texts: list[str]) -> list[Any]:
    return [Labeled(t, parse_quantity(t)) for t in texts]


def observed_values() -> dict[str, list[Any]]:
    """Values Apple's P2 instances show that the English vocabulary file lacks."""
    digit_fractions = [
        "1/2",
        "1/3",
        "2/3",
        "1/4",
        "3/4",
        "1/5",
        "2/5",
        "4/5",
        "1/6",
        "1/7",
        "1/8",
        "1/9",
        "1/10",
    ]
    return {
        "fractions": [
            Fraction(1, 7),
            Fraction(1, 9),
            *_labeled(["half", "a third", "a quarter", "a fifth", "an eighth", "a tenth"]),
        ],
        "fraction_alnum": [*builtin_lists()["fraction_alph"], *_labeled(digit_fractions)],
        "multi_times": _labeled([f"{number_words(i)} times" for i in range(2, 11)]),
        "fraction_decimals": [0.1, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9],
    }


def load_vocabulary(data_dir: Path, *, observed: bool = True) -> dict[str, list[Any]]:
    """Every named list: the vocabulary file's (typed), ``builtin_lists()`` for
    the names it lacks and, with ``observed``, ``observed_values()`` appended."""
    path = data_dir / VOCAB_FILE
    raw = json.loads(path.read_text(encoding="utf-8"))
    lists: dict[str, list[Any]] = {str(k): _typed(v) for k, v in raw.items()}
    for name, values in builtin_lists().items():
        lists.setdefault(name, values)
    if observed:
        for name, extra in observed_values().items():
            have = {str(v.text if isinstance(v, Labeled) else v).lower() for v in lists.get(name, [])}
            lists[name] = lists.get(name, []) + [
                v for v in extra if str(v.text if isinstance(v, Labeled) else v).lower() not in have
            ]
    return lists
