"""``/stats``: what sleeping cost, what answering cost, and when sleeping paid for itself."""

from __future__ import annotations

from fastapi import APIRouter

from ..costs import break_even
from ..store.usage import usage_by_context
from .auth import Tenant
from .deps import SchedulerDep, SettingsDep
from .schemas_runs import ContextStats, StatsOut, TokensOut

router = APIRouter(tags=["stats"])


def _avg(pair: tuple[int, int]) -> float | None:
    count, tokens = pair
    return tokens / count if count else None


@router.get("/stats", summary="Token usage and break-even")
def stats(tenant: Tenant, scheduler: SchedulerDep, settings: SettingsDep) -> StatsOut:
    """Per context: sleep-time and test-time tokens, queries served, and the break-even:
    after how many queries answered from the learned context sleeping paid for itself
    (the paper's amortization: generated tokens, test-time ones weighted ``test_time_weight``).
    The raw-answer cost comes from the context's own raw answers, else the tenant's."""
    usages = usage_by_context(scheduler.engine_sql, tenant)
    raw_all = (
        sum(u.by_source.get("raw", (0, 0))[0] for u in usages),
        sum(u.by_source.get("raw", (0, 0))[1] for u in usages),
    )
    weight = settings.test_time_weight
    contexts = []
    for u in usages:
        learned = u.by_source.get("learned", (0, 0))
        raw = u.by_source.get("raw", (0, 0))
        learned_avg, raw_avg = _avg(learned), _avg(raw)
        even = break_even(
            u.sleep_completion_tokens, learned_avg, raw_avg if raw_avg is not None else _avg(raw_all), weight
        )
        contexts.append(
            ContextStats(
                context_id=u.context_id,
                sleep_tokens=TokensOut(
                    prompt_tokens=u.sleep_prompt_tokens, completion_tokens=u.sleep_completion_tokens
                ),
                sleep_runs=u.sleep_runs,
                test_tokens=TokensOut(
                    prompt_tokens=u.test_prompt_tokens, completion_tokens=u.test_completion_tokens
                ),
                queries=u.queries,
                queries_from_learned=learned[0],
                queries_from_raw=raw[0],
                avg_completion_tokens_learned=learned_avg,
                avg_completion_tokens_raw=raw_avg,
                break_even_queries=even,
                paid_off=None if even is None else learned[0] >= even,
            )
        )
    return StatsOut(
        test_time_weight=weight,
        queries_served=sum(c.queries for c in contexts),
        sleep_tokens=TokensOut(
            prompt_tokens=sum(u.sleep_prompt_tokens for u in usages),
            completion_tokens=sum(u.sleep_completion_tokens for u in usages),
        ),
        test_tokens=TokensOut(
            prompt_tokens=sum(u.test_prompt_tokens for u in usages),
            completion_tokens=sum(u.test_completion_tokens for u in usages),
        ),
        contexts=contexts,
    )
