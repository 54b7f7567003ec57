"""Fitting text into a model's context window: refuse with the numbers, or cut when asked."""

from __future__ import annotations

from .errors import ContextTooLongError
from .llm.base import LLM

TRUNCATION_MARK = "\n[... truncated to fit the model's context window ...]"
# Chat templates and our prompt wording take tokens beyond the texts themselves.
PROMPT_OVERHEAD_TOKENS = 320


def fit_text(llm: LLM, text: str, *, reserved: int, truncate: bool, what: str = "context") -> str:
    """``text`` if it fits in the window next to ``reserved`` other tokens; else cut it
    (``truncate``) or raise ContextTooLongError naming the limits."""
    window = llm.context_window
    available = window - reserved - PROMPT_OVERHEAD_TOKENS
    tokens = llm.count_tokens(text)
    if tokens <= available:
        return text
    if not truncate:
        raise ContextTooLongError(
            f"the {what} has {tokens:,} tokens but {llm.name}'s window of {window:,} leaves room for "
            f"{max(available, 0):,} next to {reserved:,} tokens of notes, question and answer budget"
        )
    if available <= 0:
        raise ContextTooLongError(f"{llm.name}'s window of {window:,} tokens has no room left for the {what}")
    # Cut proportionally, then tighten: token counts are not linear in characters.
    keep = int(len(text) * available / tokens)
    while keep > 0:
        candidate = text[:keep] + TRUNCATION_MARK
        if llm.count_tokens(candidate) <= available:
            return candidate
        keep = int(keep * 0.9)
    raise ContextTooLongError(f"{llm.name}'s window of {window:,} tokens has no room left for the {what}")
