"""Database fixtures for the hosted proxy's tests: a fresh SQLite file or a fresh PostgreSQL
database per test, dropped after.

- ``database_url`` is parametrised ``sqlite`` / ``postgresql``: a test that takes it runs on
  both (HTTP and billing tests under ``tests/cloud/`` inherit it).
- ``sqlite_url`` / ``postgres_url`` pick one; ``postgres_database()`` is the context manager
  behind them, for tests that need several databases or hand one to another process.
- The database is empty: call ``promptready.cloud.db.migrate(url)``, or take ``migrated_url`` /
  ``migrated_postgres_url`` (copies of a template migrated once per session, see ``databases``).
- ``make_store`` opens migrated ``Store`` objects (several on one URL act like several
  instances) and closes them after the test.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, user postgres; override with
``PROMPTREADY_TEST_POSTGRES``); when it is unreachable the postgresql cases are skipped, unless
``PROMPTREADY_TEST_REQUIRE_POSTGRES=1`` (``make test`` sets it): then they fail, so a suite that
silently ran on SQLite alone cannot pass.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from promptready.cloud.clock import Clock
from promptready.cloud.store import Store
from tests.cloud.databases import POSTGRES, Templates, created
from tests.cloud.wallets import store_settings


@contextmanager
def postgres_database(templates: Templates | None = None) -> Iterator[str]:
    """A new PostgreSQL database (its URL), migrated from ``templates`` when given, else empty;
    dropped afterwards. Skips the test without a server."""
    with ExitStack() as stack:
        try:  # only the creation: an error from the test itself must not turn into a skip
            url = stack.enter_context(templates.postgres() if templates else created())
        except (OSError, DBAPIError) as error:
            unavailable = f"PostgreSQL at {POSTGRES} is not available: {type(error).__name__}"
            if os.environ.get("PROMPTREADY_TEST_REQUIRE_POSTGRES") == "1":
                pytest.fail(unavailable + " (PROMPTREADY_TEST_REQUIRE_POSTGRES=1)")
            pytest.skip(unavailable)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temp dir (removed with it)."""
    return f"sqlite:///{tmp_path / 'cloud.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def migrated_postgres_url(db_templates: Templates) -> Iterator[str]:
    """A fresh PostgreSQL database with the store's migrations applied, for this test."""
    with postgres_database(db_templates) as url:
        yield url


DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each dialect in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloud.sqlite3'}"
        return
    with postgres_database() as url:
        yield url


@pytest.fixture(params=DIALECTS)
def migrated_url(
    request: pytest.FixtureRequest, tmp_path: Path, db_templates: Templates
) -> Iterator[str]:
    """A fresh database with the store's migrations applied, on each dialect in turn (a copy
    of the session's migrated template)."""
    if request.param == "sqlite":
        yield db_templates.sqlite(tmp_path / "cloud.sqlite3")
        return
    with postgres_database(db_templates) as url:
        yield url


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
