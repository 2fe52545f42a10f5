"""An older ledger file is upgraded in place, backed up first, without losing a row; the SQLModel
declaration matches what the migrations build."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.errors import ConfigError
from promptready.ledger import migrations
from promptready.ledger.migrations import MIGRATIONS
from promptready.ledger.schema import LedgerTable
from promptready.ledger.store import Ledger
from tests.ledger.makers import record, recount, rollups

V1 = """
CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied TEXT);
INSERT INTO _migrations VALUES ('001_calls', '2026-01-01');
CREATE TABLE calls (id TEXT PRIMARY KEY, ts TEXT NOT NULL, day TEXT NOT NULL,
  source TEXT NOT NULL, app TEXT, mode TEXT NOT NULL, provider TEXT, model TEXT,
  prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost_micro_usd INTEGER NOT NULL DEFAULT 0, credits INTEGER NOT NULL DEFAULT 0,
  latency_ms REAL, status TEXT NOT NULL);
CREATE INDEX calls_ts ON calls (ts);
INSERT INTO calls VALUES ('a', '2026-01-02T10:00:00+00:00', '2026-01-02', 'cli', NULL,
  'offline', NULL, NULL, 0, 0, 0, 0, 1.5, 'ok');
INSERT INTO calls VALUES ('b', '2026-01-02T11:00:00+00:00', '2026-01-02', 'gateway', 'ed',
  'byok', 'openai', 'gpt-4o', 10, 5, 1234, 0, 300, 'ok');
"""


def v1_file(path: Path) -> Path:
    """A ledger as the first release wrote it: calls only, two rows."""
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    conn.close()
    return path


def test_a_v1_file_keeps_its_rows_and_gains_the_new_columns(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    ledger = open_ledger(v1_file(tmp_path / "old.db"))
    rows = list(ledger.rows())
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[1]["cost_usd"] == "0.001234" and rows[1]["latency_ms"] == 300
    assert rows[0]["hops"] is None and rows[0]["cache_hit"] is False


def test_a_v1_file_gets_rollups_built_from_its_rows(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    ledger = open_ledger(v1_file(tmp_path / "old.db"))
    assert rollups(ledger) == recount(ledger)
    assert ledger.spend(date(2026, 1, 1)) == Decimal("0.001234")


def test_every_migration_is_recorded_by_name(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    ledger = open_ledger(v1_file(tmp_path / "old.db"))
    names = [row[0] for row in ledger.conn.execute("SELECT name FROM _migrations ORDER BY 1")]
    assert names == [name for name, _ in MIGRATIONS]


def test_the_file_is_backed_up_once_before_migrating(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    path = v1_file(tmp_path / "old.db")
    open_ledger(path).close()
    open_ledger(path)
    backups = list(tmp_path.glob("old.db.*.bak"))
    assert len(backups) == 1
    copy = sqlite3.connect(backups[0])
    assert copy.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 2
    copy.close()


def test_a_new_file_needs_no_backup(open_ledger: Callable[..., Ledger], tmp_path: Path) -> None:
    open_ledger(tmp_path / "new.db")
    assert not list(tmp_path.glob("*.bak"))


OPEN = """
import pathlib, sys
from promptready.ledger.store import Ledger
Ledger(pathlib.Path(sys.argv[1])).close()
"""


def test_two_processes_opening_an_old_file_at_once_both_succeed(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    path = v1_file(tmp_path / "old.db")
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, str(path)]) for _ in range(2)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert len(list(open_ledger(path).rows())) == 2


def test_the_sqlmodel_declaration_matches_the_migrated_file(
    open_ledger: Callable[..., Ledger],
) -> None:
    conn = open_ledger().conn
    for table in LedgerTable.metadata.sorted_tables:
        info = conn.execute(f"PRAGMA table_info({table.name})").fetchall()
        # A key column counts as required: SQLite reports TEXT keys as nullable, SQLModel not.
        on_disk = {name: (bool(notnull or pk), pk > 0) for _, name, _, notnull, _, pk in info}
        declared = {c.name: (not c.nullable, bool(c.primary_key)) for c in table.columns}
        assert on_disk == declared, table.name


def test_each_table_is_one_b_tree_with_no_index_beside_it(
    open_ledger: Callable[..., Ledger],
) -> None:
    conn = open_ledger().conn
    for table in ("calls", "rollup_sums"):
        kinds = conn.execute(
            "SELECT type FROM sqlite_master WHERE tbl_name = ? AND type != 'trigger'", (table,)
        )
        assert [kind for (kind,) in kinds] == ["table"], table
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        assert sql[0].rstrip().endswith("WITHOUT ROWID"), table


def test_every_range_query_searches_a_primary_key(open_ledger: Callable[..., Ledger]) -> None:
    conn = open_ledger().conn
    queries = [
        ("SELECT * FROM calls WHERE ts >= ? ORDER BY ts", ("2026-01-01",)),
        ("DELETE FROM calls WHERE ts < ?", ("2026-01-01",)),
        ("SELECT * FROM rollup_sums WHERE day BETWEEN ? AND ?", ("2026-01-01", "2026-02-01")),
        ("SELECT * FROM rollup_sums WHERE day >= ?", ("2026-01-01",)),
    ]
    for sql, args in queries:
        plan = " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
        assert "USING PRIMARY KEY" in plan, (sql, plan)


def pre_trigger_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger as builds before 006 left it: rows, and rollups that Python kept (a recount)."""
    with monkeypatch.context() as patched:
        patched.setattr(migrations, "MIGRATIONS", MIGRATIONS[:-1])
        ledger = Ledger(path)
    assert not ledger.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    ).fetchall()
    ledger.write([record(), record(app="x")])  # no trigger yet: the rows only
    ledger.conn.execute(
        "INSERT INTO rollups SELECT day, source, COALESCE(app, ''), mode, COALESCE(model, ''), "
        "COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micro_usd), "
        "SUM(credits), SUM(unpriced) FROM calls GROUP BY 1, 2, 3, 4, 5"
    )
    ledger.close()
    return path


