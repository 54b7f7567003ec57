"""Split a problem into context ``c`` and question ``q``.

The paper makes its stateful datasets by cutting each problem at its last
sentence: the last sentence is ``q``, the rest is ``c``.

- ``split_last_sentence``: a sentence splitter that keeps "$0.7", "3.5",
  "e.g.", "Mr.", "a.m." and "U.S." intact. ``context + " " + question`` is the
  original text up to whitespace.
- ``split_naive``: the reference code's rule, kept for parity: split on every
  ".", so "$0.7" becomes "$0" and "7", the question never keeps its final
  period and a one-sentence problem gets the context "." (the reference
  computes ``". ".join([]) + "."``).
- ``split_latex_problem`` (AIME): never cuts inside ``$...$``, ``$$...$$``,
  ``\\(...\\)``, ``\\[...\\]``, ``\\begin{..}...\\end{..}`` or figure code; the
  question is the last sentence that asks something ("Find", "What",
  "Compute", "How many", "?"), and sentences after it ("Here $i=\\sqrt{-1}$.",
  a figure) move into the context, as the paper did by hand for some problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

Splitter = Literal["sentence", "naive"]
SPLITTERS: tuple[Splitter, ...] = ("sentence", "naive")

# Never end a sentence: titles and Latin abbreviations.
NEVER_END = frozenset("mr mrs ms dr prof st mt jr sr vs e.g i.e cf approx fig no nos ca".split())  # noqa: SIM905
# End a sentence only when an upper-case letter follows ("in the U.S. The ...").
MAYBE_END = frozenset("a.m p.m u.s u.k u.n etc inc ltd co corp oz lb lbs ft yd mi hr min sec".split())  # noqa: SIM905

_TERMINATOR = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")

_MATH_AND_FIGURES = re.compile(
    r"""
      \$\$.*?\$\$                       # display math
    | (?<!\\)\$(?:\\.|[^$\\])+\$        # inline math (a \$ inside is escaped)
    | \\\(.*?\\\)
    | \\\[.*?\\\]
    | <asy>.*?</asy>
    | \[asy\].*?\[/asy\]
    """,
    re.S | re.X,
)
_BEGIN = re.compile(r"\\begin\{([^}]+)\}")
_FIGURES = re.compile(r"<asy>.*?</asy>|\[asy\].*?\[/asy\]|\\begin\{(asy|tikzpicture)\}.*?\\end\{\1\}", re.S)
_ASKS = re.compile(
    r"\?|(?:^|[,;:]\s*|\bthen\s+|\band\s+)(?:find|compute|determine|evaluate|calculate|what|how|which)\b",
    re.I,
)


def _is_boundary(text: str, start: int, end: int) -> bool:
    """Is the terminator ``text[start:end]`` the end of a sentence?"""
    following = text[end:].lstrip()
    if not following:
        return True
    if text[start] != ".":
        return True
    if text[start:end].startswith(".."):
        return following[0].isupper()
    m = _WORD_BEFORE.search(text[:start])
    word = m.group(1).lower().rstrip(".") if m else ""
    if word in NEVER_END and not (word == "no" and not following[0].isdigit()):
        return False
    if word in MAYBE_END:
        return following[0].isupper()
    # Any other word ends a sentence, even before a lower-case letter (GSM8K has
    # "yoga.  in 4 weeks"); single capitals too ("Farm Y. He sold"), so "J. K."
    # initials are cut.
    return True


def _ends(text: str, lo: int = 0, hi: int | None = None) -> list[int]:
    hi = len(text) if hi is None else hi
    return [m.end() for m in _TERMINATOR.finditer(text, lo, hi) if _is_boundary(text, m.start(), m.end())]


def sentence_ends(text: str) -> list[int]:
    """Offsets just past each sentence's closing punctuation (plain text)."""
    return _ends(text)


def sentences(text: str) -> list[str]:
    """``text`` as a list of sentences (plain text; numbers and abbreviations kept whole)."""
    out, pos = [], 0
    for end in sentence_ends(text):
        if text[pos:end].strip():
            out.append(text[pos:end].strip())
        pos = end
    if text[pos:].strip():
        out.append(text[pos:].strip())
    return out


def _cut(text: str, ends: list[int]) -> tuple[str, str]:
    cuts = [e for e in ends if text[e:].strip()]
    if not cuts:
        return "", text.strip()
    return text[: cuts[-1]].strip(), text[cuts[-1] :].strip()


