"""Named schema migrations, applied in order and recorded in ``_migrations`` (like simonw/llm).

The file is copied aside before any migration runs, so a failed upgrade loses nothing.
Money is stored as integer micro-dollars: sums are exact.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_calls",
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
        );
        CREATE INDEX calls_ts ON calls (ts);
        """,
    ),
    (
        "002_call_details",
        """
        ALTER TABLE calls ADD COLUMN tokens_estimated INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE calls ADD COLUMN ttft_ms REAL;
        ALTER TABLE calls ADD COLUMN error_code TEXT;
        ALTER TABLE calls ADD COLUMN request_id TEXT;
        ALTER TABLE calls ADD COLUMN cache_hit INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE calls ADD COLUMN hops TEXT;
        ALTER TABLE calls ADD COLUMN prompt_text TEXT;
        """,
    ),
    (
        "003_rollups",
        """
        CREATE TABLE rollups (
            day TEXT NOT NULL, source TEXT NOT NULL, app TEXT NOT NULL, mode TEXT NOT NULL,
            model TEXT NOT NULL,
            calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL, cost_micro_usd INTEGER NOT NULL,
            credits INTEGER NOT NULL,
            PRIMARY KEY (day, source, app, mode, model)
        );
        INSERT INTO rollups
            SELECT day, source, COALESCE(app, ''), mode, COALESCE(model, ''), COUNT(*),
                   SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micro_usd), SUM(credits)
            FROM calls GROUP BY 1, 2, 3, 4, 5;
        """,
    ),
]


def pending(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Migrations not yet applied to this database."""
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT)")
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    return [(name, sql) for name, sql in MIGRATIONS if name not in done]


def migrate(conn: sqlite3.Connection, path: Path | None) -> list[str]:
    """Apply pending migrations (after backing the file up); returns their names."""
    todo = pending(conn)
    if not todo:
        return []
    has_data = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'calls'").fetchone()[0]
    if path is not None and has_data:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        conn.execute("PRAGMA wal_checkpoint(FULL)")
        shutil.copy2(path, path.with_name(f"{path.name}.{stamp}.bak"))
    for name, sql in todo:
        applied = datetime.now(UTC).isoformat()
        # One transaction per migration: it and its record land together or not at all.
        conn.executescript(
            f"BEGIN; {sql} INSERT INTO _migrations VALUES ('{name}', '{applied}'); COMMIT;"
        )
    return [name for name, _ in todo]
