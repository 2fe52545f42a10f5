"""``promptready tokens create|list|revoke``: per-app tokens for the local API."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from promptready.commands.arguments import positive_int, usd


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``tokens`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "tokens",
        help="create, list and revoke app tokens for the local API",
        description="Each local tool gets its own token, budget and limits.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create", help="create an app token (printed once, on the last line)"
    )
    create.add_argument("name", metavar="NAME")
    create.add_argument("--budget-usd-day", type=usd, metavar="X", help="daily spend limit")
    create.add_argument("--budget-usd-month", type=usd, metavar="Y", help="monthly spend limit")
    create.add_argument("--rpm", type=positive_int, metavar="N", help="requests per minute")
    create.add_argument("--models", nargs="+", metavar="MODEL", help="only these models")
    create.add_argument(
        "--cache-ttl", type=positive_int, metavar="SECONDS", help="cache identical requests"
    )
    create.set_defaults(func=run_create)
    listing = actions.add_parser("list", help="list apps and their limits")
    listing.set_defaults(func=run_list)
    revoke = actions.add_parser("revoke", help="revoke an app's token at once")
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(func=run_revoke)


def _registry() -> Any:
    from promptready.gateway.apps import AppRegistry
    from promptready.paths import app_paths

    return AppRegistry(app_paths().config_dir / "apps.toml")


def run_create(args: argparse.Namespace) -> int:
    """Register an app and print its token once."""
    from promptready.gateway.apps import AppLimits

    limits = AppLimits(
        budget_usd_day=args.budget_usd_day,
        budget_usd_month=args.budget_usd_month,
        rpm=args.rpm,
        models=tuple(args.models or ()),
        cache_ttl_s=args.cache_ttl or 0,
    )
    app, token = _registry().create(args.name, limits)
    print(f"Created app {app.name}. Its token is shown once; store it now:", file=sys.stderr)
    print(token)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print each app with its limits."""
    apps = _registry().apps()
    if not apps:
        print("No apps yet. Create one with `promptready tokens create NAME`.")
        return 0
    for app in apps:
        limits = app.limits
        parts = [
            f"day ${limits.budget_usd_day}" if limits.budget_usd_day is not None else "",
            f"month ${limits.budget_usd_month}" if limits.budget_usd_month is not None else "",
            f"{limits.rpm} rpm" if limits.rpm else "",
            f"models {', '.join(limits.models)}" if limits.models else "",
            f"cache {limits.cache_ttl_s}s" if limits.cache_ttl_s else "",
        ]
        described = "; ".join(p for p in parts if p) or "no limits"
        print(f"{app.name}  created {app.created:%Y-%m-%d}  {described}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Remove an app; its token stops working within a second."""
    if _registry().revoke(args.name):
        print(f"Revoked {args.name}.")
        return 0
    print(f"There is no app named {args.name}.")
    return 1
