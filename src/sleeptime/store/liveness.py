"""On PostgreSQL, whether the process holding a job's lease is alive, from any host.

Each scheduler holds a session-level advisory lock named after its lease-owner prefix
(``host:pid:token:``) on a connection of its own, for as long as it runs. When the
process dies, PostgreSQL ends its session and frees the lock, so another process that
can take the lock knows at once that the holder is gone, and its jobs can be retried
without waiting for their leases to expire. SQLite has no such thing: there, a dead
holder is found by its pid on the same host, or when its lease expires.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# The first half of the two-int advisory-lock key: sleeptime's liveness locks.
LOCK_CLASS = 0x51EE
# Ends the token of an owner that holds a liveness lock: only such owners are judged by it
# (an owner without one, e.g. of an older version, keeps its job until its lease expires).
MARK = "+live"


def lock_key(prefix: str) -> int:
    """A signed 32-bit key for an owner prefix."""
    return int.from_bytes(hashlib.sha256(prefix.encode()).digest()[:4], "big", signed=True)


def owner_prefix(owner: str) -> str:
    """``host:pid:token:`` of a lease owner ``host:pid:token:worker``."""
    return owner.rsplit(":", 1)[0] + ":"


class Beacon:
    """This process's liveness lock (PostgreSQL only; elsewhere every method does nothing).

    ``prefix`` is the lease-owner prefix to use: ``base`` plus ``MARK`` where the lock exists.
    """

    def __init__(self, engine: Engine, base: str) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self.prefix = f"{base}{MARK}:" if self.enabled else f"{base}:"
        self._conn: Connection | None = None

    def start(self) -> None:
        if not self.enabled or self._conn is not None:
            return
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(
            sa.text("SELECT pg_advisory_lock(:c, :k)"), {"c": LOCK_CLASS, "k": lock_key(self.prefix)}
        )
        self._conn = conn

    def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute(
                    sa.text("SELECT pg_advisory_unlock(:c, :k)"),
                    {"c": LOCK_CLASS, "k": lock_key(self.prefix)},
                )
            finally:
                conn.close()

    def is_dead(self, owner: str) -> bool:
        """Whether the process that owns ``owner``'s lease is gone (its liveness lock is free)."""
        prefix = owner_prefix(owner)
        if not self.enabled or prefix == self.prefix or not prefix.endswith(f"{MARK}:"):
            return False
        params = {"c": LOCK_CLASS, "k": lock_key(prefix)}
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            free = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:c, :k)"), params).scalar())
            if free:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:c, :k)"), params)
        if free:
            log.info("the process of lease owner %s is gone: its jobs are retried now", owner)
        return free
