"""Recent enhancements from the desktop popup, searchable, with favourites.

A small SQLite file beside the ledger (``history.sqlite3``); the ledger holds costs, this holds
the texts the user may want back. Favourites are kept forever, the rest up to ``KEEP`` entries.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from promptready.errors import ConfigError
from promptready.paths import private_file

KEEP = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    mode TEXT NOT NULL,
    preset TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    favourite INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class HistoryEntry:
    """One enhancement: what went in, what came out, how."""

    id: int
    ts: datetime
    mode: str
    preset: str
    input: str
    output: str
    favourite: bool

    @property
    def title(self) -> str:
        """The first line of the input, for lists."""
        first = self.input.strip().splitlines()[0] if self.input.strip() else "(empty)"
        return first if len(first) <= 80 else first[:79] + "…"


def _like(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class History:
    """Add, search, star and clear entries in one history file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.conn = sqlite3.connect(private_file(path), isolation_level=None)
            self.conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"The history file {path} could not be opened ({exc}); move it aside."
            ) from None

    def close(self) -> None:
        """Close the file."""
        self.conn.close()

    def add(self, mode: str, preset: str, text: str, output: str) -> int:
        """Record one enhancement; returns its id. The same enhancement again moves the newest
        entry to now instead of adding a duplicate; old non-favourites beyond KEEP are dropped."""
        now = datetime.now(UTC).isoformat()
        newest = self.conn.execute(
            "SELECT id FROM entries WHERE id = (SELECT MAX(id) FROM entries) "
            "AND mode = ? AND preset = ? AND input = ? AND output = ?",
            (mode, preset, text, output),
        ).fetchone()
        if newest is not None:
            self.conn.execute("UPDATE entries SET ts = ? WHERE id = ?", (now, newest[0]))
            return int(newest[0])
        cursor = self.conn.execute(
            "INSERT INTO entries (ts, mode, preset, input, output) VALUES (?, ?, ?, ?, ?)",
            (now, mode, preset, text, output),
        )
        self.conn.execute(
            "DELETE FROM entries WHERE favourite = 0 AND id NOT IN "
            "(SELECT id FROM entries WHERE favourite = 0 ORDER BY id DESC LIMIT ?)",
            (KEEP,),
        )
        return int(cursor.lastrowid or 0)

    def search(
        self, query: str = "", favourites_only: bool = False, limit: int = 100
    ) -> list[HistoryEntry]:
        """Newest first; ``query`` matches the input or the output anywhere, case-insensitively."""
        sql = "SELECT id, ts, mode, preset, input, output, favourite FROM entries WHERE 1 = 1"
        args: list[object] = []
        if query.strip():
            sql += " AND (input LIKE ? ESCAPE '\\' OR output LIKE ? ESCAPE '\\')"
            args += [_like(query.strip())] * 2
        if favourites_only:
            sql += " AND favourite = 1"
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [
            HistoryEntry(i, datetime.fromisoformat(ts), m, p, t, o, bool(f))
            for i, ts, m, p, t, o, f in self.conn.execute(sql, args)
        ]

    def set_favourite(self, entry_id: int, favourite: bool) -> None:
        """Star or unstar an entry."""
        self.conn.execute(
            "UPDATE entries SET favourite = ? WHERE id = ?", (int(favourite), entry_id)
        )

    def clear(self, keep_favourites: bool = True) -> int:
        """Delete entries (all, or all but favourites); returns how many went."""
        sql = "DELETE FROM entries WHERE favourite = 0 OR ? = 0"
        return int(self.conn.execute(sql, (int(keep_favourites),)).rowcount)
