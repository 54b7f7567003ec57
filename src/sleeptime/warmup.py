"""Sleep time also pays the answer prompt's prefill.

A question's prompt is the context, the notes, the verbosity's instruction and
then the question (``prompts.answer_messages``). Everything before the question
is known once a learned context is stored, so the end of a sleep computes it,
twice: the part every verbosity shares (context and notes) and the default
verbosity's whole prefix, its instruction included; with named values, also the
program prompt a question that adds facts is answered with. The embedded model saves
those prompt states (restored at ask time instead of evaluating them),
an OpenAI-compatible server gets one ``max_tokens=1`` request so its prefix
cache holds it. The baseline's prefix (the context without notes) is warmed
too, so that comparing the two stays fair: the honest baseline is "cache
warmed, then think at query time". States of a context's older learned
contexts are removed here; deleting a context removes all of its states.
"""

from __future__ import annotations

import logging

from . import prompts
from .context import Context
from .errors import SleeptimeError
from .learned import LearnedContext
from .llm.base import LLM, PrefixCachingLLM, PrefixReport
from .llm.priority import background
from .llm.prompt_state import drop_owner
from .settings import Settings

log = logging.getLogger(__name__)


def warm_answer_prompts(
    llm: LLM, context: Context, learned: LearnedContext, *, verbosity: int = 0
) -> list[PrefixReport]:
    """Compute the baseline's and the learned context's answer prefixes (the part all verbosities
    share, then ``verbosity``'s, the one questions come with by default); keep only those of
    ``context``'s states. Never fails the sleep that called it: problems are logged."""
    if not isinstance(llm, PrefixCachingLLM):
        return []
    entries = learned.entries
    computable = entries is not None and bool(entries.values())
    reports: list[PrefixReport] = []
    try:
        with background():
            # The baseline first: the learned prefix extends its context part, so that is evaluated
            # once; each verbosity's prefix extends the shared one, so only its instruction is.
            for notes, with_values in (("", False), (learned.text, computable)):
                for level in (None, verbosity):
                    variants = prompts.answer_prefix_messages(
                        context.text, notes, computable=with_values, verbosity=level
                    )
                    reports.append(llm.prepare_prefix(variants, owner=context.id))
            if computable:  # verbosity 0's prompt for a question that adds facts (answer.py)
                program = prompts.program_prefix_messages(context.text)
                reports.append(llm.prepare_prefix(program, owner=context.id))
            llm.retain_prefixes(context.id, [r.key for r in reports if r.key is not None])
    except (SleeptimeError, OSError) as exc:
        log.warning("could not prepare the answer prompt of context %s: %s", context.id, exc)
    for report in reports:
        if report.cached_tokens:
            log.info(
                "answer prefix of %s: %d of %d tokens were cached",
                context.id,
                report.cached_tokens,
                report.tokens,
            )
    return reports


def forget_context(settings: Settings, context_id: str) -> int:
    """Remove every saved prompt state of a deleted context; how many files went."""
    try:
        return drop_owner(settings.prompt_cache_dir, context_id)
    except OSError as exc:
        log.warning("could not remove the prompt states of context %s: %s", context_id, exc)
        return 0
