"""``promptready usage``: what calls cost, by day, model, app or mode; ``usage export`` writes every
row; ``usage prune`` deletes old ones. The ledger (sqlite3) is imported only when a command runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptready.commands.arguments import positive_int

if TYPE_CHECKING:
    from promptready.ledger.store import Ledger, Total

EMPTY = "No calls recorded yet. Enhance something with `promptready enhance`."


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-01") from None


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``usage`` subcommand (a summary) with its ``export`` and ``prune`` actions."""
    parser = subparsers.add_parser(
        "usage",
        help="what your calls cost: totals by day, model, app or mode; or export every row",
        description="Summaries come from the local ledger. `promptready usage export` writes rows.",
    )
    parser.add_argument("--since", type=_date, metavar="DATE", help="from this day (YYYY-MM-DD)")
    parser.add_argument(
        "--until", type=_date, metavar="DATE", help="up to and including this day (YYYY-MM-DD)"
    )
    parser.add_argument("--by", choices=("day", "model", "app", "mode"), default="day")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)
    # Optional actions: plain `usage` keeps its own options, `usage export ...` picks its own func.
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    export = actions.add_parser("export", help="write every row as CSV or JSON")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--since", type=_date, metavar="DATE", dest="export_since")
    export.set_defaults(func=run_export)
    prune = actions.add_parser("prune", help="delete rows older than N days (their totals go too)")
    prune.add_argument("--older-than", type=positive_int, required=True, metavar="DAYS")
    prune.set_defaults(func=run_prune)


def _ledger() -> Ledger:
    from promptready.ledger.store import Ledger
    from promptready.paths import app_paths

    return Ledger(app_paths().ledger_file)


def _money(amount: Decimal) -> str:
    return f"${amount:.6f}"


def format_table(by: str, totals: Sequence[Total]) -> list[str]:
    """Aligned lines: a header, one line per group, and a totals line; calls to models with no
    price get an ``unpriced`` column (their cost is unknown, not zero)."""
    header: tuple[str, ...] = (by, "calls", "prompt tok", "output tok", "cost USD", "credits")
    lines: list[tuple[object, ...]] = [
        (t.key, t.calls, t.prompt_tokens, t.completion_tokens, _money(t.cost_usd), t.credits)
        for t in totals
    ]
    lines.append(
        (
            "total",
            sum(t.calls for t in totals),
            sum(t.prompt_tokens for t in totals),
            sum(t.completion_tokens for t in totals),
            _money(sum((t.cost_usd for t in totals), Decimal(0))),
            sum(t.credits for t in totals),
        )
    )
    if any(t.unpriced for t in totals):
        header += ("unpriced",)
        counts = [t.unpriced for t in totals]
        lines = [(*line, n) for line, n in zip(lines, [*counts, sum(counts)], strict=True)]
    table = [header, *lines]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    return [
        "  ".join(
            str(v).ljust(w) if i == 0 else str(v).rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    ]


def run(args: argparse.Namespace) -> int:
    """Print totals as an aligned table (or JSON)."""
    import json

    if args.since and args.until and args.until < args.since:
        from promptready.errors import ConfigError

        raise ConfigError(f"--until {args.until} is before --since {args.since}.")
    ledger = _ledger()
    try:
        totals = ledger.totals(args.by, args.since, args.until)
    finally:
        ledger.close()
    if args.json:
        rows = [{**vars(t), "cost_usd": str(t.cost_usd)} for t in totals]
        print(json.dumps(rows, indent=2))
    elif not totals:
        print(EMPTY)
    else:
        print("\n".join(format_table(args.by, totals)))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write every row as CSV or JSON to stdout or a file."""
    from promptready.errors import ConfigError

    since = args.export_since or getattr(args, "since", None)  # `usage --since D export` too
    ledger = _ledger()
    try:
        if args.output is None:
            ledger.export_to(args.format, sys.stdout, since)
            return 0
        try:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = ledger.export_to(args.format, out, since)
        except OSError as exc:
            raise ConfigError(
                f"Could not write {args.output} ({exc.strerror}); choose another file with -o."
            ) from None
    finally:
        ledger.close()
    print(f"Wrote {count} row(s) to {args.output}.", file=sys.stderr)
    return 0


def run_prune(args: argparse.Namespace) -> int:
    """Delete old rows on request (nothing is ever pruned automatically)."""
    ledger = _ledger()
    try:
        deleted = ledger.prune(args.older_than)
    finally:
        ledger.close()
    print(f"Deleted {deleted} row(s) older than {args.older_than} days.")
    return 0
