"""The usage ledger: rows, rollups, migrations, batching, crashes, several processes, export."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.cli import main
from promptready.errors import ConfigError
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from promptready.paths import app_paths

DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def record(**overrides: object) -> UsageRecord:
    fields: dict[str, object] = {
        "source": "gateway", "mode": "byok", "app": "editor", "provider": "openai",
        "model": "gpt-4o-mini", "prompt_tokens": 100, "completion_tokens": 20,
        "cost_usd": Decimal("0.000027"), "timestamp": DAY,
    }  # fmt: skip
    fields.update(overrides)
    return UsageRecord(**fields)  # type: ignore[arg-type]


def recount(ledger: Ledger) -> list[tuple[object, ...]]:
    return ledger.conn.execute(
        "SELECT day, source, COALESCE(app,''), mode, COALESCE(model,''), COUNT(*), SUM(prompt_tokens),"
        " SUM(completion_tokens), SUM(cost_micro_usd), SUM(credits) FROM calls GROUP BY 1,2,3,4,5 ORDER BY 1,2,3,4,5"
    ).fetchall()


def rollups(ledger: Ledger) -> list[tuple[object, ...]]:
    return ledger.conn.execute("SELECT * FROM rollups ORDER BY 1,2,3,4,5").fetchall()


def test_rows_and_rollups_agree(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.write([record(), record(model="gpt-4o", cost_usd=Decimal("0.01")), record(app="cli")])
    assert rollups(ledger) == recount(ledger)


def test_sums_are_exact_decimals(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.write([record(cost_usd=Decimal("0.000001")) for _ in range(3)])
    assert ledger.spend(DAY.date()) == Decimal("0.000003")


def test_same_record_twice_is_counted_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    once = record()
    ledger.write([once])
    ledger.write([once])
    assert ledger.totals("day")[0].calls == 1


def test_totals_by_each_grouping_and_since(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.write(
        [record(), record(model="gpt-4o", mode="cache", app="b", timestamp=DAY - timedelta(days=3))]
    )
    assert [t.key for t in ledger.totals("model")] == ["gpt-4o", "gpt-4o-mini"]
    assert [t.key for t in ledger.totals("app")] == ["b", "editor"]
    assert [t.key for t in ledger.totals("mode")] == ["byok", "cache"]
    assert [t.key for t in ledger.totals("day", since=DAY.date())] == ["2026-11-20"]
    with pytest.raises(ConfigError, match="group by"):
        ledger.totals("colour")


def test_month_spend_and_per_app_spend(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.write([record(cost_usd=Decimal("1.5")), record(app="x", cost_usd=Decimal("2"))])
    assert ledger.month_spend(DAY.date()) == Decimal("3.5")
    assert ledger.spend(DAY.date(), app="x") == Decimal("2")


def test_last_calls_newest_first_without_prompt_text_unless_opted_in(tmp_path: Path) -> None:
    plain = Ledger(tmp_path / "a.db")
    plain.write([record(prompt_text="secret plan"), record(timestamp=DAY + timedelta(hours=1))])
    rows = plain.last(2)
    assert rows[0]["ts"] > rows[1]["ts"]
    assert all(r["prompt_text"] is None for r in rows)
    opted = Ledger(tmp_path / "b.db", store_prompts=True)
    opted.write([record(prompt_text="secret plan")])
    assert opted.last(1)[0]["prompt_text"] == "secret plan"


def test_export_csv_and_json_carry_every_column(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.write([record(request_id="req_1", hops="openai/gpt-4o-mini:429 → groq/x:ok")])
    rows = json.loads(ledger.export("json"))
    assert rows[0]["app"] == "editor" and rows[0]["cost_usd"] == "0.000027"
    assert rows[0]["hops"].endswith("groq/x:ok")
    csv_text = ledger.export("csv")
    assert csv_text.splitlines()[0].startswith("id,ts,day,source,app")
    assert "req_1" in csv_text


def test_prune_removes_old_rows_and_their_rollups(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    ledger.write([record(), record(timestamp=DAY - timedelta(days=40))])
    assert ledger.prune(30, today=DAY.date()) == 1
    assert rollups(ledger) == recount(ledger)
    assert ledger.totals("day")[0].key == "2026-11-20"


def test_old_schema_is_migrated_in_place_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied TEXT);
        INSERT INTO _migrations VALUES ('001_calls', '2026-01-01');
        CREATE TABLE calls (id TEXT PRIMARY KEY, ts TEXT NOT NULL, day TEXT NOT NULL,
          source TEXT NOT NULL, app TEXT, mode TEXT NOT NULL, provider TEXT, model TEXT,
          prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
          cost_micro_usd INTEGER NOT NULL DEFAULT 0, credits INTEGER NOT NULL DEFAULT 0,
          latency_ms REAL, status TEXT NOT NULL);
        INSERT INTO calls VALUES ('a', '2026-01-02T10:00:00+00:00', '2026-01-02', 'cli', NULL,
          'offline', NULL, NULL, 0, 0, 0, 0, 1.5, 'ok');
        INSERT INTO calls VALUES ('b', '2026-01-02T11:00:00+00:00', '2026-01-02', 'gateway', 'ed',
          'byok', 'openai', 'gpt-4o', 10, 5, 1234, 0, 300, 'ok');
        """
    )
    conn.commit()
    conn.close()
    ledger = Ledger(path)
    assert [r["id"] for r in ledger.rows()] == ["a", "b"]
    assert ledger.spend(date(2026, 1, 1)) == Decimal("0.001234")
    assert ledger.last(1)[0]["hops"] is None  # new column present
    assert list(tmp_path.glob("old.db.*.bak"))  # backed up before migrating


