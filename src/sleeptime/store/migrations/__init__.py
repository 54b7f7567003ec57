"""Alembic environment for sleeptime's schema; run by ``sleeptime.store.migrate``."""
