"""Database URLs, the async engine (pooled), write transactions and migrations.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails at once with
SQLITE_BUSY under WAL (the busy timeout is not consulted), so the write lock is taken up front.
PostgreSQL uses READ COMMITTED; every money statement is a conditional UPDATE under the row lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Table, event, inspect, make_url
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from promptready.paths import app_paths

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 10_000
DEFAULT_FILE = "cloud.sqlite3"


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class Driver(StrEnum):
    """The PostgreSQL driver; asyncpg is the default, chosen by ``bench/cloud_store_bench.py``."""

    ASYNCPG = "asyncpg"
    PSYCOPG = "psycopg"


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL; ``url`` is what SQLAlchemy connects to, ``safe`` has no password."""

    dialect: Dialect
    url: URL

    @property
    def safe(self) -> str:
        """The URL with any password masked, for logs and messages."""
        return self.url.render_as_string(hide_password=True)

    def with_driver(self, driver: Driver) -> DatabaseUrl:
        """The same PostgreSQL database through another driver."""
        if self.dialect is not Dialect.POSTGRESQL:
            raise ValueError("only a PostgreSQL URL has a choice of driver")
        return DatabaseUrl(self.dialect, self.url.set(drivername=f"postgresql+{driver}"))


_SCHEMES = {
    "sqlite": (Dialect.SQLITE, "sqlite+aiosqlite"),
    "sqlite+aiosqlite": (Dialect.SQLITE, "sqlite+aiosqlite"),
    "postgres": (Dialect.POSTGRESQL, "postgresql+asyncpg"),
    "postgresql": (Dialect.POSTGRESQL, "postgresql+asyncpg"),
    "postgresql+asyncpg": (Dialect.POSTGRESQL, "postgresql+asyncpg"),
    "postgresql+psycopg": (Dialect.POSTGRESQL, "postgresql+psycopg"),
}


def parse_database_url(text: str) -> DatabaseUrl:
    """Parse ``postgresql://user@host:port/db`` or ``sqlite:///path``; ValueError if bad."""
    shown = text.strip()
    if not shown:
        raise ValueError(
            "the database URL is empty; use postgresql://user@host:port/db or sqlite:///path"
        )
    try:
        url = make_url(shown)
    except (ArgumentError, ValueError) as error:
        raise ValueError(
            "the database URL is not a URL; use postgresql://user@host:port/db or sqlite:///path"
        ) from error
    scheme = _SCHEMES.get(url.drivername)
    if scheme is None:
        raise ValueError(
            f"unsupported database scheme {url.drivername!r}; use postgresql:// or sqlite:///"
        )
    dialect, drivername = scheme
    url = url.set(drivername=drivername)
    if dialect is Dialect.SQLITE:
        if not url.database or url.database == ":memory:" or url.host:
            raise ValueError(
                "a SQLite URL needs a file path: sqlite:///relative or sqlite:////absolute"
            )
        return DatabaseUrl(dialect, url)
    if not url.database or not url.host:
        raise ValueError(
            "a PostgreSQL URL needs a host and a database: postgresql://user@host:port/db"
        )
    return DatabaseUrl(dialect, url)


def default_database_url() -> str:
    """A SQLite file in the app's data folder (honours ``PROMPTREADY_HOME``)."""
    paths = app_paths()
    return f"sqlite:///{paths.ensure(paths.data_dir) / DEFAULT_FILE}"


def create_engine(
    db: DatabaseUrl, *, pool_size: int = 16, synchronous_commit: bool = True
) -> AsyncEngine:
    """A pooled async engine; SQLite connections get WAL, a busy timeout and BEGIN IMMEDIATE.
    ``synchronous_commit=False`` (PostgreSQL) lets a commit return before its WAL reaches the
    disk: a server crash may forget the last few hundred milliseconds of commits, always a
    consistent prefix, never a torn one."""
    if db.dialect is Dialect.SQLITE:
        Path(str(db.url.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            db.url,
            pool_size=4,
            max_overflow=4,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _sqlite_immediate(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if not synchronous_commit:
        if db.url.drivername.endswith(Driver.ASYNCPG):
            connect_args["server_settings"] = {"synchronous_commit": "off"}
        else:
            connect_args["options"] = "-c synchronous_commit=off"
    return create_async_engine(
        db.url,
        pool_size=pool_size,
        max_overflow=pool_size // 2,
        pool_timeout=30,
        connect_args=connect_args,
    )


def _sqlite_immediate(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite would
        # otherwise issue its own deferred BEGIN).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_for(dialect: Dialect) -> Callable[[Table], PgInsert | SqliteInsert]:
    """The dialect's INSERT, which has ``on_conflict_do_nothing``/``on_conflict_do_update``."""
    return sqlite_insert if dialect is Dialect.SQLITE else pg_insert


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest migration (sync; the CLI's ``migrate``)."""
    from alembic import command
    from alembic.config import Config

    db = parse_database_url(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = db
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, "head")
        return
    # Called from async code: Alembic's env runs its own event loop, which needs a thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, config, "head").result()


async def migrate_async(url: str) -> None:
    """``migrate`` from inside a running event loop (Alembic's env runs its own loop)."""
    await asyncio.to_thread(migrate, url)


async def is_empty(conn: AsyncConnection) -> bool:
    """Whether the database has none of the store's tables yet."""
    tables: list[str] = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    return "devices" not in tables
