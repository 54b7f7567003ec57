"""Bring a database's schema to the newest revision with Alembic, run from code.

Users never see Alembic: ``open_store`` calls ``upgrade`` and the configuration is
built here rather than read from an ``alembic.ini``. Developers add a revision
with ``alembic.command.revision(alembic_config(connection), message, autogenerate=True)``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from ..errors import StoreError
from .database import IMMEDIATE

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Not Alembic's default "alembic_version": the database may be shared with an
# application that has migrations of its own.
VERSION_TABLE = "sleeptime_alembic_version"
# Any fixed 64-bit number; processes opening the same PostgreSQL database at
# once queue on it so that only the first one runs the migrations.
PG_MIGRATION_LOCK = 0x51EE_7133_0001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        # migrations/env.py runs on this connection, inside its transaction.
        config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for a database sleeptime never touched."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``. Safe when several processes open a new database at once.

    SQLAlchemy and Alembic errors escape unwrapped; ``open_store`` maps them.
    """
    script = script_directory()
    with engine.connect() as conn:
        current = current_revision(conn)
    known = {s.revision for s in script.walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"the database schema is at revision {current!r}, newer than this version of sleeptime knows",
            hint="upgrade sleeptime, or use a different database",
        )
    if revision == "head" and current == script.get_current_head():
        return  # the common case: no lock, no write transaction

    with engine.connect() as conn:
        # SQLite: take the write lock before reading the version table, so a second
        # process waits here and then finds the work done.
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                # Released at commit. PostgreSQL's DDL is transactional, so the
                # waiting process sees either no tables or all of them.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(conn), revision)
