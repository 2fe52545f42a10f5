"""The batching writer for hot paths: ``submit`` is O(1) and never touches the disk; a thread
writes batches every ``interval_s`` (or sooner when many are waiting) and on ``close``.

Per-app spend counters (today, this month) live in memory, rebuilt from the rollups at start and
bumped on submit, so a budget check costs a dict lookup. They count this process's calls plus what
was on disk at start; the rollups stay the cross-process truth.
"""

from __future__ import annotations

import atexit
import threading
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger


class BatchWriter:
    """Queue records from any thread; a background thread writes them in batches."""

    def __init__(self, path: Path, interval_s: float = 0.1, batch_size: int = 1000) -> None:
        self._ledger = Ledger(path)
        self._interval = interval_s
        self._batch_size = batch_size
        self._pending: list[UsageRecord] = []
        self._wake = threading.Condition()
        self._closed = False
        self._day = datetime.now(UTC).date()
        self._today: dict[str, Decimal] = defaultdict(Decimal)
        self._month: dict[str, Decimal] = defaultdict(Decimal)
        self._load_counters(self._day)
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _load_counters(self, today: date) -> None:
        rows = self._ledger.conn.execute(
            "SELECT app, day, SUM(cost_micro_usd) FROM rollups WHERE day >= ? GROUP BY 1, 2",
            (today.replace(day=1).isoformat(),),
        )
        for app, day, micro in rows:
            amount = Decimal(micro) * Decimal("0.000001")
            self._month[app] += amount
            if day == today.isoformat():
                self._today[app] += amount

    def submit(self, record: UsageRecord) -> None:
        """Hand a record over; it is on disk within about ``interval_s``."""
        with self._wake:
            if self._closed:
                raise RuntimeError("the ledger writer is closed")
            self._pending.append(record)
            app = record.app or ""
            if record.timestamp.date() != self._day:
                self._roll_day(record.timestamp.date())
            self._today[app] += record.cost_usd
            self._month[app] += record.cost_usd
            if len(self._pending) >= self._batch_size:
                self._wake.notify()

    def _roll_day(self, day: date) -> None:
        if day.month != self._day.month:
            self._month.clear()
        self._today.clear()
        self._day = day

    def spent(self, app: str) -> tuple[Decimal, Decimal]:
        """USD this app spent today and this month (UTC)."""
        with self._wake:
            today = datetime.now(UTC).date()
            if today != self._day:
                self._roll_day(today)
            return self._today[app], self._month[app]

    def spent_total(self) -> Decimal:
        """USD all apps spent this month (UTC)."""
        with self._wake:
            return sum(self._month.values(), Decimal(0))

    def flush(self) -> None:
        """Write everything submitted so far, now."""
        with self._wake:
            batch, self._pending = self._pending, []
        if batch:
            self._ledger.write(batch)

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._closed and len(self._pending) < self._batch_size:
                    self._wake.wait(self._interval)
                closed = self._closed
            self.flush()
            if closed:
                return

    def close(self) -> None:
        """Flush and stop; safe to call twice."""
        with self._wake:
            if self._closed:
                return
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=30)
        self.flush()
        self._ledger.close()
