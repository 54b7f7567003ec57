"""Stored results of POSTs sent with an ``Idempotency-Key`` (table ``idempotency_keys``),
so that a client retrying after a lost answer gets the first answer instead of a
second write. Keys are per tenant and kept ``ttl_s``; the server side is
``server/idempotency.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa

from . import rows
from .database import EngineStore
from .schema import idempotency_keys

Outcome = Literal["new", "replay", "mismatch", "in_progress"]


@dataclass(frozen=True)
class Begun:
    outcome: Outcome
    status_code: int | None = None
    content_type: str | None = None
    body: bytes | None = None


class IdempotencyStore(EngineStore):
    def begin(
        self,
        tenant: str,
        key: str,
        fingerprint: str,
        owner: str,
        *,
        now: datetime,
        ttl_s: float,
        lease_s: float,
        is_dead: Callable[[str], bool],
    ) -> Begun:
        """Claim ``key`` for a request, or say why not: its stored answer (``replay``), another
        request under the same key (``mismatch``), or one still being answered (``in_progress``).
        A claim whose owner died, or older than ``lease_s``, is taken over."""
        t = idempotency_keys
        now = rows.to_utc(now)
        where = (t.c.tenant == tenant) & (t.c.key == key)
        with self._conn(write=True) as conn:
            conn.execute(t.delete().where(t.c.expires_at < now))
            row = conn.execute(sa.select(t).where(where)).mappings().first()
            if row is None:
                conn.execute(
                    t.insert().values(
                        tenant=tenant,
                        key=key,
                        fingerprint=fingerprint,
                        owner=owner,
                        created_at=now,
                        expires_at=now + timedelta(seconds=ttl_s),
                    )
                )
                return Begun("new")
            if row["fingerprint"] != fingerprint:
                return Begun("mismatch")
            if row["status_code"] is not None:
                return Begun("replay", row["status_code"], row["content_type"], row["body"])
            started = rows.from_db_time(row["created_at"])
            assert started is not None
            if is_dead(row["owner"]) or started + timedelta(seconds=lease_s) < now:
                conn.execute(t.update().where(where).values(owner=owner, created_at=now))
                return Begun("new")
            return Begun("in_progress")

    def finish(
        self, tenant: str, key: str, owner: str, status_code: int, content_type: str | None, body: bytes
    ) -> None:
        t = idempotency_keys
        with self._conn(write=True) as conn:
            conn.execute(
                t.update()
                .where(t.c.tenant == tenant, t.c.key == key, t.c.owner == owner)
                .values(status_code=status_code, content_type=content_type, body=body)
            )

    def abandon(self, tenant: str, key: str, owner: str) -> None:
        """Forget a claim whose request failed in a way worth retrying (5xx, 429)."""
        t = idempotency_keys
        with self._conn(write=True) as conn:
            conn.execute(t.delete().where(t.c.tenant == tenant, t.c.key == key, t.c.owner == owner))