def test_batch_writer_flushes_on_timer_and_on_close(tmp_path: Path) -> None:
    writer = BatchWriter(tmp_path / "l.db", interval_s=0.05)
    writer.submit(record(timestamp=datetime.now(UTC)))
    deadline = time.monotonic() + 5
    reader = Ledger(tmp_path / "l.db")
    while not list(reader.rows()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(list(reader.rows())) == 1
    for _ in range(10):
        writer.submit(record(timestamp=datetime.now(UTC)))
    writer.close()
    assert len(list(reader.rows())) == 11


def test_batch_writer_counts_app_spend_for_budget_checks(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    Ledger(tmp_path / "l.db").write([record(app="ed", cost_usd=Decimal("1"), timestamp=now)])
    writer = BatchWriter(tmp_path / "l.db")
    writer.submit(record(app="ed", cost_usd=Decimal("0.5"), timestamp=now))
    assert writer.spent("ed") == (Decimal("1.5"), Decimal("1.5"))
    writer.close()


WRITER = """
import sys
from datetime import UTC, datetime
from decimal import Decimal
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger
ledger = Ledger(__import__("pathlib").Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    ledger.write([UsageRecord(source="cli", mode="byok", app=sys.argv[3], cost_usd=Decimal("0.000100"))
                  for _ in range(10)])
    print(i, flush=True)
"""


def test_two_processes_write_the_same_ledger(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    Ledger(path).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), "50", name], stdout=subprocess.DEVNULL
        )
        for name in ("app", "cli")
    ]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    ledger = Ledger(path)
    assert len(list(ledger.rows())) == 1000
    assert ledger.spend(date.min) == Decimal("0.1")
    assert rollups(ledger) == recount(ledger)


def test_kill_9_mid_batch_leaves_a_readable_consistent_ledger(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    Ledger(path).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "100000", "victim"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    committed = -1
    for line in proc.stdout:
        committed = int(line)
        if committed >= 20:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    ledger = Ledger(path)
    assert ledger.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = len(list(ledger.rows()))
    assert rows >= (committed + 1) * 10 and rows % 10 == 0  # whole batches only
    assert rollups(ledger) == recount(ledger)


def test_unusable_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="could not be opened"):
        Ledger(tmp_path / "file" / "l.db")


def test_usage_command_prints_a_table_with_totals(capsys: pytest.CaptureFixture[str]) -> None:
    ledger = Ledger(app_paths().ledger_file)
    ledger.write([record(), record(model="gpt-4o", cost_usd=Decimal("0.5"))])
    ledger.close()
    assert main(["usage", "--by", "model"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4o-mini" in out and "total" in out and "$0.500027" in out


def test_usage_on_an_empty_ledger_is_friendly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage"]) == 0
    assert "No calls recorded yet" in capsys.readouterr().out


def test_usage_bad_since_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["usage", "--since", "yesterday"])
    assert exit_info.value.code == 2
    assert "is not a date" in capsys.readouterr().err


def test_usage_export_json_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Ledger(app_paths().ledger_file).write([record()])
    target = tmp_path / "out.json"
    assert main(["usage", "export", "--format", "json", "-o", str(target)]) == 0
    assert json.loads(target.read_text())[0]["app"] == "editor"
    assert main(["usage", "export", "--format", "csv"]) == 0
    assert "editor" in capsys.readouterr().out


def test_records_with_unknown_values_are_refused() -> None:
    with pytest.raises(ValueError, match="bad ledger record"):
        UsageRecord(source="browser", mode="byok")


def test_usage_prune_is_explicit_and_reports_what_it_deleted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = datetime.now(UTC) - timedelta(days=100)
    Ledger(app_paths().ledger_file).write(
        [record(timestamp=old), record(timestamp=datetime.now(UTC))]
    )
    assert main(["usage", "prune", "--older-than", "30"]) == 0
    assert "Deleted 1 row(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["usage", "prune", "--older-than", "0"])
