"""Named schema migrations, applied in order and recorded in ``_migrations`` (like simonw/llm).

A file that holds calls is copied aside (``<name>.<stamp>.bak``, like vorta) before any migration
runs, so a failed upgrade loses nothing. Money is stored as integer micro-dollars: sums are exact.
``schema.py`` declares the same tables with SQLModel; a test keeps the two in step.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from promptready.paths import private_file

MIGRATIONS: list[tuple[str, tuple[str, ...]]] = [
    (
        "001_calls",
        (
            """
            CREATE TABLE calls (
                id TEXT PRIMARY KEY,
                ts TEXT NOT NULL,
                day TEXT NOT NULL,
                source TEXT NOT NULL,
                app TEXT,
                mode TEXT NOT NULL,
                provider TEXT,
                model TEXT,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                cost_micro_usd INTEGER NOT NULL DEFAULT 0,
                credits INTEGER NOT NULL DEFAULT 0,
                latency_ms REAL,
                status TEXT NOT NULL
            )
            """,
            "CREATE INDEX calls_ts ON calls (ts)",
        ),
    ),
    (
        "002_call_details",
        (
            "ALTER TABLE calls ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE calls ADD COLUMN ttft_ms REAL",
            "ALTER TABLE calls ADD COLUMN error_code TEXT",
            "ALTER TABLE calls ADD COLUMN request_id TEXT",
            "ALTER TABLE calls ADD COLUMN cache_hit INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE calls ADD COLUMN hops TEXT",
            "ALTER TABLE calls ADD COLUMN prompt_text TEXT",
        ),
    ),
    (
        "003_rollups",
        (
            """
            CREATE TABLE rollups (
                day TEXT NOT NULL, source TEXT NOT NULL, app TEXT NOT NULL, mode TEXT NOT NULL,
                model TEXT NOT NULL,
                calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL, cost_micro_usd INTEGER NOT NULL,
                credits INTEGER NOT NULL,
                PRIMARY KEY (day, source, app, mode, model)
            )
            """,
            """
            INSERT INTO rollups
                SELECT day, source, COALESCE(app, ''), mode, COALESCE(model, ''), COUNT(*),
                       SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micro_usd),
                       SUM(credits)
                FROM calls GROUP BY 1, 2, 3, 4, 5
            """,
        ),
    ),
    (
        "004_unpriced",
        (
            # A call to a model with no price: its cost reads 0 but is unknown, not free.
            "ALTER TABLE calls ADD COLUMN unpriced INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE rollups ADD COLUMN unpriced INTEGER NOT NULL DEFAULT 0",
        ),
    ),
    (
        # One b-tree per row instead of five: a call was the table, its id's unique index and
        # the ts index; a rollup the table and its key's index. Keyed by (ts, id) the calls
        # append in time order, every range query reads the key, and a retried row (same ts
        # and id) is still ignored. Nothing looks a call up by id alone.
        "005_without_rowid",
        (
            """
            CREATE TABLE calls_005 (
                id TEXT NOT NULL,
                ts TEXT NOT NULL,
                day TEXT NOT NULL,
                source TEXT NOT NULL,
                app TEXT,
                mode TEXT NOT NULL,
                provider TEXT,
                model TEXT,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                cost_micro_usd INTEGER NOT NULL DEFAULT 0,
                credits INTEGER NOT NULL DEFAULT 0,
                latency_ms REAL,
                status TEXT NOT NULL,
                tokens_estimated INTEGER NOT NULL DEFAULT 0,
                ttft_ms REAL,
                error_code TEXT,
                request_id TEXT,
                cache_hit INTEGER NOT NULL DEFAULT 0,
                hops TEXT,
                prompt_text TEXT,
                unpriced INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (ts, id)
            ) WITHOUT ROWID
            """,
            "INSERT OR IGNORE INTO calls_005 SELECT * FROM calls",
            "DROP TABLE calls",
            "ALTER TABLE calls_005 RENAME TO calls",
            """
            CREATE TABLE rollups_005 (
                day TEXT NOT NULL, source TEXT NOT NULL, app TEXT NOT NULL, mode TEXT NOT NULL,
                model TEXT NOT NULL,
                calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL, cost_micro_usd INTEGER NOT NULL,
                credits INTEGER NOT NULL, unpriced INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (day, source, app, mode, model)
            ) WITHOUT ROWID
            """,
            "INSERT INTO rollups_005 SELECT * FROM rollups",
            "DROP TABLE rollups",
            "ALTER TABLE rollups_005 RENAME TO rollups",
        ),
    ),
    (
        # Rollups kept by SQLite: each inserted call bumps its rollup row in the same statement,
        # so a one-row write is one autocommit INSERT instead of a transaction with an upsert
        # assembled in Python (about 35 vs 70 us per ``Ledger.write([row])``). ``INSERT OR
        # IGNORE`` fires no trigger for an ignored row, so a retried call still counts once.
        # Rollup rows already in the file equal a recount and stay as they are. The table moves
        # to ``rollup_sums`` and ``rollups`` becomes a view of it: a build from before 006 (which
        # knows no newer-file check and bumps rollups itself) still reads its totals there, but
        # its writes fail ("cannot modify rollups because it is a view", rolled back with their
        # rows) instead of counting each call twice.
        "006_rollup_trigger",
        (
            "ALTER TABLE rollups RENAME TO rollup_sums",
            "CREATE VIEW rollups AS SELECT * FROM rollup_sums",
            """
            CREATE TRIGGER calls_rollup AFTER INSERT ON calls BEGIN
                INSERT INTO rollup_sums VALUES (
                    NEW.day, NEW.source, COALESCE(NEW.app, ''), NEW.mode, COALESCE(NEW.model, ''),
                    1, NEW.prompt_tokens, NEW.completion_tokens, NEW.cost_micro_usd, NEW.credits,
                    NEW.unpriced
                )
                ON CONFLICT (day, source, app, mode, model) DO UPDATE SET
                    calls = calls + 1,
                    prompt_tokens = prompt_tokens + excluded.prompt_tokens,
                    completion_tokens = completion_tokens + excluded.completion_tokens,
                    cost_micro_usd = cost_micro_usd + excluded.cost_micro_usd,
                    credits = credits + excluded.credits,
                    unpriced = unpriced + excluded.unpriced;
            END
            """,
        ),
    ),
]
_KNOWN = {name for name, _ in MIGRATIONS}


class NewerLedgerError(sqlite3.DatabaseError):
    """The file was migrated by a newer build than this one (a migration it does not know)."""


def _pending(conn: sqlite3.Connection) -> list[tuple[str, tuple[str, ...]]]:
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    # A newer build may keep the file differently (006 moved the rollups into a trigger: a
    # build that also bumped them itself would count every call twice), so an older build
    # refuses the file rather than guess.
    if unknown := sorted(done - _KNOWN):
        raise NewerLedgerError(f"a newer PromptReady migrated it ({', '.join(unknown)})")
    return [(name, steps) for name, steps in MIGRATIONS if name not in done]


def _backup(conn: sqlite3.Connection, path: Path) -> None:
    """A consistent copy (WAL included) through SQLite's backup API, next to the file."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = sqlite3.connect(private_file(path.with_name(f"{path.name}.{stamp}.bak")))
    try:
        conn.backup(target)
    finally:
        target.close()


def prepare(conn: sqlite3.Connection, path: Path, wait_s: float) -> None:
    """WAL mode and pending migrations, retried for up to ``wait_s`` while another process
    holds the file: switching to WAL takes a lock that SQLite's busy timeout does not wait for."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a power cut may drop the last commits but never corrupts.
            conn.execute("PRAGMA synchronous=NORMAL")
            migrate(conn, path)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def migrate(conn: sqlite3.Connection, path: Path | None) -> list[str]:
    """Apply pending migrations (after backing the file up); returns the names applied here.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Two processes opening an old
    file at once are safe: the check and the upgrade run under one write lock.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT)")
    if not _pending(conn):
        return []
    has_calls = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'calls'").fetchone()
    if path is not None and has_calls[0]:
        _backup(conn, path)
    # DDL is transactional in SQLite: all pending migrations and their records land together.
    conn.execute("BEGIN IMMEDIATE")
    try:
        todo = _pending(conn)  # again, under the lock: another process may have just migrated
        for name, steps in todo:
            for step in steps:
                conn.execute(step)
            conn.execute(
                "INSERT INTO _migrations VALUES (?, ?)", (name, datetime.now(UTC).isoformat())
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return [name for name, _ in todo]
