"""The batching writer for hot paths: ``submit`` is O(1) and never touches the disk; a thread
writes batches every ``interval_s`` (or sooner when ``batch_size`` are waiting) and on ``close``
(``atexit`` as a last resort). A batch that fails to write stays queued and is retried, so a row
is lost only if the process dies before its batch commits.

Budget counters: per-app USD spent today and this month live in memory, seeded from the rollups
and bumped on submit, so a budget check is a dict lookup. They see this process's calls at once
and other processes' (the CLI, the app) at the next resync from the rollups, every
``resync_s``: the rollups are the cross-process truth, the counters a fast, slightly late view.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from promptready.ledger.records import UsageRecord, usd
from promptready.ledger.store import Ledger

log = logging.getLogger(__name__)


class _Spend:
    """Per-app spend for one UTC day and its month, in whole micro-dollars (int sums are exact
    and several times cheaper than Decimal ones on the hot path)."""

    def __init__(self, day: date) -> None:
        self.day = day
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        self.ends = midnight.timestamp()  # epoch seconds at which this day is over
        self.today: dict[str, int] = defaultdict(int)
        self.month: dict[str, int] = defaultdict(int)
        self.month_total = 0

    def add(self, record: UsageRecord) -> None:
        micro = record.micro_usd
        if not micro:
            return
        day = record.day
        if day.year != self.day.year or day.month != self.day.month:
            return  # a late row from another month counts for no current budget
        self.add_micro(record.app or "", micro, day == self.day)

    def add_micro(self, app: str, micro: int, today: bool) -> None:
        self.month[app] += micro
        self.month_total += micro
        if today:
            self.today[app] += micro


class BatchWriter:
    """Queue records from any thread; a background thread writes them in batches."""

    def __init__(
        self,
        path: Path,
        *,
        interval_s: float = 0.1,
        batch_size: int = 1000,
        store_prompts: bool = False,
        resync_s: float = 2.0,
        ledger: Ledger | None = None,
    ) -> None:
        self._ledger = ledger if ledger is not None else Ledger(path, store_prompts)
        self._interval = interval_s
        self._batch_size = batch_size
        self._resync_s = resync_s
        self._pending: list[UsageRecord] = []
        self._wake = threading.Condition()  # guards _pending, _spend, _closed
        self._write_lock = threading.Lock()  # one batch at a time on the connection
        self._closed = False
        self._failures = 0
        self._spend = _Spend(datetime.now(UTC).date())
        self._resync()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def submit(self, record: UsageRecord) -> None:
        """Hand a record over; it is on disk within about ``interval_s``."""
        with self._wake:
            if self._closed:
                raise RuntimeError("the ledger writer is closed")
            self._pending.append(record)
            self._roll_over()
            self._spend.add(record)
            if len(self._pending) >= self._batch_size:
                self._wake.notify()

    def spent(self, app: str) -> tuple[Decimal, Decimal]:
        """USD this app spent today and this month (UTC)."""
        today, month, _ = self.spent_micro(app)
        return usd(today), usd(month)

    def spent_total(self) -> Decimal:
        """USD all apps spent this month (UTC)."""
        return usd(self.spent_micro("")[2])

    def spent_micro(self, app: str) -> tuple[int, int, int]:
        """Micro-dollars this app spent today and this month, and all apps this month (UTC):
        the budget check's one read, with no Decimal arithmetic."""
        with self._wake:
            self._roll_over()
            spend = self._spend
            return spend.today.get(app, 0), spend.month.get(app, 0), spend.month_total

    @property
    def pending(self) -> int:
        """Records handed over and not yet on disk."""
        with self._wake:
            return len(self._pending)

    def _roll_over(self) -> None:
        """At midnight UTC start a new day (and at a month's end a new month); caller holds lock."""
        if time.time() < self._spend.ends:
            return  # the common case: one float comparison
        today = datetime.now(UTC).date()
        if today == self._spend.day:
            return
        fresh = _Spend(today)
        if (today.year, today.month) == (self._spend.day.year, self._spend.day.month):
            fresh.month.update(self._spend.month)
            fresh.month_total = self._spend.month_total
        self._spend = fresh

    def _resync(self) -> None:
        """Counters = the rollups (every process's committed rows) + this process's queue."""
        with self._write_lock:  # no batch in flight: each record is on disk xor in the queue
            today = datetime.now(UTC).date()
            rows = self._ledger.app_month_spend(today)
            with self._wake:
                fresh = _Spend(today)
                for app, day, micro in rows:
                    fresh.add_micro(app, micro, day == today.isoformat())
                for record in self._pending:
                    fresh.add(record)
                self._spend = fresh

    def flush(self) -> None:
        """Write everything submitted so far, now (raises if the file cannot be written)."""
        with self._write_lock:
            with self._wake:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                self._ledger.write(batch)
            except BaseException:
                with self._wake:  # back to the front, in order; a retry skips what landed
                    self._pending[:0] = batch
                raise

    def _run(self) -> None:
        last_sync = time.monotonic()
        while True:
            with self._wake:
                if not self._closed and len(self._pending) < self._batch_size:
                    self._wake.wait(self._interval * (1 + min(self._failures, 50)))
                closed = self._closed
            if closed:
                return  # close() writes the rest on its own thread
            try:
                self.flush()
                if time.monotonic() - last_sync >= self._resync_s:
                    self._resync()
                    last_sync = time.monotonic()
                self._failures = 0
            except Exception:  # e.g. disk full or locked too long: keep the rows and retry
                self._failures += 1
                log.exception("could not write the usage ledger; will retry")

    def close(self) -> None:
        """Flush and stop; safe to call twice."""
        with self._wake:
            if self._closed:
                return
            self._closed = True
            self._wake.notify()
        atexit.unregister(self.close)
        self._thread.join(timeout=30)
        try:
            self.flush()
        finally:
            self._ledger.close()
