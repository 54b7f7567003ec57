"""Per-tenant quotas at the door (``store/quotas.py`` keeps them; docs/server.md lists them).

- ``requests_per_minute``: every authenticated request counts; over it, 429 with Retry-After.
- ``max_ask_tokens``: n x max_tokens of one question (and of its escalation); over it, 400
  naming the field: waiting would not help.
- ``max_sleep_tokens``: the worst case of one sleep run; over it, 400 for POST .../sleep, and
  a queued job of the tenant fails with the numbers.
- ``sleep_tokens_per_hour`` / ``_per_day``: the tenant's sleep tokens in any hour / 24 hours;
  POST .../sleep answers 429 with Retry-After when the run would not fit, and the
  scheduler holds the tenant's queued jobs until the window has room.

The server's own limits (``max_answer_tokens``, ``sleep_tokens_per_hour`` ...) hold as well.
"""

from __future__ import annotations

import math
from datetime import datetime

import sqlalchemy as sa
from fastapi import Request

from ..budget import Budget
from ..engine import Engine
from ..scheduler import policy
from ..store.quotas import NO_QUOTA, Quota, QuotaStore
from .errors import ParamError, QuotaExceededError


def admit(request: Request, tenant: str, now: datetime) -> Quota:
    """Count the request against the tenant's requests_per_minute; the tenant's quota."""
    store: QuotaStore = request.app.state.quotas
    quota = store.get(tenant)
    request.state.quota = quota
    if quota.requests_per_minute is not None:
        count, window_ends = store.count_request(tenant, now)
        if count > quota.requests_per_minute:
            raise QuotaExceededError(
                f"tenant {tenant} made {count - 1} requests this minute; its quota is "
                f"{quota.requests_per_minute} per minute",
                retry_after=max(1.0, (window_ends - now).total_seconds()),
            )
    return quota


def quota_of(request: Request) -> Quota:
    quota = getattr(request.state, "quota", None)
    return quota if isinstance(quota, Quota) else NO_QUOTA


def ask_tokens(engine: Engine, budget: Budget | None) -> int:
    """The most completion tokens one question with ``budget`` may spend (n x max_tokens)."""
    resolved = engine.resolve_ask_budget(budget)
    return resolved.n * resolved.max_tokens


def check_ask(quota: Quota, tenant: str, tokens: int, param: str) -> None:
    if quota.max_ask_tokens is not None and tokens > quota.max_ask_tokens:
        raise ParamError(
            f"one answer may spend up to {tokens:,} completion tokens (n x max_tokens), more than "
            f"tenant {tenant}'s max_ask_tokens of {quota.max_ask_tokens:,}",
            param=param,
            hint="lower max_tokens or n",
        )


def check_sleep(sql: sa.Engine, tenant: str, estimate: int, now: datetime) -> None:
    """A sleep asked for over HTTP: refused if the tenant's quota cannot take it."""
    check = policy.check_tenant_quota(sql, tenant, estimate, now)
    if check.ok:
        return
    if check.permanent or check.retry_at is None:
        raise ParamError(check.reason, param="budget")
    raise QuotaExceededError(check.reason, retry_after=math.ceil((check.retry_at - now).total_seconds()))
