"""Alembic's entry point. Only online mode, on the connection that
``sleeptime.store.migrate`` opened (and whose transaction it commits)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from sleeptime.store.migrate import VERSION_TABLE
from sleeptime.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "sleeptime's migrations run through sleeptime.store.migrate.upgrade (open_store does it), "
        "which passes a connection; there is no alembic.ini"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
