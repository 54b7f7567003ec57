"""When to sleep and how much it may cost: debounce, token budgets, break-even.

- Debounce: an edit or a query makes a context due ``idle_delay_s`` later; another
  one before then pushes the time back (``JobStore.touch``).
- Budgets: sleep-time tokens (prompt + completion) per context in any 24 hours,
  and for the whole server in any hour and any 24 hours, summed from the recorded
  runs. A run starts only if its worst case fits; otherwise it waits until the
  oldest run in the window leaves it. A run whose worst case alone exceeds a
  limit can never start, and fails with the numbers.
- Break-even: ``sleeptime.costs.break_even`` (the paper's cost model lives there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from ..budget import SleepBudget
from ..llm.base import LLM
from ..settings import Settings
from ..store.quotas import QuotaStore
from ..store.usage import sleep_tokens_since
from ..window import PROMPT_OVERHEAD_TOKENS

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def due_at(now: datetime, idle_delay_s: float) -> datetime:
    """When a context touched at ``now`` becomes due for sleep."""
    return now + timedelta(seconds=idle_delay_s)


def retry_at(now: datetime, base_delay_s: float, attempt: int) -> datetime:
    """When a failed attempt number ``attempt`` (1-based) is tried again: exponential backoff."""
    return now + timedelta(seconds=base_delay_s * 2.0 ** max(0, attempt - 1))


@dataclass(frozen=True)
class TokenLimits:
    """Sleep-time token limits. Here (as in the settings they come from) ``None`` means
    *no limit*; it is never "not set" (budget fields use ``None`` for that: ``budget.py``)."""

    context_per_day: int | None = None
    per_hour: int | None = None
    per_day: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenLimits:
        return cls(
            settings.context_sleep_tokens_per_day,
            settings.sleep_tokens_per_hour,
            settings.sleep_tokens_per_day,
        )


@dataclass(frozen=True)
class BudgetCheck:
    ok: bool
    reason: str = ""
    retry_at: datetime | None = None  # when the window will have room again
    permanent: bool = False  # one run can never fit


def estimate_sleep_tokens(llm: LLM, text: str, budget: SleepBudget) -> int:
    """Worst case of one sleep: every round reads the context and the notes and writes ``max_tokens``."""
    rounds, k, max_tokens = budget.rounds, budget.k, budget.max_tokens
    prompt = llm.count_tokens(text) + max_tokens + PROMPT_OVERHEAD_TOKENS
    return rounds * k * (prompt + max_tokens)


def check_budgets(
    engine: Engine,
    limits: TokenLimits,
    context_id: str,
    estimate: int,
    now: datetime,
    *,
    tenant: str | None = None,
) -> BudgetCheck:
    """May a run of up to ``estimate`` tokens start now? With ``tenant``, its quota counts too."""
    windows: list[tuple[str, int | None, timedelta, dict[str, str]]] = [
        ("this context's daily", limits.context_per_day, DAY, {"context_id": context_id}),
        ("the server's hourly", limits.per_hour, HOUR, {}),
        ("the server's daily", limits.per_day, DAY, {}),
    ]
    check = _check_windows(engine, windows, estimate, now)
    return check if not check.ok or tenant is None else check_tenant_quota(engine, tenant, estimate, now)


def check_tenant_quota(engine: Engine, tenant: str, estimate: int, now: datetime) -> BudgetCheck:
    """May the tenant start a run of up to ``estimate`` tokens now (``tenant_quotas``)?"""
    quota = QuotaStore(engine).get(tenant)
    if quota.max_sleep_tokens is not None and estimate > quota.max_sleep_tokens:
        return BudgetCheck(
            False,
            f"one sleep may spend up to {estimate:,} tokens, more than tenant {tenant}'s max_sleep_tokens "
            f"of {quota.max_sleep_tokens:,}; lower the sleep budget (rounds, k, max_tokens)",
            permanent=True,
        )
    windows: list[tuple[str, int | None, timedelta, dict[str, str]]] = [
        (f"tenant {tenant}'s hourly", quota.sleep_tokens_per_hour, HOUR, {"tenant": tenant}),
        (f"tenant {tenant}'s daily", quota.sleep_tokens_per_day, DAY, {"tenant": tenant}),
    ]
    return _check_windows(engine, windows, estimate, now)


def _check_windows(
    engine: Engine,
    windows: list[tuple[str, int | None, timedelta, dict[str, str]]],
    estimate: int,
    now: datetime,
) -> BudgetCheck:
    for name, limit, window, scope in windows:
        if limit is None:
            continue
        if estimate > limit:
            return BudgetCheck(
                False,
                f"one sleep may spend up to {estimate:,} tokens, more than {name} sleep budget of "
                f"{limit:,}; lower the sleep budget (rounds, k, max_tokens) or raise the limit",
                permanent=True,
            )
        spent = sleep_tokens_since(engine, now - window, **scope)
        if spent.tokens + estimate > limit:
            free_at = (spent.oldest or now) + window
            return BudgetCheck(
                False,
                f"{name} sleep budget: {spent.tokens:,} of {limit:,} tokens spent, and one sleep may "
                f"spend up to {estimate:,}; waiting until {free_at.isoformat(timespec='seconds')}",
                retry_at=max(free_at, now + timedelta(seconds=1)),
            )
    return BudgetCheck(True)
