"""Connecting to the database: a SQLite file by default, PostgreSQL by URL, the same code.

``CONVENE_DATABASE_URL`` picks it: ``sqlite+aiosqlite:///var/convene.db`` (the
default: a file beside Temporal's dev-server file, in WAL mode) or
``postgresql+asyncpg://user:pass@host/db`` at scale. :meth:`Database.migrate`
brings the schema to the newest Alembic revision; the worker, the API and the
dev stack call it at start, so nobody runs a separate step.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Insert

from store.schema import metadata

DEFAULT_URL = "sqlite+aiosqlite:///var/convene.db"
_MIGRATION_LOCK = 0x636F6E76  # any constant: "conv"
_MIGRATING = asyncio.Lock()
MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off: `_begin` below says BEGIN itself,
    # IMMEDIATE for writes, so two writers never deadlock upgrading a read lock.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


class Database:
    """One engine per process. ``read()`` and ``write()`` give a connection inside a transaction.

    Args:
        url: an SQLAlchemy URL with an async driver (``sqlite+aiosqlite`` or ``postgresql+asyncpg``).
        pool_size: connections kept open (PostgreSQL); SQLite files use a small pool of their own.
    """

    def __init__(self, url: str = DEFAULT_URL, *, pool_size: int = 10) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs |= {"pool_size": pool_size, "max_overflow": pool_size * 2, "pool_pre_ping": True}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _begin)
        self._migrated = False
        self._lock = asyncio.Lock()
        self._writer = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite: writers queue instead of deadlocking)."""
        if not self.is_sqlite:
            async with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        # SQLite has one writer at a time: queue this process's writers here rather than in SQLite's
        # busy handler, which sleeps in growing steps (other processes still wait through busy_timeout).
        async with self._writer, self.engine.connect() as conn:
            conn = await conn.execution_options(write=True)
            async with conn.begin():
                yield conn

    def insert(self, table: Any) -> Insert:
        """An INSERT that can say ``on_conflict_do_nothing`` / ``on_conflict_do_update`` on either database."""
        return (sqlite.insert if self.is_sqlite else postgresql.insert)(table)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision, once per process.

        Safe when the worker and the API start together on a new database: PostgreSQL migrations
        take an advisory lock, SQLite's a write lock (BEGIN IMMEDIATE), so the second waits and then
        finds nothing to do; in one process a module-wide lock serialises them (Alembic's context
        is module state).
        """
        async with self._lock, _MIGRATING:
            if self._migrated:
                return
            async with self.engine.connect() as conn:
                if self.is_sqlite:
                    conn = await conn.execution_options(write=True)
                async with conn.begin():
                    if not self.is_sqlite:
                        await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                    await conn.run_sync(_upgrade, "head")
            self._migrated = True

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Any | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Any, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Any, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(connection), revision)


def current_revision(connection: Any) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


__all__ = ["DEFAULT_URL", "Database", "alembic_config", "current_revision", "metadata"]
