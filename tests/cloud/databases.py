"""Test databases for the hosted proxy: fresh PostgreSQL databases and SQLite files, empty or
already migrated.

Migrating costs 1.5–2 s per database, so a session migrates once into a template (a PostgreSQL
database, a SQLite file) and every test gets its own copy: ``CREATE DATABASE x TEMPLATE t``
(about 0.1 s) or a file copy. Each test still owns its database and drops it afterwards.

Every name carries the owning pytest process's pid (``pr_test_<pid>_<hex>``), so a session can
drop what earlier crashed or interrupted sessions left behind without touching databases of
sessions that are still running (several run at once on a shared server).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from promptready.cloud.db import migrate, parse_database_url

POSTGRES = os.environ.get("PROMPTREADY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
PREFIX = "pr_test_"
_OWNED = re.compile(rf"{PREFIX}(\d+)_[0-9a-f]+")


async def _admin(*statements: str) -> list[str]:
    """Run statements on the server's ``postgres`` database; the first column of the last."""
    db = parse_database_url(f"{POSTGRES}/postgres")
    engine = create_async_engine(db.url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    rows: list[str] = []
    try:
        async with engine.connect() as conn:
            for sql in statements:
                result = await conn.execute(text(sql))
                rows = [str(row[0]) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()
    return rows


def new_name() -> str:
    """A database name owned by this process."""
    return f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale(names: list[str]) -> list[str]:
    """The test databases among ``names`` whose owning process is gone."""
    found = (_OWNED.fullmatch(name) for name in names)
    return [m.group(0) for m in found if m and not _alive(int(m.group(1)))]


def drop(name: str) -> None:
    """Drop a database, closing any connection still open on it."""
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_stale() -> list[str]:
    """Drop the test databases left by dead sessions; their names."""
    names = asyncio.run(_admin("SELECT datname FROM pg_database"))
    gone = stale(names)
    for name in gone:
        drop(name)
    return gone


@contextmanager
def created(template: str | None = None) -> Iterator[str]:
    """A new database (a copy of ``template``, else empty): its URL; dropped afterwards."""
    name = new_name()
    source = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin(f'CREATE DATABASE "{name}"{source}'))
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        drop(name)


class Templates:
    """Migrated templates for one session, made on first use; ``creations`` counts the
    databases (PostgreSQL and SQLite) handed out, ``migrations`` the migrations run.

    Creating and dropping a PostgreSQL database mostly waits for fsync, so one background
    thread copies the next test's database while the current test runs, and another drops the
    previous one after it: the test waits only if the copy is not ready yet. Drops (60-400 ms
    here) have their own thread so that the next copy (40-80 ms) never queues behind one."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._postgres: str | None = None
        self._sqlite: Path | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db-drops")
        self._next: Future[str] | None = None
        self._drops: list[Future[None]] = []
        self.creations = 0
        self.migrations = 0

    def _template(self) -> str:
        if self._postgres is None:
            name = new_name()
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            self._postgres = name
            # The engine is disposed when migrate returns: a template must have no connections.
            migrate(f"{POSTGRES}/{name}")
            self.migrations += 1
        return self._postgres

    def _copy(self, template: str) -> str:
        name = new_name()
        asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        return name

    @contextmanager
    def postgres(self) -> Iterator[str]:
        """A fresh migrated PostgreSQL database (its URL), dropped afterwards."""
        template = self._template()
        ready = self._next or self._worker.submit(self._copy, template)
        self._next = self._worker.submit(self._copy, template)
        name = ready.result()
        self.creations += 1
        try:
            yield f"{POSTGRES}/{name}"
        finally:
            self._drops.append(self._dropper.submit(drop, name))

    def sqlite(self, path: Path) -> str:
        """A migrated SQLite file at ``path`` (its URL)."""
        if self._sqlite is None:
            template = self._workdir / "template.sqlite3"
            migrate(f"sqlite:///{template}")
            self.migrations += 1
            # migrate closed its connections, so WAL is checkpointed into the main file.
            assert not Path(f"{template}-wal").exists(), "template WAL not checkpointed"
            self._sqlite = template
        shutil.copyfile(self._sqlite, path)
        self.creations += 1
        return f"sqlite:///{path}"

    def close(self) -> None:
        """Drop every database still here (the unused copy, the template) and wait for the
        drops; raises the first drop that failed."""
        if self._next is not None:
            name = self._next
            self._drops.append(self._worker.submit(lambda: drop(name.result())))
        self._worker.shutdown(wait=True)  # no copy of the template is still being made
        if self._postgres is not None:
            self._drops.append(self._dropper.submit(drop, self._postgres))
        self._dropper.shutdown(wait=True)
        for done in self._drops:
            done.result()
