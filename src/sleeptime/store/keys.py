"""API keys of the HTTP server: each belongs to a tenant; only a hash is stored.

A key is ``st_`` plus 32 random bytes (URL-safe base64), so a plain sha256 of it
is enough: there is nothing to brute-force. The raw key is returned once, by
``create_key``, and never written anywhere.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..errors import InvalidInputError, NotFoundError
from . import rows
from .database import EngineStore
from .schema import api_keys

KEY_PREFIX = "st_"
MAX_TENANT_CHARS = 200


@dataclass(frozen=True)
class ApiKey:
    """A key's record; never the key itself."""

    id: str
    tenant: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def check_tenant(tenant: str) -> str:
    tenant = tenant.strip()
    if not tenant or len(tenant) > MAX_TENANT_CHARS or not tenant.isprintable():
        raise InvalidInputError(
            f"a tenant name is 1 to {MAX_TENANT_CHARS} printable characters", hint="e.g. --tenant acme"
        )
    return tenant


class KeyStore(EngineStore):
    """API keys on a store's SQLAlchemy engine (``SQLStore.engine``)."""

    def create_key(self, tenant: str, name: str = "") -> tuple[ApiKey, str]:
        """A new key for ``tenant``: (its record, the key). The key is shown only here."""
        tenant = check_tenant(tenant)
        if len(name) > 200:
            raise InvalidInputError("a key name is at most 200 characters")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(id=rows.new_id(6), tenant=tenant, name=name, created_at=rows.utcnow())
        with self._conn(write=True) as conn:
            conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    tenant=record.tenant,
                    key_hash=hash_key(key),
                    name=record.name,
                    created_at=record.created_at,
                )
            )
        return record, key

    def tenant_of(self, key: str) -> str | None:
        """The tenant of an active key; None for an unknown or revoked one."""
        stmt = sa.select(api_keys.c.tenant).where(
            api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
        )
        with self._conn() as conn:
            return conn.execute(stmt).scalar_one_or_none()

    def any_active(self) -> bool:
        stmt = sa.select(api_keys.c.id).where(api_keys.c.revoked_at.is_(None)).limit(1)
        with self._conn() as conn:
            return conn.execute(stmt).first() is not None

    def any_created(self) -> bool:
        """Whether a key was ever created here (revoked ones count): then keys are always needed."""
        stmt = sa.select(api_keys.c.id).limit(1)
        with self._conn() as conn:
            return conn.execute(stmt).first() is not None

    def list_keys(self, *, tenant: str | None = None, include_revoked: bool = False) -> list[ApiKey]:
        stmt = sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if tenant is not None:
            stmt = stmt.where(api_keys.c.tenant == tenant)
        if not include_revoked:
            stmt = stmt.where(api_keys.c.revoked_at.is_(None))
        with self._conn() as conn:
            return [_key_from_row(r) for r in conn.execute(stmt).mappings()]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by id (revoking twice is harmless)."""
        with self._conn(write=True) as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
            if row is None:
                raise NotFoundError(f"no API key {key_id!r}", hint="list them with `sleeptime keys list`")
            if row["revoked_at"] is None:
                conn.execute(
                    api_keys.update().where(api_keys.c.id == key_id).values(revoked_at=rows.utcnow())
                )
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().one()
        return _key_from_row(row)


def _key_from_row(row: sa.RowMapping) -> ApiKey:
    return rows.record_from_row(ApiKey, row)
