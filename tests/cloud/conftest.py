"""Database fixtures for the hosted proxy's tests: a fresh SQLite file or a fresh PostgreSQL
database per test, dropped after.

- ``database_url`` is parametrised ``sqlite`` / ``postgresql``: a test that takes it runs on
  both (HTTP and billing tests under ``tests/cloud/`` inherit it).
- ``sqlite_url`` / ``postgres_url`` pick one; ``postgres_database()`` is the context manager
  behind them, for tests that need several databases or hand one to another process.
- The database is empty: call ``promptready.cloud.db.migrate(url)`` or use ``migrated_url``.
- ``make_store`` opens migrated ``Store`` objects (several on one URL act like several
  instances) and closes them after the test.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, user postgres; override with
``PROMPTREADY_TEST_POSTGRES``); when it is unreachable the postgresql cases are skipped.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from promptready.cloud.clock import Clock
from promptready.cloud.db import migrate, parse_database_url
from promptready.cloud.store import Store
from tests.cloud.wallets import store_settings

POSTGRES = os.environ.get("PROMPTREADY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


async def _admin(sql: str) -> None:
    db = parse_database_url(f"{POSTGRES}/postgres")
    engine = create_async_engine(db.url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL), dropped afterwards; skips without a server."""
    name = f"pr_test_{uuid.uuid4().hex[:16]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, DBAPIError) as error:
        pytest.skip(f"PostgreSQL at {POSTGRES} is not available: {type(error).__name__}")
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temp dir (removed with it)."""
    return f"sqlite:///{tmp_path / 'cloud.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each dialect in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """``database_url`` with the store's migrations applied."""
    migrate(database_url)
    return database_url


StoreFactory = Callable[..., Awaitable[Store]]


@pytest.fixture
async def make_store(migrated_url: str) -> AsyncIterator[StoreFactory]:
    """Open stores on the migrated database: ``await make_store(clock=..., **settings)``."""
    opened: list[Store] = []

    async def factory(clock: Clock | None = None, **overrides: object) -> Store:
        store = await Store.open(migrated_url, store_settings(**overrides), clock)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        problems = await store.check_invariants()
        await store.close()
        assert problems == [], problems
