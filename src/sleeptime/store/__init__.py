"""Where contexts, learned contexts, sleep runs and queries are kept.

``open_store("sqlite:///path.db")`` or ``open_store("postgresql://user@host/db")``
returns a ``SQLStore`` with its schema migrated to the newest revision.
"""

from __future__ import annotations

from alembic.util import CommandError

from ..errors import StoreError
from .base import QueryRecord, RunStatus, SleepRun, Store
from .database import create_engine, describe, parse_url, store_errors
from .migrate import upgrade
from .sql import SQLStore


def open_store(url: str) -> SQLStore:
    """Connect to ``url`` and upgrade its schema.

    Raises ConfigurationError for a URL sleeptime cannot use, StoreError when the
    database cannot be reached or migrated.
    """
    parsed = parse_url(url)
    engine = create_engine(parsed)
    try:
        with store_errors(parsed, "cannot open the database at"):
            upgrade(engine)
    except CommandError as exc:
        engine.dispose()
        raise StoreError(f"cannot migrate {describe(parsed)}: {exc}") from exc
    except BaseException:
        engine.dispose()
        raise
    return SQLStore(engine)


__all__ = ["QueryRecord", "RunStatus", "SQLStore", "SleepRun", "Store", "open_store"]
