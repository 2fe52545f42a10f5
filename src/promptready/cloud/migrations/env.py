"""Alembic environment, driven programmatically by ``promptready.cloud.db.migrate``.

The URL arrives parsed in ``config.attributes["database_url"]``; migrations run on the store's
own async engine (so SQLite gets the same pragmas and BEGIN IMMEDIATE as the server).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from promptready.cloud.db import DatabaseUrl, Dialect, create_engine
from promptready.cloud.schema import metadata


def _run(connection: Connection, sqlite: bool) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=sqlite)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate(db: DatabaseUrl) -> None:
    engine = create_engine(db, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run, db.dialect is Dialect.SQLITE)
            await connection.commit()
    finally:
        await engine.dispose()


database_url = context.config.attributes["database_url"]
if not isinstance(database_url, DatabaseUrl):
    raise TypeError("run migrations through promptready.cloud.db.migrate(url)")
asyncio.run(_migrate(database_url))
