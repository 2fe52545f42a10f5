"""The ledger file: open (WAL, migrated), write batches with their rollups, query, export, prune.

Every batch is atomic: one INSERT (a statement is its own transaction; no BEGIN/COMMIT round
trip for the gateway's one-row batches) or, past one statement's rows, one ``BEGIN IMMEDIATE``
transaction. A trigger on ``calls`` bumps the rollups inside the inserting statement (migration
006), so a crash loses at most the batch in flight and rollups always equal a recount of the rows.
Several processes (the app, the CLI) may share the file: WAL lets readers run beside the one
writer, and a busy timeout makes writers queue for the write lock instead of failing. Rows go in
through the ``sqlite3`` module (the bench measures it against the SQLModel ORM); ``schema.py``
declares the same tables for typed reads.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, TextIO

from promptready.errors import ConfigError
from promptready.ledger.export import FORMATS, write_csv, write_json
from promptready.ledger.migrations import NewerLedgerError, prepare
from promptready.ledger.records import PAID_IN_CREDITS, UsageRecord, paid_usd, usd
from promptready.paths import private_file

GROUPS = ("day", "model", "app", "mode", "source")
COLUMNS = (
    "id", "ts", "day", "source", "app", "mode", "provider", "model", "prompt_tokens",
    "completion_tokens", "tokens_estimated", "cost_micro_usd", "credits", "latency_ms", "ttft_ms",
    "status", "error_code", "request_id", "cache_hit", "hops", "prompt_text", "unpriced",
)  # fmt: skip
EXPORT_COLUMNS = tuple("cost_usd" if c == "cost_micro_usd" else c for c in COLUMNS)
BUSY_TIMEOUT_S = 10
# Rows go in as multi-row INSERTs: a quarter less CPU than one step per row, and the sqlite3
# module gives up and retakes the GIL once per statement, not once per row, which matters when
# the gateway's event loop wants it. 47 rows keep a statement under the 999 bound variables older
# SQLite builds allow. The statement's row count says how many were new (a retried row is
# ignored, and fires no rollup trigger), so no lookup by id precedes the insert.
_CHUNK = 999 // len(COLUMNS)
_ROW_MARKS = f"({', '.join('?' * len(COLUMNS))})"


@lru_cache(maxsize=_CHUNK)
def _insert_sql(n: int) -> str:
    """``INSERT OR IGNORE`` of ``n`` rows (the rollup trigger counts the new ones)."""
    return f"INSERT OR IGNORE INTO calls ({', '.join(COLUMNS)}) VALUES " + ", ".join(
        [_ROW_MARKS] * n
    )


# Money paid, for every total shown as money: rows paid in credits carry their dollar value for
# budgets only (records.PAID_IN_CREDITS), so they count 0 here. Budget reads (``budget_spent``,
# ``app_month_spend``) sum ``cost_micro_usd`` whole, so a credits call still counts against them.
_PAID_MICRO = f"CASE WHEN mode = '{PAID_IN_CREDITS}' THEN 0 ELSE cost_micro_usd END"
_FIRST_DAY = date.min.isoformat()
_LAST_DAY = date.max.isoformat()


@dataclass(frozen=True)
class Total:
    """One line of a summary."""

    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal  # money paid: calls paid in credits count in ``credits`` instead
    credits: int
    unpriced: int = 0  # calls whose model had no price (their cost is unknown, counted as 0)


def _row(record: UsageRecord, keep_prompt: bool) -> tuple[Any, ...]:
    ts = record.timestamp.astimezone(UTC)
    return (
        record.id, ts.isoformat(), ts.date().isoformat(), record.source, record.app, record.mode,
        record.provider, record.model, record.prompt_tokens, record.completion_tokens,
        int(record.tokens_estimated), record.micro_usd, record.credits, record.latency_ms,
        record.ttft_ms, record.status, record.error_code, record.request_id, int(record.cache_hit),
        record.hops, record.prompt_text if keep_prompt else None, int(record.unpriced),
    )  # fmt: skip


def _as_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    found = dict(zip(EXPORT_COLUMNS, row, strict=True))
    found["cost_usd"] = str(usd(found["cost_usd"]))
    found["tokens_estimated"] = bool(found["tokens_estimated"])
    found["cache_hit"] = bool(found["cache_hit"])
    found["unpriced"] = bool(found["unpriced"])
    return found


# Range filters on ``calls`` use the indexed ``ts``: an ISO day sorts just before its timestamps.


class Ledger:
    """One connection to the ledger file (usable from one thread at a time)."""

    def __init__(self, path: Path, store_prompts: bool = False) -> None:
        self.path = path
        self.store_prompts = store_prompts
        try:
            private_file(path)  # 0600 before SQLite opens it; its -wal/-shm copy that mode
            # Autocommit: transactions are explicit (BEGIN IMMEDIATE), never implied by sqlite3.
            self.conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"The usage ledger {path} could not be opened ({exc}).") from None
        self._wait_s = float(BUSY_TIMEOUT_S)
        try:
            prepare(self.conn, path, BUSY_TIMEOUT_S)
        except NewerLedgerError as exc:
            self.conn.close()
            raise ConfigError(
                f"The usage ledger {path} could not be opened ({exc}); update PromptReady "
                "to use it, or move the file aside to start a new one."
            ) from None
        except (OSError, sqlite3.Error) as exc:
            self.conn.close()
            raise ConfigError(
                f"The usage ledger {path} could not be opened ({exc}); "
                "move the file aside to start a new one."
            ) from None

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def checkpoint_elsewhere(self) -> None:
        """Leave WAL checkpoints to ``checkpoint`` on another connection: this one's commits
        then never copy the WAL back into the file (milliseconds, with two fsyncs, every
        thousand pages), which matters when they run on an event loop."""
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self) -> None:
        """Copy what the WAL holds back into the file, as far as readers allow, without
        blocking writers (a passive checkpoint)."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def wait_for_locks(self, seconds: float) -> None:
        """How long a write waits for another process's write lock before it fails with
        "database is locked" (0: fail at once, for a caller that must not block)."""
        if seconds != self._wait_s:  # the common case: unchanged, no statement
            self.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
            self._wait_s = seconds

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def write(self, records: Sequence[UsageRecord]) -> int:
        """Insert records (their rollups bumped by the trigger) in one transaction; returns how
        many were new. A record whose (ts, id) is already in the file is skipped, so a retried
        batch counts once.
        """
        keep = self.store_prompts
        if len(records) == 1:  # the gateway's common case: one autocommit statement, no BEGIN
            return self._insert([_row(records[0], keep)])
        rows = [_row(r, keep) for r in {r.id: r for r in records}.values()]
        if len(rows) <= _CHUNK:  # one statement is atomic on its own
            return self._insert(rows) if rows else 0
        with self._transaction():
            return sum(
                self._insert(rows[start : start + _CHUNK]) for start in range(0, len(rows), _CHUNK)
            )

    def _insert(self, rows: list[tuple[Any, ...]]) -> int:
        """Insert up to ``_CHUNK`` rows in one statement; returns how many were not there yet
        (the count leaves out the trigger's rollup rows)."""
        params = rows[0] if len(rows) == 1 else list(chain.from_iterable(rows))
        return int(self.conn.execute(_insert_sql(len(rows)), params).rowcount)

    def totals(self, by: str, since: date | None = None, until: date | None = None) -> list[Total]:
        """Calls, tokens, money paid and credits per day / model / app / mode / source over a
        period (both ends included), from the rollups."""
        if by not in GROUPS:
            raise ConfigError(f"Cannot group by {by!r}; use one of {', '.join(GROUPS)}.")
        rows = self.conn.execute(
            f"SELECT {by}, SUM(calls), SUM(prompt_tokens), SUM(completion_tokens), "
            f"SUM({_PAID_MICRO}), SUM(credits), SUM(unpriced) FROM rollup_sums "
            "WHERE day BETWEEN ? AND ? GROUP BY 1 ORDER BY 1",
            (_day(since, _FIRST_DAY), _day(until, _LAST_DAY)),
        )
        return [Total(k or "-", c, p, o, usd(m), cr, u) for k, c, p, o, m, cr, u in rows]

    def spend(self, since: date, app: str | None = None) -> Decimal:
        """USD paid since ``since`` (for one app, or all); calls paid in credits are not money
        paid, so they count 0 (``budget_spent`` is what budgets count)."""
        sql = f"SELECT COALESCE(SUM({_PAID_MICRO}), 0) FROM rollup_sums WHERE day >= ?"
        args: tuple[str, ...] = (since.isoformat(),)
        if app is not None:
            sql += " AND app = ?"
            args += (app,)
        return usd(self.conn.execute(sql, args).fetchone()[0])

    def month_spend(self, today: date | None = None) -> Decimal:
        """USD paid this calendar month (UTC), as the user is shown it (see ``spend``)."""
        today = today or datetime.now(UTC).date()
        return self.spend(today.replace(day=1))

    def budget_spent(self, app: str, today: date | None = None) -> tuple[Decimal, Decimal]:
        """USD one app spent today and this month (UTC), as every process wrote it and as its
        budgets count it (credits calls at their dollar value): one small indexed query over the
        rollups. ``BatchWriter.spent`` is the cheaper in-memory view."""
        today = today or datetime.now(UTC).date()
        day, month = self.conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN day = ? THEN cost_micro_usd END), 0), "
            "COALESCE(SUM(cost_micro_usd), 0) FROM rollup_sums WHERE day >= ? AND app = ?",
            (today.isoformat(), today.replace(day=1).isoformat(), app),
        ).fetchone()
        return usd(day), usd(month)

    def app_month_spend(self, today: date) -> list[tuple[str, str, int]]:
        """(app, day, micro-dollars) for every app and day of ``today``'s month, as budgets count
        it (credits calls at their dollar value): seeds the writer's spend counters."""
        rows = self.conn.execute(
            "SELECT app, day, SUM(cost_micro_usd) FROM rollup_sums WHERE day >= ? GROUP BY 1, 2",
            (today.replace(day=1).isoformat(),),
        )
        return [(app, day, int(micro)) for app, day, micro in rows]

    def latencies(self, days: int = 7) -> dict[str, float]:
        """Average latency of successful AI calls per ``provider/model`` over the last days."""
        since = (datetime.now(UTC).date() - timedelta(days=days)).isoformat()
        rows = self.conn.execute(
            "SELECT provider || '/' || model, AVG(latency_ms) FROM calls WHERE ts >= ? "
            "AND status = 'ok' AND mode = 'byok' AND provider IS NOT NULL "
            "AND latency_ms IS NOT NULL GROUP BY 1",
            (since,),
        )
        return {name: float(ms) for name, ms in rows}

    def last(self, n: int) -> list[dict[str, Any]]:
        """The newest ``n`` calls as dicts of every column (cost as a Decimal string)."""
        cursor = self.conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM calls ORDER BY ts DESC LIMIT ?", (n,)
        )
        return [_as_dict(row) for row in cursor]

    def rows(self, since: date | None = None) -> Iterator[dict[str, Any]]:
        """Every call since ``since``, oldest first."""
        cursor = self.conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM calls WHERE ts >= ? ORDER BY ts",
            (_day(since, _FIRST_DAY),),
        )
        return (_as_dict(row) for row in cursor)

    def export_to(self, fmt: str, out: TextIO, since: date | None = None) -> int:
        """Write every row (every column, cost in USD paid: 0 for a call paid in credits, which
        its credits column counts) as CSV or JSON; returns the row count."""
        if fmt not in FORMATS:
            raise ConfigError(f"Unknown export format {fmt!r}; use csv or json.")
        rows = (_exported(row) for row in self.rows(since))
        if fmt == "csv":
            return write_csv(rows, EXPORT_COLUMNS, out)
        return write_json(rows, out)

    def export(self, fmt: str, since: date | None = None) -> str:
        """Every row as CSV or JSON text."""
        out = io.StringIO()
        self.export_to(fmt, out, since)
        return out.getvalue()

    def prune(self, older_than_days: int, today: date | None = None) -> int:
        """Delete calls older than N days with their rollup rows; returns the rows deleted.

        Totals, month spend and budgets then count only what is kept: pruning last month's rows
        lowers last month's totals (whole days go, so a day is either complete or absent).
        """
        cutoff = (today or datetime.now(UTC).date()) - timedelta(days=older_than_days)
        with self._transaction():
            deleted = self.conn.execute(
                "DELETE FROM calls WHERE ts < ?", (cutoff.isoformat(),)
            ).rowcount
            self.conn.execute("DELETE FROM rollup_sums WHERE day < ?", (cutoff.isoformat(),))
        return int(deleted)


def _exported(row: dict[str, Any]) -> dict[str, Any]:
    """A row as exports show it: its cost is the money paid (``records.paid_usd``)."""
    row["cost_usd"] = str(paid_usd(row))
    return row


def _day(value: date | None, default: str) -> str:
    return default if value is None else value.isoformat()
