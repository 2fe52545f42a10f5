"""Makers for the ledger tests: a record with sensible values, the recount that rollups must
always equal, and ``promptready usage`` run through its real parser."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import Decimal

from promptready.commands import usage
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger

DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def record(**overrides: object) -> UsageRecord:
    """A gateway call by 'editor' on DAY; any field can be overridden."""
    fields: dict[str, object] = {
        "source": "gateway", "mode": "byok", "app": "editor", "provider": "openai",
        "model": "gpt-4o-mini", "prompt_tokens": 100, "completion_tokens": 20,
        "cost_usd": Decimal("0.000027"), "timestamp": DAY,
    }  # fmt: skip
    fields.update(overrides)
    return UsageRecord(**fields)  # type: ignore[arg-type]


def recount(ledger: Ledger) -> list[tuple[object, ...]]:
    """What the rollups should hold, recomputed from the rows."""
    return ledger.conn.execute(
        "SELECT day, source, COALESCE(app, ''), mode, COALESCE(model, ''), COUNT(*), "
        "SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_micro_usd), SUM(credits), "
        "SUM(unpriced) "
        "FROM calls GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
    ).fetchall()


def rollups(ledger: Ledger) -> list[tuple[object, ...]]:
    """The rollup rows as stored."""
    return ledger.conn.execute("SELECT * FROM rollup_sums ORDER BY 1, 2, 3, 4, 5").fetchall()


def usage_cli(argv: list[str]) -> int:
    """Parse ``argv`` (after ``promptready``) with the usage parser and run what it chose."""
    parser = argparse.ArgumentParser(prog="promptready")
    usage.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.func(args))
