"""Every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``SLEEPTIME_TEST_PG_URL`` (``scripts/postgres.sh`` starts one
and prints it). Without it the PostgreSQL cases are skipped, except under CI
(``CI`` set to a true value), where they fail: CI must not pass by skipping.
Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from sleeptime.store import SQLStore, open_store
from sleeptime.store.database import parse_url

PG_URL_ENV = "SLEEPTIME_TEST_PG_URL"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def pg_admin_url() -> sa.URL:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        if _truthy(os.environ.get("CI")):
            pytest.fail(f"{PG_URL_ENV} is not set, and CI must test PostgreSQL (run scripts/postgres.sh)")
        pytest.skip(f"{PG_URL_ENV} is not set (scripts/postgres.sh prints one)")
    return parse_url(url)


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """The URL of a new, empty schema on the test server (its search_path); dropped on exit.

    A schema rather than a database: CREATE DATABASE costs half a second a test.
    """
    admin_url = pg_admin_url()
    name = f"sleeptime_t_{secrets.token_hex(6)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
        try:
            url = admin_url.update_query_dict({"options": f"-c search_path={name}"})
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                # Fail rather than hang if a broken test left a transaction open.
                conn.execute(sa.text("SET lock_timeout = '20s'"))
                conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        admin.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'store.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database, once per backend."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with fresh_pg_schema() as url:
            yield url


@pytest.fixture
def store(db_url: str) -> Iterator[SQLStore]:
    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()
