"""Knowing when a cheap answer is not enough (one of the paper's open problems).

Sleep-time compute pays off when the question's answer, or the quantities it
needs, were worked out while sleeping: then a terse answer only reads them off
the notes. A cheap answer that states a number the notes never mention was
worked out on the spot with a budget meant for reading, and is the one most
likely wrong. ``supported_by_notes`` is that check, and it costs no model call;
``Engine.ask(..., escalate=Budget(...))`` answers again with the larger budget
when it fails (and answers with that budget straight away when the context has
no learned context yet: there is nothing to read off).
"""

from __future__ import annotations

import re
from fractions import Fraction

from .answer import final_sentence
from .entries import Entries
from .learned import LearnedContext
from .llm.base import Completion

# "1,234.5", "-3", ".5", "$0.70", "12%": the number, without currency or percent signs.
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?![\w])")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
_AFTER_ANSWER_IS = re.compile(r"\banswer is\b:?", re.IGNORECASE)
MIN_TEXT_ANSWER = 3  # shorter non-numeric answers ("no", "A") match notes by accident


def numbers_in(text: str) -> set[Fraction]:
    """Every number written in ``text``, exactly (thousands separators removed)."""
    out = set()
    for match in _NUMBER.finditer(text):
        token = match.group(0).replace(",", "")
        if token in ("", "-", ".", "-."):
            continue
        try:
            out.add(Fraction(token))
        except ValueError:
            continue
    return out


def stated_answer(answer_text: str) -> str:
    """The part of an answer that states the result: the last boxed value, else the final
    'The answer is ...' sentence, else the last line."""
    boxed: list[str] = _BOXED.findall(answer_text)
    if boxed:
        return boxed[-1]
    final = final_sentence(answer_text)
    if _AFTER_ANSWER_IS.search(final):
        return _AFTER_ANSWER_IS.split(final)[-1]
    lines = [line for line in answer_text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def supported_by_notes(answer_text: str, notes: str) -> bool:
    """Does the learned context already contain what this answer states?

    Numeric answers: every number of the stated answer occurs in the notes.
    Other answers: the stated answer (at least ``MIN_TEXT_ANSWER`` characters) occurs
    in the notes, ignoring case. An empty answer or empty notes are never supported.
    """
    stated = stated_answer(answer_text).strip().rstrip(".")
    if not stated or not notes.strip():
        return False
    numbers = numbers_in(stated)
    if numbers:
        return numbers <= numbers_in(notes)
    text = re.sub(r"^answer:\s*", "", stated, flags=re.IGNORECASE).strip().lower()
    return len(text) >= MIN_TEXT_ANSWER and text in notes.lower()


def adds_facts(question: str, context: str) -> bool:
    """Does the question bring numbers the context does not state ("If each glass needs 5 eggs, ...")?
    Such a question cannot be read off the notes:
    its answer combines the new facts with the context (the terse verbosity-0 line picks a stale
    anticipated quantity instead), so verbosity 0 answers it with a program (``answer.py``)."""
    return bool(numbers_in(question) - numbers_in(context))


def trusted_notes(learned: LearnedContext) -> str:
    """What a cheap answer may be read off: for the solve strategy's entries, the quantities and the
    answers most of their solutions agreed on (an uncertain answer is no support, so a cheap
    answer that only repeats it escalates); for free-text notes, the whole text."""
    entries = learned.entries
    if entries is None:
        return learned.text
    settled = tuple(q for q in entries.questions if q.settled)
    return Entries(quantities=entries.quantities, questions=settled, facts=entries.facts).render()


def then(cheap: Completion, again: Completion) -> Completion:
    """The escalated answer as one completion: the second's text, both calls' tokens and time."""
    ttft = again.time_to_first_token_s
    return Completion(
        texts=again.texts,
        usage=cheap.usage + again.usage,
        model=again.model,
        latency_s=cheap.latency_s + again.latency_s,
        time_to_first_token_s=None if ttft is None else cheap.latency_s + ttft,
        finish_reasons=again.finish_reasons,
    )


__all__ = ["adds_facts", "numbers_in", "stated_answer", "supported_by_notes", "then", "trusted_notes"]
