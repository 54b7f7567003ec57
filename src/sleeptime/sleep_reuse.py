"""What a sleep can reuse instead of computing: an identical earlier sleep, found by the
key of what produced it, and the notes of an earlier version that the new text only
appends to (incremental sleep). ``Engine.sleep`` asks both before calling a model.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from . import prompts
from .budget import Budget
from .context import Context
from .learned import LearnedContext
from .sleep import Growth
from .store import Store

# How many versions back an incremental sleep looks for notes to grow.
MAX_GROWTH_LOOKBACK = 20


def learned_key(
    context: Context, strategy: str, model: str, budget: Budget, based_on: str | None, *, nonce: str = ""
) -> str:
    """What produced a learned context; equal keys mean the same sleep."""
    identity = {
        "context": context.id,
        "version": context.version,
        "text": context.sha256,
        "strategy": strategy,
        "prompt_version": prompts.PROMPT_VERSION,
        "model": model,
        "budget": budget.model_dump(exclude_none=True),
        "based_on": based_on,
        "nonce": nonce,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def rerun_key(key: str) -> str:
    """The key of a forced re-run: KEY:NONCE, since keys are unique per version; ``reusable``
    finds it under KEY afterwards."""
    return f"{key}:{uuid.uuid4().hex[:12]}"


def reusable(store: Store, context: Context, key: str) -> LearnedContext | None:
    """The newest learned context made with ``key`` for this version, forced re-runs included."""
    exact = store.find_learned(context.id, context.version, key)
    if exact is None:  # the first run with a key takes the key itself; re-runs come after it
        return None
    reruns = [
        item
        for item in store.list_learned(context.id)  # newest first
        if item.context_version == context.version and item.key.startswith(f"{key}:")
    ]
    return reruns[0] if reruns else exact


def growth(store: Store, context: Context) -> tuple[Growth | None, str | None]:
    """If an earlier version that was slept on is a prefix of this one: its notes to grow, and
    the id of their learned context (``based_on``); else (None, None).

    Walks back over versions, so several appends between two sleeps still grow
    the last learned context instead of starting over.
    """
    for version in range(context.version - 1, max(0, context.version - MAX_GROWTH_LOOKBACK), -1):
        earlier = store.get_context(context.id, version=version)
        if not context.text.startswith(earlier.text):
            return None, None  # replaced, not appended: older versions cannot be prefixes either
        learned = store.latest_learned(context.id, version)
        if learned is not None:
            added = context.text[len(earlier.text) :].strip()
            return (Growth(earlier.text, added, learned.text), learned.id) if added else (None, None)
    return None, None
