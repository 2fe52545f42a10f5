"""The group-commit writer: submit hands over at once and the row lands with the next batch (no
timer); commit waits until it is on disk; a batch that fails to write is kept and retried;
budget counters follow every submit."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from tests.ledger.makers import record, recount, rollups


def now_record(**overrides: object) -> UsageRecord:
    return record(timestamp=datetime.now(UTC), **overrides)


def wait_for_rows(ledger: Ledger, count: int) -> int:
    """Rows in the file once ``count`` are there, or after 5 s."""
    deadline = time.monotonic() + 5
    while len(list(ledger.rows())) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(list(ledger.rows()))


class FlakyLedger(Ledger):
    """A real ledger whose first ``failures`` writes fail as a locked database would."""

    def __init__(self, path: Path, failures: int) -> None:
        super().__init__(path)
        self.failures = failures

    def write(self, records: Sequence[UsageRecord]) -> int:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().write(records)


def test_a_submitted_row_lands_without_any_flush(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    writer = BatchWriter(tmp_path / "l.db")
    writer.submit(now_record())
    assert wait_for_rows(open_ledger(), 1) == 1
    writer.close()


def test_close_writes_what_is_still_queued(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    writer = BatchWriter(tmp_path / "l.db")
    for _ in range(10):
        writer.submit(now_record())
    writer.close()
    ledger = open_ledger()
    assert len(list(ledger.rows())) == 10
    assert rollups(ledger) == recount(ledger)


async def test_commit_returns_once_the_row_is_in_the_file(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    writer = BatchWriter(tmp_path / "l.db")
    row = now_record()
    await writer.commit(row)
    assert [r["id"] for r in open_ledger().last(1)] == [row.id]
    writer.close()


async def test_concurrent_commits_all_land_sharing_batches(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    class CountingLedger(Ledger):
        batches = 0

        def write(self, records: Sequence[UsageRecord]) -> int:
            CountingLedger.batches += 1
            return super().write(records)

    writer = BatchWriter(tmp_path / "l.db", ledger=CountingLedger(tmp_path / "l.db"))
    rows = [now_record() for _ in range(200)]
    await asyncio.gather(*(writer.commit(r) for r in rows))
    assert len(list(open_ledger().rows())) == 200
    assert CountingLedger.batches < 200  # rows that waited together shared a commit
    writer.close()


def test_commit_now_blocks_until_the_row_is_in_the_file(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    writer = BatchWriter(tmp_path / "l.db")
    writer.commit_now(now_record())
    assert len(list(open_ledger().rows())) == 1
    writer.close()


def test_a_failed_batch_is_kept_and_retried(
    open_ledger: Callable[..., Ledger], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyLedger(tmp_path / "l.db", failures=2)
    writer = BatchWriter(tmp_path / "l.db", retry_s=0.02, ledger=flaky)
    writer.submit(now_record())
    writer.submit(now_record())
    assert wait_for_rows(open_ledger(), 2) == 2
    assert flaky.failures == 0 and "will retry" in caplog.text
    writer.close()


def test_submit_after_close_is_refused(tmp_path: Path) -> None:
    writer = BatchWriter(tmp_path / "l.db")
    writer.close()
    writer.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(now_record())


def test_spend_counters_start_from_the_file_and_follow_submits(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    open_ledger().write([now_record(cost_usd=Decimal("1"))])
    writer = BatchWriter(tmp_path / "l.db")
    writer.submit(now_record(cost_usd=Decimal("0.5")))
    writer.submit(now_record(app="other", cost_usd=Decimal("2")))
    assert writer.spent("editor") == (Decimal("1.5"), Decimal("1.5"))
    assert writer.spent_total() == Decimal("3.5")
    writer.close()


def test_spend_counters_count_earlier_days_in_the_month_only(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    today = datetime.now(UTC)
    if today.day == 1:
        pytest.skip("no earlier day this month")
    open_ledger().write([record(cost_usd=Decimal("1"), timestamp=today - timedelta(days=1))])
    writer = BatchWriter(tmp_path / "l.db")
    assert writer.spent("editor") == (Decimal("0"), Decimal("1"))
    writer.close()


def test_spend_counters_pick_up_other_processes_at_the_next_resync(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    writer = BatchWriter(tmp_path / "l.db", resync_s=0.05)
    writer.submit(now_record(cost_usd=Decimal("0.25")))
    open_ledger().write([now_record(cost_usd=Decimal("1"))])  # as the CLI would
    deadline = time.monotonic() + 5
    while writer.spent("editor")[0] < Decimal("1.25") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writer.spent("editor") == (Decimal("1.25"), Decimal("1.25"))
    writer.close()


def test_the_writer_stores_prompt_text_only_when_told(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    writer = BatchWriter(tmp_path / "l.db", store_prompts=True)
    writer.submit(now_record(prompt_text="draft"))
    writer.close()
    assert open_ledger().last(1)[0]["prompt_text"] == "draft"
