"""``promptready usage``: what calls cost, by day, model, app or mode; ``usage export``."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from promptready.commands.arguments import positive_int


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-01") from None


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``usage`` subcommand (a summary, or ``usage export``)."""
    parser = subparsers.add_parser(
        "usage",
        help="what your calls cost: totals by day, model, app or mode; or export every row",
        description="Summaries come from the local ledger. `promptready usage export` writes rows.",
    )
    parser.add_argument("--since", type=_date, metavar="DATE", help="from this day (YYYY-MM-DD)")
    parser.add_argument("--by", choices=("day", "model", "app", "mode"), default="day")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    export = actions.add_parser("export", help="write every row as CSV or JSON")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--since", type=_date, metavar="DATE", dest="export_since")
    export.set_defaults(func=run_export)
    prune = actions.add_parser("prune", help="delete rows older than N days (their totals go too)")
    prune.add_argument("--older-than", type=positive_int, required=True, metavar="DAYS")
    prune.set_defaults(func=run_prune)


def run_prune(args: argparse.Namespace) -> int:
    """Delete old rows on request (nothing is ever pruned automatically)."""
    ledger = _ledger()
    try:
        deleted = ledger.prune(args.older_than)
    finally:
        ledger.close()
    print(f"Deleted {deleted} row(s) older than {args.older_than} days.")
    return 0


def _ledger() -> Any:
    from promptready.ledger.store import Ledger
    from promptready.paths import app_paths

    return Ledger(app_paths().ledger_file)


def run(args: argparse.Namespace) -> int:
    """Print totals as an aligned table (or JSON)."""
    import json

    ledger = _ledger()
    try:
        totals = ledger.totals(args.by, args.since)
    finally:
        ledger.close()
    if args.json:
        rows = [{**t.__dict__, "cost_usd": str(t.cost_usd)} for t in totals]
        print(json.dumps(rows, indent=2))
        return 0
    if not totals:
        print("No calls recorded yet. Enhance something with `promptready enhance`.")
        return 0
    header = (args.by, "calls", "prompt tok", "output tok", "cost USD", "credits")
    lines = [
        (t.key, t.calls, t.prompt_tokens, t.completion_tokens, f"${t.cost_usd:.6f}", t.credits)
        for t in totals
    ]
    total_cost = sum((t.cost_usd for t in totals), start=type(totals[0].cost_usd)(0))
    calls = sum(t.calls for t in totals)
    prompt = sum(t.prompt_tokens for t in totals)
    output = sum(t.completion_tokens for t in totals)
    credits = sum(t.credits for t in totals)
    lines.append(("total", calls, prompt, output, f"${total_cost:.6f}", credits))
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    for row in [header, *lines]:
        print(
            "  ".join(
                str(v).ljust(w) if i == 0 else str(v).rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write every row as CSV or JSON to stdout or a file."""
    ledger = _ledger()
    try:
        text = ledger.export(args.format, args.export_since)
    finally:
        ledger.close()
    if args.output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        from promptready.errors import ConfigError

        raise ConfigError(f"Could not write {args.output} ({exc.strerror}).") from None
    print(f"Wrote {args.output}.", file=sys.stderr)
    return 0
