"""From a URL to a configured SQLAlchemy ``Engine``, and the one place where
SQLAlchemy's exceptions become ``StoreError``."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine

from ..errors import ConfigurationError, StoreError

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10

# Connection execution option read by the SQLite "begin" hook below.
IMMEDIATE = "sleeptime_begin_immediate"

_URL_HINT = "use sqlite:///path/to/file.db or postgresql://user@host:port/dbname"


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``, with drivers normalised; ConfigurationError if unusable."""
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"not a database URL: {url!r}", hint=_URL_HINT) from exc
    shown = repr(url if parsed.password is None else describe(parsed))  # never the password
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite":
        if driver not in ("", "pysqlite"):
            raise ConfigurationError(f"unsupported SQLite driver {driver!r} in {shown}", hint=_URL_HINT)
        database = parsed.database or ""
        if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
            # Each pooled connection would get its own empty database.
            raise ConfigurationError(
                f"in-memory SQLite is not supported: {shown}",
                hint="give a file path, e.g. sqlite:///sleeptime.db",
            )
        if parsed.host or parsed.port or parsed.username:
            raise ConfigurationError(f"a SQLite URL names a file, not a host: {shown}", hint=_URL_HINT)
        return parsed.set(drivername="sqlite", database=str(Path(database).expanduser()))
    if backend in ("postgresql", "postgres"):
        # Plain postgresql:// means psycopg2 to SQLAlchemy; sleeptime depends on psycopg 3.
        if driver not in ("", "psycopg"):
            raise ConfigurationError(
                f"unsupported PostgreSQL driver {driver!r} in {shown}",
                hint="use postgresql:// or postgresql+psycopg:// (psycopg 3)",
            )
        if not parsed.database:
            raise ConfigurationError(f"no database name in {shown}", hint=_URL_HINT)
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigurationError(f"unsupported database {parsed.drivername!r} in {shown}", hint=_URL_HINT)


def describe(url: URL) -> str:
    """The URL as it may be shown to users: never with the password."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{url.database}"  # the path as the user wrote it, not %-escaped
    return url.render_as_string(hide_password=True)


def create_engine(url: URL) -> Engine:
    """An engine for a URL from ``parse_url``. Does not connect yet."""
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory for {url.database}: {exc}") from exc
        engine = sa.create_engine(url)
        _configure_sqlite(engine)
        return engine
    try:
        return sa.create_engine(
            url,
            # The server may restart between two requests of a long-lived process.
            pool_pre_ping=True,
            connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
        )
    except ImportError as exc:
        raise ConfigurationError(
            "PostgreSQL needs the psycopg package", hint="pip install 'sleeptime[postgres]'"
        ) from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module (which skips it before SELECT and
        # DDL) so the "begin" hook below decides how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # First, so that every statement below waits for a lock instead of failing.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # WAL: readers do not block the writer, nor the writer the readers. Switching
            # needs an exclusive lock, which several processes opening a new file at once
            # contend for; SQLite may refuse at once, so wait and retry within the timeout.
            deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
            while True:
                try:
                    cursor.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            # Off by default in SQLite; the cascades in schema.py rely on it.
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes cannot wait for the
        # write lock (SQLite answers SQLITE_BUSY at once, whatever the timeout),
        # so writers take the lock up front and queue on busy_timeout instead.
        if conn.get_execution_options().get(IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """One transaction on ``engine``; ``write`` takes SQLite's write lock up front (see ``_on_begin``).
    SQLAlchemy errors become StoreErrors naming the database."""
    with store_errors(engine.url), engine.connect() as conn:
        if write:
            conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            yield conn


class EngineStore:
    """Rows on a store's SQLAlchemy engine (``SQLStore.engine``), each method in one ``transaction``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _conn(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        return transaction(self.engine, write=write)


@contextmanager
def store_errors(url: URL, doing: str = "database error on") -> Iterator[None]:
    """Turn any SQLAlchemy error into a StoreError that names the database."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"{doing} {describe(url)}: {_first_line(exc)}") from exc


def _first_line(exc: sa.exc.SQLAlchemyError) -> str:
    # The DBAPI's own message, without SQLAlchemy's statement dump and doc link.
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
