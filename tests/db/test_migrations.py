"""The Alembic migrations and ``store.schema`` agree, on SQLite and on PostgreSQL, in every direction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text

from store.db import Database, _downgrade, _upgrade, alembic_config, current_revision
from store.schema import events, metadata


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _differences(conn: Connection) -> list[Any]:
    """What autogenerate would write to bring the database to ``store.schema`` (nothing, if they agree)."""
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    return compare_metadata(context, metadata)


def _shape(conn: Connection) -> dict[str, Any]:
    """Each table's columns, primary key and indexes, as the database reports them."""
    found = inspect(conn)
    return {
        name: {
            "columns": sorted(c["name"] for c in found.get_columns(name)),
            "primary_key": found.get_pk_constraint(name)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(name)),
        }
        for name in found.get_table_names()
        if name != "alembic_version"
    }


def _declared_shape() -> dict[str, Any]:
    return {
        table.name: {
            "columns": sorted(c.name for c in table.columns),
            "primary_key": [c.name for c in table.primary_key.columns],
            "indexes": sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes),
        }
        for table in metadata.sorted_tables
    }


async def _sync(database: Database, fn: Callable[..., Any], *args: Any) -> Any:
    async with database.engine.begin() as conn:
        return await conn.run_sync(fn, *args)


async def test_upgrade_from_empty_creates_exactly_the_declared_schema(db: Database) -> None:
    """Migrating an empty database to head gives exactly the tables, columns, keys and indexes of store.schema."""
    assert await _sync(db, _differences) == []
    assert await _sync(db, _shape) == _declared_shape()


async def test_every_revision_upgrades_downgrades_and_upgrades_again(empty_db: Database) -> None:
    """Every revision goes up from its parent, back down to it and up again, ending at exactly store.schema."""
    revisions = list(reversed(list(_script().walk_revisions())))  # base first
    assert revisions, "no migrations in store/migrations/versions"
    for revision in revisions:
        parent = revision.down_revision
        assert parent is None or isinstance(parent, str), f"{revision.revision} merges branches: extend this test"
        assert await _sync(empty_db, current_revision) == parent, f"before {revision.revision}"
        await _sync(empty_db, _upgrade, revision.revision)
        assert await _sync(empty_db, current_revision) == revision.revision
        await _sync(empty_db, _downgrade, parent or "base")
        assert await _sync(empty_db, current_revision) == parent
        if parent is None:
            assert await _sync(empty_db, _shape) == {}, "downgrading to base leaves tables behind"
        await _sync(empty_db, _upgrade, revision.revision)
        assert await _sync(empty_db, current_revision) == revision.revision
    assert await _sync(empty_db, _differences) == []
    assert await _sync(empty_db, _shape) == _declared_shape()


async def test_migrate_again_keeps_data_and_stays_at_head(db: Database, database_url: str) -> None:
    """Calling migrate() again, from the same or a new Database, changes nothing and leaves the script's head."""
    now = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)
    async with db.write() as conn:
        await conn.execute(db.insert(events).values(
            event_id="ev-1", kind="conference", title="Kept", stage="preparation", status="active",
            on_site=False, start=now, end=now, timezone="UTC", locale="en", confidential=False,
            version=1, updated_at=now,
        ))
    await db.migrate()
    again = Database(database_url, pool_size=2)
    try:
        await again.migrate()
        await again.migrate()
        assert await _sync(again, current_revision) == _script().get_current_head()
        async with again.read() as conn:
            assert (await conn.execute(select(events.c.title))).scalars().all() == ["Kept"]
        assert await _sync(again, _differences) == []
    finally:
        await again.dispose()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    """A SQLite database is in WAL mode, on Convene's connections and in the file itself."""
    path = tmp_path / "convene.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.migrate()
        async with database.read() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await database.dispose()
    with sqlite3.connect(path) as plain:  # a connection without Convene's pragmas: WAL is a property of the file
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
