"""Per-tenant quotas (table ``tenant_quotas``) and the request counter behind
``requests_per_minute`` (``tenant_request_counts``), shared by every server process.

A quota field left ``None`` means *no limit* of that kind for the tenant; the
server's own limits (``max_answer_tokens``, ``sleep_tokens_per_hour`` ...) still
hold. Quotas are set with ``sleeptime keys create|quota``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import InvalidInputError
from . import rows
from .database import EngineStore
from .schema import tenant_quotas, tenant_request_counts

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Quota:
    """A tenant's limits; ``None``: no limit of that kind."""

    requests_per_minute: int | None = None
    sleep_tokens_per_hour: int | None = None
    sleep_tokens_per_day: int | None = None
    max_ask_tokens: int | None = None  # n x max_tokens of one question
    max_sleep_tokens: int | None = None  # worst case of one sleep run

    @property
    def unlimited(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def to_dict(self) -> dict[str, int | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


QUOTA_FIELDS = tuple(f.name for f in fields(Quota))
NO_QUOTA = Quota()


class QuotaStore(EngineStore):
    def get(self, tenant: str) -> Quota:
        stmt = sa.select(*(tenant_quotas.c[name] for name in QUOTA_FIELDS)).where(
            tenant_quotas.c.tenant == tenant
        )
        with self._conn() as conn:
            row = conn.execute(stmt).mappings().first()
        return NO_QUOTA if row is None else Quota(**dict(row))

    def set(self, tenant: str, quota: Quota) -> Quota:
        """Replace the tenant's quota (every field; ``None`` removes a limit)."""
        for name, value in quota.to_dict().items():
            if value is not None and value < 1:
                raise InvalidInputError(f"{name} must be at least 1 (or none, for no limit)")
        values = {**quota.to_dict(), "updated_at": rows.utcnow()}
        with self._conn(write=True) as conn:
            done = conn.execute(
                tenant_quotas.update().where(tenant_quotas.c.tenant == tenant).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(tenant_quotas.insert().values(tenant=tenant, **values))
        return quota

    def count_request(self, tenant: str, now: datetime) -> tuple[int, datetime]:
        """Count one request in the tenant's current minute: (requests so far in it, when it ends)."""
        now = rows.to_utc(now)
        start = now.replace(second=0, microsecond=0)
        c = tenant_request_counts
        with self._conn(write=True) as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(c).values(tenant=tenant, window_start=start, count=1)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[c.c.tenant, c.c.window_start], set_={"count": c.c.count + 1}
                )
            )
            count = conn.execute(
                sa.select(c.c.count).where(c.c.tenant == tenant, c.c.window_start == start)
            ).scalar_one()
            conn.execute(c.delete().where(c.c.tenant == tenant, c.c.window_start < start))
        return int(count), start + MINUTE
