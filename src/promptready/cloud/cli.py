"""The ``promptready-cloud`` console script: ``serve``, ``migrate`` and ``admin ...``.

A bad configuration value or argument is one line on stderr and exit code 2; a refusal by the
store (unknown device, ...) is one line and exit code 1.

Each command imports what it needs when it runs: the arguments are read with argparse alone, the
configuration adds SQLAlchemy (it checks the database URL), the admin commands add the store,
and only ``serve`` loads the server and the HTTP client (``serve`` and ``admin reconcile``:
Stripe). The tests start many of these processes, and ``--help`` should answer at once.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import uuid
from collections.abc import Coroutine, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, NoReturn

from promptready.cloud.billing.admin_reconcile import COMMAND as RECONCILE
from promptready.cloud.billing.admin_reconcile import add_reconcile
from promptready.errors import ConfigError

if TYPE_CHECKING:
    from promptready.cloud import admin
    from promptready.cloud.config import CloudConfig
    from promptready.cloud.store import StoreError

PROG = "promptready-cloud"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def _device(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError("DEVICE_ID must be a UUID") from None


def _credits(text: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text) or int(text) == 0:
        raise argparse.ArgumentTypeError("N must be a whole number of credits, at least 1")
    return int(text)


def _usd(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError("USD must be an amount of zero or more, like 250.00")
    return value


def _port(text: str) -> int:
    if not re.fullmatch(r"\d{1,5}", text) or int(text) > 65535:
        raise argparse.ArgumentTypeError("--port must be 0 (any free port) to 65535")
    return int(text)


def _workers(text: str) -> int:
    if not re.fullmatch(r"\d{1,3}", text) or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError("--workers must be from 1 to 64")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = _Parser(prog=PROG, description="The PromptReady hosted credit proxy.")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="serve the API (migrates an empty database)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8080, help="0 picks a free port")
    serve.add_argument("--workers", type=_workers, default=1, help="processes sharing the port")
    commands.add_parser("migrate", help="bring the database schema up to date")
    tools = commands.add_parser("admin", help="operator commands").add_subparsers(
        dest="admin", required=True, parser_class=_Parser
    )
    grant = tools.add_parser("grant", help="add credits to a device")
    grant.add_argument("device_id", type=_device, metavar="DEVICE_ID")
    grant.add_argument("credits", type=_credits, metavar="N")
    grant.add_argument("--reason", default="admin grant")
    grant.add_argument("--idem-key", help="apply at most once for this key")
    for name, text in (("balance", "a device's wallet"), ("ledger", "a device's ledger")):
        command = tools.add_parser(name, help=text)
        command.add_argument("device_id", type=_device, metavar="DEVICE_ID")
    set_cap = tools.add_parser("set-cap", help="set the weekly spend cap")
    set_cap.add_argument("usd", type=_usd, metavar="USD")
    tools.add_parser("stats", help="totals across all devices")
    prune = tools.add_parser("prune", help="delete raw usage events older than --days")
    prune.add_argument("--days", type=_credits, default=30)
    for command in tools.choices.values():
        command.add_argument("--json", action="store_true", help="print JSON")
    add_reconcile(tools)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code."""
    args = parser().parse_args(argv)
    from promptready.cloud.config import load

    try:
        config = load(os.environ)
        if args.command == "serve":
            return _serve(config, args)
        if args.command == "migrate":
            from promptready.cloud.db import migrate

            migrate(config.database_url)
            print("database is up to date")
            return 0
        if args.admin == RECONCILE:
            from promptready.cloud.billing.admin_reconcile import reconcile_command

            return reconcile_command(config, args.since)
        answer = _run(_admin(config, args))
    except ConfigError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except _store_error() as error:  # evaluated only when something was raised
        print(f"{PROG}: {error}", file=sys.stderr)
        return 1
    print(answer.render(args.json))
    return 0


def _store_error() -> type[StoreError]:
    # Importing the store costs SQLAlchemy's ORM and the drivers: only when something failed.
    from promptready.cloud.store import StoreError

    return StoreError


def _admin(config: CloudConfig, args: argparse.Namespace) -> Coroutine[Any, Any, admin.Answer]:
    from promptready.cloud import admin

    match args.admin:
        case "grant":
            return admin.grant(config, args.device_id, args.credits, args.reason, args.idem_key)
        case "balance":
            return admin.balance(config, args.device_id)
        case "ledger":
            return admin.ledger(config, args.device_id)
        case "set-cap":
            return admin.set_cap(config, args.usd)
        case "stats":
            return admin.stats(config)
        case _:
            return admin.prune(config, args.days)


def _run(work: Coroutine[Any, Any, admin.Answer]) -> admin.Answer:
    import asyncio

    return asyncio.run(work)


def _serve(config: CloudConfig, args: argparse.Namespace) -> int:
    import asyncio

    config.require_serving()
    # Each import follows the check before it: a refused setting exits before they load.
    from promptready.cloud.billing.settings import load_billing

    load_billing(os.environ)  # a bad Stripe setting stops serve here, with exit code 2
    from promptready.cloud import logs, server

    logs.configure()
    asyncio.run(_prepare(config))  # once, before any worker: workers must not race a migration
    server.serve(args.host, args.port, args.workers)
    return 0


async def _prepare(config: CloudConfig) -> None:
    from promptready.cloud.store import Store

    store = await Store.open(config.database_url, config.store_settings())
    try:
        await store.ensure_schema()
    finally:
        await store.close()
