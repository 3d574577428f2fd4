"""Alembic environment: migrations run on the connection Convene hands over (``Database.migrate``),
or, from the ``alembic`` command line, on ``CONVENE_DATABASE_URL``."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from store.schema import metadata

config = context.config


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic CLI: `alembic -c store/migrations/alembic.ini upgrade head`
    from store.db import DEFAULT_URL

    async def _online() -> None:
        engine = create_async_engine(os.environ.get("CONVENE_DATABASE_URL", DEFAULT_URL))
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(_online())
