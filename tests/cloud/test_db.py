"""Database URLs, migrations and SQLite write transactions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from promptready.cloud.db import (
    MIGRATIONS,
    Dialect,
    Driver,
    create_engine,
    default_database_url,
    migrate,
    parse_database_url,
)
from promptready.cloud.store import Store
from tests.cloud.wallets import new_device, spend, store_settings


@pytest.mark.parametrize(
    ("text_url", "dialect", "driver"),
    [
        ("postgresql://postgres@127.0.0.1:5432/cloud", Dialect.POSTGRESQL, "postgresql+asyncpg"),
        ("postgres://u:pw@db.internal/cloud", Dialect.POSTGRESQL, "postgresql+asyncpg"),
        ("postgresql+psycopg://u@h/cloud", Dialect.POSTGRESQL, "postgresql+psycopg"),
        ("sqlite:///relative/cloud.sqlite3", Dialect.SQLITE, "sqlite+aiosqlite"),
        ("  sqlite:////var/lib/cloud.sqlite3 ", Dialect.SQLITE, "sqlite+aiosqlite"),
    ],
)
def test_standard_urls_parse(text_url: str, dialect: Dialect, driver: str) -> None:
    parsed = parse_database_url(text_url)
    assert (parsed.dialect, parsed.url.drivername) == (dialect, driver)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("", "empty"),
        ("not a url", "not a URL"),
        ("mysql://u@h/db", "unsupported database scheme"),
        ("sqlite://", "file path"),
        ("sqlite:///:memory:", "file path"),
        ("postgresql://u@h", "host and a database"),
        ("postgresql:///db", "host and a database"),
        ("postgresql://u@h:notaport/db", "not a URL"),
    ],
)
def test_a_bad_url_is_one_clear_error(bad: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_database_url(bad)


def test_a_password_never_shows_in_the_safe_form() -> None:
    parsed = parse_database_url("postgresql://u:hunter2@h/db")
    assert "hunter2" not in parsed.safe and "hunter2" not in repr(parsed.safe)


def test_the_driver_can_be_switched_for_postgresql_only() -> None:
    parsed = parse_database_url("postgresql://u@h/db").with_driver(Driver.PSYCOPG)
    assert parsed.url.drivername == "postgresql+psycopg"
    with pytest.raises(ValueError):
        parse_database_url("sqlite:///x.db").with_driver(Driver.PSYCOPG)


def test_the_default_database_is_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    url = default_database_url()
    assert url.endswith("/promptready/data/cloud.sqlite3")
    assert parse_database_url(url).dialect is Dialect.SQLITE


async def test_ensure_schema_migrates_an_empty_database_once(database_url: str) -> None:
    store = await Store.open(database_url, store_settings())
    try:
        await store.ensure_schema()
        device_id = await new_device(store)
        await store.ensure_schema()
        assert (await store.credits(device_id)).balance == 25
    finally:
        await store.close()


def test_migrating_twice_is_harmless(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)


async def test_sqlite_writers_on_two_connections_wait_instead_of_failing(sqlite_url: str) -> None:
    migrate(sqlite_url)
    engine = create_engine(parse_database_url(sqlite_url))
    sql = "INSERT INTO settings (key, value) VALUES (:k, '1')"

    async def read_then_write(key: str) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM settings"))
            await asyncio.sleep(0.05)  # the other connection now wants the write lock too
            await conn.execute(text(sql), {"k": key})

    try:
        await asyncio.gather(*(read_then_write(f"k{i}") for i in range(4)))
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM settings")) == 4
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
    finally:
        await engine.dispose()


async def test_two_stores_on_one_sqlite_file_share_a_wallet(sqlite_url: str) -> None:
    migrate(sqlite_url)
    first = await Store.open(sqlite_url, store_settings())
    second = await Store.open(sqlite_url, store_settings())
    try:
        device_id = await new_device(first)
        await asyncio.gather(*(spend(s, device_id, 1) for s in [first, second] * 10))
        assert (await second.credits(device_id)).balance == 5
    finally:
        await first.close()
        await second.close()


def test_the_migrations_ship_inside_the_package() -> None:
    versions = sorted(p.name for p in (MIGRATIONS / "versions").glob("0001_*.py"))
    assert versions == ["0001_core.py"]
    assert (MIGRATIONS / "env.py").is_file()
    # Hatch packages everything under src/promptready, so the wheel carries these files.
    assert MIGRATIONS.is_relative_to(Path(__file__).resolve().parents[2] / "src" / "promptready")
