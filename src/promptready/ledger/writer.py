"""The ledger writer for hot paths: group commit without a timer. ``submit`` is O(1) and never
touches the disk. ``committed`` (an event loop's caller, the gateway) queues its row and, once
per loop iteration, a ``call_soon`` callback writes everything queued as one transaction on the
loop's own thread: the rows of every request that settled in that iteration share a commit, and
no thread hop, futex or self-pipe wake-up sits between a request and its commit (one row's
commit blocks the loop for tens of microseconds: SQLite in WAL mode with synchronous=NORMAL
writes the pages to the WAL file, no fsync). The loop never waits for a lock: when another
process holds the file's write lock, or this writer's thread is mid-batch, the batch is left to
the thread, which waits for it. Callers without a loop (``submit``, ``commit_now``: the desktop
app's Qt thread, the CLI) wake the thread, which writes whatever is waiting as one transaction,
so while it commits one batch the next one gathers.

``committed`` resolves once the row is on disk, so a caller can hold its answer's last byte
until then: kill -9 at any moment loses no answered request. A batch that fails to write stays
queued and is retried by the thread (after a pause that grows with the failures); its waiters
are let go so no request hangs on a full disk. ``close`` (``atexit`` as a last resort) writes
the rest.

Budget counters: per-app USD spent today and this month live in memory, seeded from the rollups
and bumped on submit, so a budget check is a dict lookup. They see this process's calls at once
and other processes' (the CLI, the app) at the next resync from the rollups, every
``resync_s``: the rollups are the cross-process truth, the counters a fast, slightly late view.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import sqlite3
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from promptready.errors import PromptReadyError
from promptready.ledger.records import UsageRecord, usd
from promptready.ledger.store import BUSY_TIMEOUT_S, Ledger

log = logging.getLogger(__name__)
# The thread checkpoints the WAL after this many commits (a one-row commit adds about two pages
# to it; SQLite's own default is every 1,000 pages), on a connection of its own.
CHECKPOINT_EVERY = 400


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


# Whoever waits for some rows to be on disk: an asyncio future (on its own loop) or a thread.
_Waiter = asyncio.Future[None] | threading.Event


def _wake(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


def _release(waiters: list[_Waiter], here: asyncio.AbstractEventLoop | None = None) -> None:
    """Let every waiter go: the futures of ``here`` (the loop running this call) at once, and
    one thread-safe call into each other event loop for the whole batch."""
    elsewhere: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for waiter in waiters:
        if isinstance(waiter, threading.Event):
            waiter.set()
        elif (loop := waiter.get_loop()) is here:
            if not waiter.done():
                waiter.set_result(None)
        else:
            elsewhere.setdefault(loop, []).append(waiter)
    for loop, futures in elsewhere.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_wake, futures)


def _locked(error: BaseException) -> bool:
    """Whether a write failed only because another connection holds the write lock."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