def test_a_pre_trigger_file_keeps_its_rollups_and_counts_new_rows_once(
    open_ledger: Callable[..., Ledger], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = open_ledger(pre_trigger_file(tmp_path / "old.db", monkeypatch))
    assert rollups(ledger) == recount(ledger)
    ledger.write([record(), record(app="y")])
    assert rollups(ledger) == recount(ledger)
    assert sum(t.calls for t in ledger.totals("app")) == 4


def test_rows_inserted_by_any_connection_are_rolled_up(
    open_ledger: Callable[..., Ledger],
) -> None:
    ledger = open_ledger()
    row = record()
    ledger.conn.execute(
        "INSERT INTO calls (id, ts, day, source, mode, prompt_tokens, cost_micro_usd, status) "
        "VALUES (?, ?, ?, 'cli', 'byok', 7, 12, 'ok')",
        (row.id, row.timestamp.isoformat(), row.day.isoformat()),
    )
    assert rollups(ledger) == recount(ledger)
    assert ledger.totals("source")[0].prompt_tokens == 7


def test_a_file_migrated_by_a_newer_build_is_refused_not_guessed_at(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    path = tmp_path / "l.db"
    open_ledger(path).conn.execute("INSERT INTO _migrations VALUES ('999_future', '2027-01-01')")
    with pytest.raises(ConfigError, match=r"newer PromptReady migrated it \(999_future\)"):
        Ledger(path)


# What builds before 006 ran to write a batch: the rows, then the rollups summed in Python.
OLD_BUILD_WRITE = (
    "INSERT OR IGNORE INTO calls (id, ts, day, source, mode, status) "
    "VALUES ('old', '2026-11-20T12:00:00+00:00', '2026-11-20', 'cli', 'byok', 'ok')",
    "INSERT INTO rollups VALUES ('2026-11-20', 'cli', '', 'byok', '', 1, 0, 0, 0, 0, 0) "
    "ON CONFLICT (day, source, app, mode, model) DO UPDATE SET calls = calls + excluded.calls",
)


def test_a_build_from_before_the_trigger_cannot_write_a_migrated_file_twice_counted(
    open_ledger: Callable[..., Ledger],
) -> None:
    ledger = open_ledger()
    ledger.write([record()])
    ledger.conn.execute("BEGIN IMMEDIATE")
    with pytest.raises(
        sqlite3.OperationalError, match="cannot modify rollups because it is a view"
    ):
        for step in OLD_BUILD_WRITE:
            ledger.conn.execute(step)
    ledger.conn.execute("ROLLBACK")
    assert len(list(ledger.rows())) == 1
    assert rollups(ledger) == recount(ledger)


def test_a_build_from_before_the_trigger_still_reads_its_totals(
    open_ledger: Callable[..., Ledger],
) -> None:
    ledger = open_ledger()
    ledger.write([record(), record(app="x")])
    assert ledger.conn.execute("SELECT SUM(calls) FROM rollups").fetchone()[0] == 2
