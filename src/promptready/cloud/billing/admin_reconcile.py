"""``promptready-cloud admin reconcile [--since DATE]``: the subcommand, for the CLI to add with
``add_reconcile(admin_subparsers)`` and run with ``reconcile_command(config, args.since)``."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from promptready.cloud.config import CloudConfig

COMMAND = "reconcile"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since must be a date like 2026-12-01, not {text!r}"
        ) from None


def add_reconcile(tools: argparse._SubParsersAction[Any]) -> None:
    """Add ``reconcile [--since DATE]`` to the ``admin`` subcommands."""
    command = tools.add_parser(
        COMMAND, help="compare Stripe with the credit ledger (exit 1 on any difference)"
    )
    command.add_argument("--since", type=_date, metavar="DATE", help="from this UTC date on")


def reconcile_command(config: CloudConfig, since: date | None) -> int:
    """Run reconciliation against the configured database and Stripe; the exit code."""
    # Imported here: the CLI builds its parser from this module, and every other command would
    # otherwise load Stripe's client and the store just to read its arguments.
    import asyncio

    from promptready.cloud.billing.reconcile import run_reconcile
    from promptready.cloud.store import Store

    async def work() -> int:
        store = await Store.open(config.database_url, config.store_settings())
        try:
            await store.ensure_schema()
            return await run_reconcile(store, os.environ, since, sys.stdout)
        finally:
            await store.close()

    return asyncio.run(work())
