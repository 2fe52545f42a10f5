"""Real processes: the app and the CLI writing one ledger at once, and a writer killed with -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from promptready.ledger.store import Ledger
from tests.ledger.makers import recount, rollups

# Like the CLI: a Ledger, one transaction of 10 rows per loop, a line once each is committed.
DIRECT = """
import pathlib, sys
from decimal import Decimal
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger
ledger = Ledger(pathlib.Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    ledger.write([UsageRecord(source="cli", mode="byok", app="cli", cost_usd=Decimal("0.0001"))
                  for _ in range(10)])
    print(i, flush=True)
"""

# Like the gateway: every row through the batching writer, closed at the end.
BATCHED = """
import pathlib, sys
from decimal import Decimal
from promptready.ledger.records import UsageRecord
from promptready.ledger.writer import BatchWriter
writer = BatchWriter(pathlib.Path(sys.argv[1]))
for i in range(int(sys.argv[2]) * 10):
    writer.submit(UsageRecord(source="gateway", mode="byok", app="app", cost_usd=Decimal("0.0001")))
writer.close()
"""


def test_the_app_and_the_cli_write_one_ledger_at_once(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    path = tmp_path / "shared.db"
    open_ledger(path)
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path), "50"], stdout=subprocess.DEVNULL)
        for code in (DIRECT, BATCHED)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    ledger = open_ledger(path)
    assert {t.key: t.calls for t in ledger.totals("app")} == {"app": 500, "cli": 500}
    assert ledger.spend(date.min) == Decimal("0.1")
    assert rollups(ledger) == recount(ledger)


def test_a_writer_killed_mid_batch_leaves_every_committed_row_and_consistent_rollups(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    path = tmp_path / "crash.db"
    open_ledger(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", DIRECT, str(path), "100000"], stdout=subprocess.PIPE, text=True
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
    ledger = open_ledger(path)
    assert ledger.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = len(list(ledger.rows()))
    assert rows >= (committed + 1) * 10
    assert rows % 10 == 0  # whole transactions only
    assert rollups(ledger) == recount(ledger)
