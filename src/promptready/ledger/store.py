"""The ledger file: open (WAL, migrated), write batches with their rollups, query, export, prune.

Every batch is one transaction that inserts the rows and bumps the rollups, so a crash loses at most
the batch in flight and rollups always equal a recount of the rows. Several processes (the app, the
CLI) may share the file: WAL plus a busy timeout serialises their writers.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from promptready.errors import ConfigError
from promptready.ledger.migrations import migrate
from promptready.ledger.records import UsageRecord

MICRO = Decimal("0.000001")
GROUPS = {"day": "day", "model": "model", "app": "app", "mode": "mode", "source": "source"}
COLUMNS = (
    "id", "ts", "day", "source", "app", "mode", "provider", "model", "prompt_tokens",
    "completion_tokens", "tokens_estimated", "cost_micro_usd", "credits", "latency_ms", "ttft_ms",
    "status", "error_code", "request_id", "cache_hit", "hops", "prompt_text",
)  # fmt: skip
_INSERT = (
    f"INSERT OR IGNORE INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_ROLLUP = """
INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (day, source, app, mode, model) DO UPDATE SET
    calls = calls + excluded.calls, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
    completion_tokens = completion_tokens + excluded.completion_tokens,
    cost_micro_usd = cost_micro_usd + excluded.cost_micro_usd, credits = credits + excluded.credits
"""


@dataclass(frozen=True)
class Total:
    """One line of a summary."""

    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    credits: int


def _micro(amount: Decimal) -> int:
    return int((amount / MICRO).to_integral_value())


def _row(record: UsageRecord, keep_prompt: bool) -> tuple[Any, ...]:
    ts = record.timestamp.astimezone(UTC)
    return (
        record.id, ts.isoformat(), ts.date().isoformat(), record.source, record.app, record.mode,
        record.provider, record.model, record.prompt_tokens, record.completion_tokens,
        int(record.tokens_estimated), _micro(record.cost_usd), record.credits, record.latency_ms,
        record.ttft_ms, record.status, record.error_code, record.request_id, int(record.cache_hit),
        record.hops, record.prompt_text if keep_prompt else None,
    )  # fmt: skip


class Ledger:
    """One connection to the ledger file."""

    def __init__(self, path: Path, store_prompts: bool = False) -> None:
        self.path = path
        self.store_prompts = store_prompts
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            migrate(self.conn, path)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"The usage ledger {path} could not be opened ({exc}).") from None

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def write(self, records: Sequence[UsageRecord]) -> None:
        """Insert records and bump their rollups in one transaction (duplicates by id ignored)."""
        with self.conn:
            unique = {r.id: r for r in records}
            for known in self._existing(list(unique)):
                del unique[known]
            fresh = list(unique.values())
            self.conn.executemany(_INSERT, [_row(r, self.store_prompts) for r in fresh])
            # Aggregated per rollup key first: one upsert per key instead of one per row.
            sums: dict[tuple[str, ...], list[int]] = {}
            for record in fresh:
                key = (
                    record.timestamp.astimezone(UTC).date().isoformat(), record.source,
                    record.app or "", record.mode, record.model or "",
                )  # fmt: skip
                acc = sums.setdefault(key, [0, 0, 0, 0, 0])
                acc[0] += 1
                acc[1] += record.prompt_tokens
                acc[2] += record.completion_tokens
                acc[3] += _micro(record.cost_usd)
                acc[4] += record.credits
            self.conn.executemany(_ROLLUP, [(*k, *v) for k, v in sums.items()])

    def _existing(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` are already in the ledger (a retried batch must not count twice)."""
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT id FROM calls WHERE id IN ({marks})"
            found |= {row[0] for row in self.conn.execute(query, chunk)}
        return found

    def totals(self, by: str, since: date | None = None) -> list[Total]:
        """Calls, tokens, cost and credits per day / model / app / mode / source, from rollups."""
        column = GROUPS.get(by)
        if column is None:
            raise ConfigError(f"Cannot group by {by!r}; use one of {', '.join(GROUPS)}.")
        rows = self.conn.execute(
            f"SELECT {column}, SUM(calls), SUM(prompt_tokens), SUM(completion_tokens), "
            f"SUM(cost_micro_usd), SUM(credits) FROM rollups WHERE day >= ? GROUP BY 1 ORDER BY 1",
            ((since or date.min).isoformat(),),
        )
        return [Total(k or "-", c, p, o, Decimal(m) * MICRO, cr) for k, c, p, o, m, cr in rows]

    def spend(self, since: date, app: str | None = None) -> Decimal:
        """USD spent since ``since`` (for one app, or all)."""
        sql = "SELECT COALESCE(SUM(cost_micro_usd), 0) FROM rollups WHERE day >= ?"
        args: tuple[str, ...] = (since.isoformat(),)
        if app is not None:
            sql += " AND app = ?"
            args += (app,)
        return Decimal(self.conn.execute(sql, args).fetchone()[0]) * MICRO

    def month_spend(self, today: date | None = None) -> Decimal:
        """USD spent this calendar month (UTC)."""
        today = today or datetime.now(UTC).date()
        return self.spend(today.replace(day=1))

    def latencies(self, days: int = 7) -> dict[str, float]:
        """Average latency of successful AI calls per ``provider/model`` over the last days."""
        since = (datetime.now(UTC).date() - timedelta(days=days)).isoformat()
        rows = self.conn.execute(
            "SELECT provider || '/' || model, AVG(latency_ms) FROM calls WHERE day >= ? "
            "AND status = 'ok' AND mode = 'byok' AND provider IS NOT NULL "
            "AND latency_ms IS NOT NULL GROUP BY 1",
            (since,),
        )
        return {name: float(ms) for name, ms in rows}

    def last(self, n: int) -> list[dict[str, Any]]:
        """The newest ``n`` calls as dicts of every column (cost as a Decimal string)."""
        cursor = self.conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM calls ORDER BY ts DESC LIMIT ?",
            (n,),
        )
        return [_as_dict(row) for row in cursor]

    def rows(self, since: date | None = None) -> Iterable[dict[str, Any]]:
        """Every call since ``since``, oldest first."""
        cursor = self.conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM calls WHERE day >= ? ORDER BY ts",
            ((since or date.min).isoformat(),),
        )
        return (_as_dict(row) for row in cursor)

    def export(self, fmt: str, since: date | None = None) -> str:
        """All rows as CSV or JSON text."""
        rows = list(self.rows(since))
        if fmt == "json":
            return json.dumps(rows, ensure_ascii=False, indent=2)
        if fmt == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(
                out, fieldnames=[c if c != "cost_micro_usd" else "cost_usd" for c in COLUMNS]
            )
            writer.writeheader()
            writer.writerows(rows)
            return out.getvalue()
        raise ConfigError(f"Unknown export format {fmt!r}; use csv or json.")

    def prune(self, older_than_days: int, today: date | None = None) -> int:
        """Delete rows older than N days; their rollups go too, so totals match what is kept."""
        cutoff = ((today or datetime.now(UTC).date()) - timedelta(days=older_than_days)).isoformat()
        with self.conn:
            deleted = self.conn.execute("DELETE FROM calls WHERE day < ?", (cutoff,)).rowcount
            self.conn.execute("DELETE FROM rollups WHERE day < ?", (cutoff,))
        return int(deleted)


def _as_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    found = dict(zip(COLUMNS, row, strict=True))
    found["cost_usd"] = str(Decimal(found.pop("cost_micro_usd")) * MICRO)
    found["tokens_estimated"] = bool(found["tokens_estimated"])
    found["cache_hit"] = bool(found["cache_hit"])
    return found
