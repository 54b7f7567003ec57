"""Token totals summed in SQL: the scheduler's budgets and the server's ``/stats``.

Sleep-time tokens are read from ``sleep_runs`` (every run, whatever its status:
the worker records what a failed or cancelled run spent), test-time tokens from
``queries``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import rows
from .database import store_errors
from .schema import contexts, queries, sleep_runs


@dataclass(frozen=True)
class Spent:
    """Tokens spent since a time, and when the oldest of those runs started."""

    tokens: int
    oldest: datetime | None


@dataclass
class ContextUsage:
    """One context's sleep-time and test-time totals."""

    context_id: str
    sleep_prompt_tokens: int = 0
    sleep_completion_tokens: int = 0
    sleep_runs: int = 0
    test_prompt_tokens: int = 0
    test_completion_tokens: int = 0
    # per answer source ("learned", "raw"): (queries, completion tokens)
    by_source: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def queries(self) -> int:
        return sum(n for n, _ in self.by_source.values())


def sleep_tokens_since(
    engine: Engine, since: datetime, *, context_id: str | None = None, tenant: str | None = None
) -> Spent:
    """Prompt plus completion tokens of sleep runs started at or after ``since``
    (of one context, or of one tenant's contexts, when given)."""
    r = sleep_runs
    stmt = sa.select(
        sa.func.coalesce(sa.func.sum(r.c.prompt_tokens + r.c.completion_tokens), 0),
        sa.func.min(r.c.started_at),
    ).where(r.c.started_at >= rows.to_utc(since))
    if context_id is not None:
        stmt = stmt.where(r.c.context_id == context_id)
    if tenant is not None:
        stmt = stmt.where(r.c.context_id.in_(sa.select(contexts.c.id).where(contexts.c.tenant == tenant)))
    with store_errors(engine.url), engine.connect() as conn:
        tokens, oldest = conn.execute(stmt).one()
    return Spent(int(tokens), rows.from_db_time(oldest))


def usage_by_context(engine: Engine, tenant: str) -> list[ContextUsage]:
    """Totals for each of a tenant's contexts, oldest context first."""
    r, q, c = sleep_runs, queries, contexts
    found: dict[str, ContextUsage] = {}
    with store_errors(engine.url), engine.connect() as conn:
        ids = conn.execute(
            sa.select(c.c.id).where(c.c.tenant == tenant).order_by(c.c.created_at, c.c.id)
        ).scalars()
        for context_id in ids:
            found[context_id] = ContextUsage(context_id)
        sleep = conn.execute(
            sa.select(
                r.c.context_id,
                sa.func.sum(r.c.prompt_tokens),
                sa.func.sum(r.c.completion_tokens),
                sa.func.count(),
            )
            .join(c, c.c.id == r.c.context_id)
            .where(c.c.tenant == tenant)
            .group_by(r.c.context_id)
        )
        for context_id, prompt, completion, count in sleep:
            item = found.setdefault(context_id, ContextUsage(context_id))
            item.sleep_prompt_tokens, item.sleep_completion_tokens = int(prompt or 0), int(completion or 0)
            item.sleep_runs = int(count)
        test = conn.execute(
            sa.select(
                q.c.context_id,
                q.c.source,
                sa.func.count(),
                sa.func.sum(q.c.prompt_tokens),
                sa.func.sum(q.c.completion_tokens),
            )
            .join(c, c.c.id == q.c.context_id)
            .where(c.c.tenant == tenant)
            .group_by(q.c.context_id, q.c.source)
        )
        for context_id, source, count, prompt, completion in test:
            item = found.setdefault(context_id, ContextUsage(context_id))
            item.test_prompt_tokens += int(prompt or 0)
            item.test_completion_tokens += int(completion or 0)
            item.by_source[source] = (int(count), int(completion or 0))
    return list(found.values())