def split_last_sentence(text: str) -> tuple[str, str]:
    """``(context, question)``: the question is the last sentence."""
    return _cut(text, sentence_ends(text))


def split_naive(text: str) -> tuple[str, str]:
    """The reference implementation's split on every "." (see the module docstring)."""
    pieces = [p.strip() for p in text.split(".") if p.strip()]
    if not pieces:
        return ".", ""
    return ". ".join(pieces[:-1]).strip() + ".", pieces[-1]


def strip_figures(text: str) -> str:
    """``text`` without ``<asy>``, ``[asy]``, ``\\begin{asy}`` and TikZ figure code."""
    return re.sub(r"\n{3,}", "\n\n", _FIGURES.sub("", text)).strip()


def _protected(text: str) -> list[tuple[int, int]]:
    """Spans that must not be cut: math, environments (nesting-aware) and figures."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(text):
        math = _MATH_AND_FIGURES.search(text, pos)
        env = _BEGIN.search(text, pos)
        if env and (not math or env.start() < math.start()):
            end = _environment_end(text, env)
            spans.append((env.start(), end))
            pos = end
        elif math:
            spans.append((math.start(), math.end()))
            pos = math.end()
        else:
            break
    return spans


def _environment_end(text: str, begin: re.Match[str]) -> int:
    name = re.escape(begin.group(1))
    depth, pos = 0, begin.start()
    for m in re.finditer(rf"\\(begin|end)\{{{name}\}}", text[pos:]):
        depth += 1 if m.group(1) == "begin" else -1
        if depth == 0:
            return pos + m.end()
    return len(text)


def _latex_ends(text: str) -> Iterator[int]:
    spans = _protected(text)
    pos = 0
    for start, end in [*spans, (len(text), len(text))]:
        yield from _ends(text, pos, start)
        inner = text[start:end].rstrip("$").rstrip()
        inner = inner[:-2].rstrip() if inner.endswith(("\\]", "\\)")) else inner
        following = text[end:].lstrip()
        if end > start and inner.endswith((".", "?", "!")) and following[:1].isupper():
            yield end
        pos = end


def latex_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of each sentence, never cutting math or environments."""
    out: list[tuple[int, int]] = []
    pos = 0
    for end in sorted(set(_latex_ends(text))):
        if text[pos:end].strip():
            out.append((pos, end))
        pos = end
    if text[pos:].strip():
        out.append((pos, len(text)))
    return out


def asks(sentence: str) -> bool:
    """Does the sentence ask something (outside its math)?"""
    plain = _MATH_AND_FIGURES.sub(" ", sentence).strip()
    return bool(_ASKS.search(plain))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def split_latex_problem(text: str, *, strip_figure_code: bool = False) -> tuple[str, str]:
    """``(context, question)`` for a LaTeX problem (AIME); see the module docstring.

    The question is the last asking sentence; what follows it joins the
    context. A one-sentence problem has an empty context. ``strip_figure_code``
    first removes figure code (``strip_figures``).
    """
    if strip_figure_code:
        text = strip_figures(text)
    text = text.strip()
    spans = latex_sentences(text)
    if not spans:
        return "", ""
    asking = [i for i, (s, e) in enumerate(spans) if asks(text[s:e])]
    index = asking[-1] if asking else len(spans) - 1
    start, end = spans[index]
    context = _tidy(text[:start] + "\n\n" + text[end:]) if len(spans) > 1 else ""
    return context, _tidy(text[start:end])


def split_problem(text: str, splitter: Splitter = "sentence", *, latex: bool = False) -> tuple[str, str]:
    """``(context, question)`` with the named splitter: "sentence" (the correct
    one; LaTeX-aware when ``latex``) or "naive" (the reference code's)."""
    if splitter == "naive":
        return split_naive(text)
    if splitter == "sentence":
        return split_latex_problem(text) if latex else split_last_sentence(text)
    raise ValueError(f"unknown splitter {splitter!r}; choose from {SPLITTERS}")


__all__ = [
    "SPLITTERS",
    "Splitter",
    "asks",
    "latex_sentences",
    "sentence_ends",
    "sentences",
    "split_last_sentence",
    "split_latex_problem",
    "split_naive",
    "split_problem",
    "strip_figures",
]