class BatchWriter:
    """Queue records from any thread; a background thread writes them in batches."""

    def __init__(
        self,
        path: Path,
        *,
        retry_s: float = 0.1,
        store_prompts: bool = False,
        resync_s: float = 2.0,
        ledger: Ledger | None = None,
    ) -> None:
        self._ledger = ledger if ledger is not None else Ledger(path, store_prompts)
        self.path = path
        self._retry_s = retry_s
        self._resync_s = resync_s
        self._counted = False  # someone reads the spend counters: keep them fresh while idle
        self._pending: list[UsageRecord] = []
        self._waiters: list[_Waiter] = []
        # Guards _pending, _waiters, _spend, _closed, _scheduled. The hot paths take the plain
        # lock itself (a C call); only the thread's sleep and its wake-ups go through the
        # Condition (its ``with`` is a Python frame on top of an RLock's).
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._write_lock = threading.Lock()  # one batch at a time on the connection
        self._closed = False
        self._writing = False  # the thread is busy: whatever is queued waits for the next batch
        self._scheduled: set[asyncio.AbstractEventLoop] = set()  # loops with a flush to come
        self._ledger.checkpoint_elsewhere()
        self._unchecked = 0  # commits since the last checkpoint
        self._checkpointer: Ledger | None = None  # the thread's connection for checkpoints
        self._failures = 0
        self._spend = _Spend(datetime.now(UTC).date())
        self._resync()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def submit(self, record: UsageRecord) -> None:
        """Hand a record over; it is on disk with the next batch (at once when idle)."""
        self._queue(record, None)

    async def commit(self, record: UsageRecord) -> None:
        """Hand a record over and wait until it is on disk (or its batch failed, see above)."""
        await self.committed(record)

    def committed(self, record: UsageRecord) -> asyncio.Future[None]:
        """Hand a record over now; the future is done once it is on disk (written on this
        loop's thread, after the rest of this loop iteration's rows joined it). Cancelling the
        wait does not take the record back."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._add(record, future)
            first = loop not in self._scheduled
            if first:
                self._scheduled.add(loop)
        if first:
            loop.call_soon(self._flush_on_loop, loop)
        return future

    def commit_now(self, record: UsageRecord, timeout_s: float = 30.0) -> None:
        """``commit`` for synchronous callers: blocks until the row is on disk."""
        done = threading.Event()
        self._queue(record, done)
        done.wait(timeout_s)

    def _queue(self, record: UsageRecord, waiter: _Waiter | None) -> None:
        """Queue for the thread (a caller with no event loop), waking it when idle."""
        with self._lock:
            self._add(record, waiter)
            if not self._writing:
                self._wake.notify()

    def _add(self, record: UsageRecord, waiter: _Waiter | None) -> None:
        """Queue a record (and who waits for it) and count its spend; caller holds the lock."""
        if self._closed:
            raise RuntimeError("the ledger writer is closed")
        self._pending.append(record)
        if waiter is not None:
            self._waiters.append(waiter)
        self._roll_over()
        self._spend.add(record)

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
        with self._lock:
            if not self._counted:
                self._counted = True
                self._wake.notify()  # the idle thread starts its resyncs
            self._roll_over()
            spend = self._spend
            return spend.today.get(app, 0), spend.month.get(app, 0), spend.month_total

    @property
    def store_prompts(self) -> bool:
        """Whether prompt text is written (the user's privacy setting, changeable live)."""
        return self._ledger.store_prompts

    @store_prompts.setter
    def store_prompts(self, keep: bool) -> None:
        self._ledger.store_prompts = keep

    @property
    def closed(self) -> bool:
        """Whether ``close`` ran (no more submits)."""
        return self._closed

    @property
    def pending(self) -> int:
        """Records handed over and not yet on disk."""
        with self._lock:
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
            with self._lock:
                fresh = _Spend(today)
                for app, day, micro in rows:
                    fresh.add_micro(app, micro, day == today.isoformat())
                for record in self._pending:
                    fresh.add(record)
                self._spend = fresh

    def flush(self) -> None:
        """Write everything submitted so far, now (raises if the file cannot be written)."""
        with self._write_lock:
            self._ledger.wait_for_locks(BUSY_TIMEOUT_S)
            self._write_queued(None)

    def _write_queued(self, here: asyncio.AbstractEventLoop | None) -> None:
        """Write the queue as one batch and let its waiters go; caller holds ``_write_lock``."""
        with self._lock:
            batch, self._pending = self._pending, []
            waiters, self._waiters = self._waiters, []
        if not batch:
            _release(waiters, here)
            return
        try:
            self._ledger.write(batch)
            self._unchecked += 1
            if self._unchecked == CHECKPOINT_EVERY and here is not None:
                self._to_thread()
        except BaseException as error:
            with self._lock:  # back to the front, in order; a retry skips what landed
                self._pending[:0] = batch
                if here is not None and _locked(error):  # the thread writes them: still waiting
                    self._waiters[:0] = waiters
                    waiters = []
            raise
        finally:
            _release(waiters, here)

    def _flush_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop's group commit (see the module's docstring): runs once per iteration in
        which rows were committed, and hands the batch to the thread rather than wait."""
        with self._lock:
            self._scheduled.discard(loop)
            if self._closed:
                return  # close() writes the rest
            if self._failures:  # the thread retries, now that there is more to write
                self._wake.notify()
                return
        if not self._write_lock.acquire(blocking=False):
            self._to_thread()  # mid-batch or resyncing: it takes these rows next
            return
        try:
            self._ledger.wait_for_locks(0)
            self._write_queued(loop)
        except Exception as error:
            # Another process's write lock is no failure: the thread waits for it. Anything
            # else is retried by the thread, with pauses.
            if not _locked(error):
                self._failures += 1
                log.exception("could not write the usage ledger; will retry")
            self._to_thread()
        finally:
            self._write_lock.release()

    def _to_thread(self) -> None:
        with self._wake:
            self._wake.notify()

    def _run(self) -> None:
        last_sync = time.monotonic()
        while True:
            with self._wake:
                self._writing = False
                if not self._closed and not self._pending:
                    # Idle: wake to resync only if the counters are read (a gateway's budgets);
                    # a CLI's or popup's writer sleeps until the next row.
                    self._wake.wait(self._resync_s if self._counted else None)
                elif self._failures and not self._closed:
                    self._wake.wait(self._retry_s * min(self._failures, 50))
                closed = self._closed
                self._writing = True
            if closed:
                return  # close() writes the rest on its own thread
            try:
                self.flush()  # waits for another process's lock, as the loop's flush does not
                if self._unchecked >= CHECKPOINT_EVERY:
                    self._checkpoint()
                if time.monotonic() - last_sync >= self._resync_s:
                    self._resync()
                    last_sync = time.monotonic()
                self._failures = 0
            except Exception:  # e.g. disk full or locked too long: keep the rows and retry
                self._failures += 1
                log.exception("could not write the usage ledger; will retry")

    def _checkpoint(self) -> None:
        """Copy the WAL back into the file, beside the commits (a passive checkpoint takes no
        write lock); a count lost to a commit on the loop meanwhile only delays the next one."""
        self._unchecked = 0
        try:
            if self._checkpointer is None:
                self._checkpointer = Ledger(self.path)
            self._checkpointer.checkpoint()
        except (sqlite3.Error, PromptReadyError):  # the rows are safe in the WAL: try later
            log.warning("could not checkpoint the usage ledger", exc_info=True)

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
            if self._checkpointer is not None:
                self._checkpointer.close()
