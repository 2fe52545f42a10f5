"""The writer's group commit on an event loop: rows committed from a loop are written on that
loop's own thread, once per iteration, with no hop to the writer thread; the loop never waits
for another process's write lock (the thread does), and a failed write lets its waiters go and
is retried."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promptready.ledger import writer as writer_module
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from tests.ledger.makers import record, recount, rollups


def now_record() -> UsageRecord:
    return record(timestamp=datetime.now(UTC))


class SpyLedger(Ledger):
    """A real ledger that notes, per write, the thread it ran on and whether it raised; the
    first ``failures`` writes fail with ``error``."""

    def __init__(self, path: Path, failures: int = 0, error: str = "disk I/O error") -> None:
        super().__init__(path)
        self.failures = failures
        self.error = error
        self.writes: list[tuple[int, int, str]] = []  # (thread id, rows, "ok" or the error)

    def write(self, records: Sequence[UsageRecord]) -> int:
        here = threading.get_ident()
        if self.failures:
            self.failures -= 1
            self.writes.append((here, len(records), self.error))
            raise sqlite3.OperationalError(self.error)
        try:
            written = super().write(records)
        except sqlite3.OperationalError as error:
            self.writes.append((here, len(records), str(error)))
            raise
        self.writes.append((here, len(records), "ok"))
        return written


async def test_a_loop_commit_is_written_on_the_loops_own_thread(tmp_path: Path) -> None:
    spy = SpyLedger(tmp_path / "l.db")
    writer = BatchWriter(tmp_path / "l.db", ledger=spy)
    await writer.commit(now_record())
    assert spy.writes == [(threading.get_ident(), 1, "ok")]
    writer.close()


async def test_rows_committed_in_one_loop_iteration_share_one_transaction(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    spy = SpyLedger(tmp_path / "l.db")
    writer = BatchWriter(tmp_path / "l.db", ledger=spy)
    await asyncio.gather(*(writer.commit(now_record()) for _ in range(50)))
    assert [rows for _, rows, _ in spy.writes] == [50]
    ledger = open_ledger()
    assert rollups(ledger) == recount(ledger)
    writer.close()


async def test_the_loop_does_not_wait_for_another_process_write_lock(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    spy = SpyLedger(tmp_path / "l.db")
    writer = BatchWriter(tmp_path / "l.db", ledger=spy)
    other = sqlite3.connect(tmp_path / "l.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    committed = writer.committed(now_record())
    for _ in range(5):
        await asyncio.sleep(0)  # the loop turns: its write met the lock and gave up at once
    assert not committed.done()
    assert spy.writes[0][0] == threading.get_ident() and "locked" in spy.writes[0][2]
    other.execute("COMMIT")
    await asyncio.wait_for(committed, 30)
    assert spy.writes[-1][0] != threading.get_ident() and spy.writes[-1][2] == "ok"
    assert len(list(open_ledger().rows())) == 1
    other.close()
    writer.close()


async def test_a_failed_loop_write_lets_its_waiter_go_and_the_row_lands_later(
    open_ledger: Callable[..., Ledger], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spy = SpyLedger(tmp_path / "l.db", failures=1)
    writer = BatchWriter(tmp_path / "l.db", retry_s=0.01, ledger=spy)
    row = now_record()
    await asyncio.wait_for(writer.commit(row), 30)  # let go although the write failed
    assert "will retry" in caplog.text
    writer.close()
    assert [r["id"] for r in open_ledger().rows()] == [row.id]


async def test_commits_from_a_loop_and_from_a_thread_all_land_once(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    writer = BatchWriter(tmp_path / "l.db")
    from_thread = [now_record() for _ in range(100)]

    def commit_from_a_thread() -> None:
        for row in from_thread:
            writer.commit_now(row)

    worker = threading.Thread(target=commit_from_a_thread)
    worker.start()
    await asyncio.gather(*(writer.commit(now_record()) for _ in range(100)))
    await asyncio.to_thread(worker.join)
    writer.close()
    ledger = open_ledger()
    assert len(list(ledger.rows())) == 200
    assert rollups(ledger) == recount(ledger)


def wal_frames(db: Path) -> tuple[int, int]:
    """(frames in the WAL, frames copied back into the file), from the WAL index in ``-shm``:
    its header's mxFrame and its checkpoint info's nBackfill (native byte order)."""
    shm = db.with_name(db.name + "-shm").read_bytes()
    return int.from_bytes(shm[16:20], sys.byteorder), int.from_bytes(shm[96:100], sys.byteorder)


async def test_commits_on_the_loop_leave_wal_checkpoints_to_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "CHECKPOINT_EVERY", 5)
    writer = BatchWriter(tmp_path / "l.db")
    for _ in range(4):
        await writer.commit(now_record())
    frames, copied = wal_frames(tmp_path / "l.db")
    assert frames > 0 and copied == 0  # no commit copied the WAL back, on the loop or not
    await writer.commit(now_record())  # the fifth: the thread checkpoints
    deadline = time.monotonic() + 30
    while wal_frames(tmp_path / "l.db")[1] == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    frames, copied = wal_frames(tmp_path / "l.db")
    assert copied == frames > 0
    writer.close()
