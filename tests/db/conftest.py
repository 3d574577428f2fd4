"""Fixtures for the store's database tests.

The PostgreSQL server is the session's one from ``tests/conftest.py`` (``postgres_server``,
started by ``tests/pg.py``); ``database_url`` there gives every test a fresh empty database on
SQLite and on PostgreSQL, and ``db`` a migrated ``Database`` on it. Here: ``empty_db``, the
same without the migration, for tests that drive Alembic themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from store.db import Database


@pytest_asyncio.fixture
async def empty_db(database_url: str) -> AsyncIterator[Database]:
    """A ``Database`` on a fresh empty database, not migrated."""
    database = Database(database_url, pool_size=2)
    try:
        yield database
    finally:
        await database.dispose()
