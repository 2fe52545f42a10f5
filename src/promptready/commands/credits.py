"""``promptready credits status|claim-migration|buy|subscribe|portal|auto-reload``: this device's
PromptReady credits at the hosted credit service (``credits.url``, or ``PROMPTREADY_CLOUD_URL``).

The first command registers the device silently, as AI mode does. Payment pages open in the
browser; ``buy`` and ``subscribe`` then wait for the payment to be confirmed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from promptready.providers.credits_account import Account, AutoReload, CheckoutLink, Wallet

T = TypeVar("T")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``credits`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "credits",
        help="PromptReady credits: balance, top-ups and plan (AI mode without your own key)",
        description="Your PromptReady credits at the hosted credit service.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    status = actions.add_parser("status", help="balance, buckets, cohort and plan")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=run_status)

    claim = actions.add_parser(
        "claim-migration", help="claim the one-off credits for users who had their own key"
    )
    claim.set_defaults(func=run_claim)

    buy = actions.add_parser(
        "buy", help="buy a credit pack: pay in the browser, then wait for the credits"
    )
    buy.add_argument("pack", metavar="PACK", help="the pack's name, e.g. Starter")
    _wait_argument(buy)
    buy.set_defaults(func=run_buy)

    subscribe = actions.add_parser("subscribe", help="subscribe to Pro in the browser")
    _wait_argument(subscribe)
    subscribe.set_defaults(func=run_subscribe)

    portal = actions.add_parser("portal", help="open the billing portal (history, card, plan)")
    portal.set_defaults(func=run_portal)

    reload = actions.add_parser(
        "auto-reload", help="buy credits automatically when the balance runs low"
    )
    reload.add_argument("state", choices=("on", "off"))
    reload.set_defaults(func=run_auto_reload)


def _seconds(raw: str) -> float:
    """A --timeout value: seconds, more than 0 and at most a day."""
    import math

    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seconds from 1 to 86400")
    return value


def _wait_argument(parser: argparse.ArgumentParser) -> None:
    from promptready.providers.credits_account import PAYMENT_WAIT_S

    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=PAYMENT_WAIT_S,
        metavar="S",
        help=f"seconds to wait for the payment (default {PAYMENT_WAIT_S:g})",
    )


def _with_account(action: Callable[[Account], Awaitable[T]]) -> T:
    """Run ``action`` on this device's account, closing the HTTP session after."""
    import asyncio

    from promptready.engine import open_registry
    from promptready.providers.credits import device_auth
    from promptready.providers.credits_account import Account

    registry, problems = open_registry()
    for problem in problems:
        print(f"promptready: warning: {problem}", file=sys.stderr)

    async def run() -> T:
        try:
            return await action(Account(device_auth(registry)))
        finally:
            await registry.close()

    return asyncio.run(run())


def run_status(args: argparse.Namespace) -> int:
    """Print the wallet."""

    async def action(account: Account) -> Wallet:
        return await account.wallet()

    from promptready.providers.credits_account import wallet_lines

    wallet = _with_account(action)
    if args.json:
        json.dump(dataclasses.asdict(wallet), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(wallet_lines(wallet)))
    return 0


def run_claim(args: argparse.Namespace) -> int:
    """Claim the BYOK migration grant (once per device)."""

    async def action(account: Account) -> tuple[int, Wallet]:
        return await account.claim_migration()

    granted, wallet = _with_account(action)
    print(f"Granted {granted} credits; you now have {wallet.credits_remaining}.")
    return 0


def _open_page(url: str, what: str) -> None:
    import webbrowser

    if webbrowser.open(url):
        print(f"Opened {what} in your browser; if it did not appear, open: {url}")
    else:
        print(f"Open {what} in your browser: {url}")


def _pay(
    start: Callable[[Account], Awaitable[CheckoutLink]], timeout_s: float, plan: str | None = None
) -> int:
    """Open a Checkout page, then wait (with a progress line) until the payment is credited."""
    live = sys.stderr.isatty()

    def waiting(seconds: float) -> None:
        if live:
            sys.stderr.write(f"\rWaiting for the payment to be confirmed… {seconds:.0f} s")
            sys.stderr.flush()

    async def action(account: Account) -> tuple[bool, bool, int]:
        link = await start(account)
        _open_page(link.url, "the payment page")
        if not live:
            wait = f"Waiting up to {timeout_s:g} s for the payment to be confirmed…"
            print(wait, file=sys.stderr)
        payment = await account.wait_for_payment(
            link.session_id, timeout_s=timeout_s, plan=plan, on_wait=waiting
        )
        return payment.fulfilled, payment.paid, payment.credits_remaining

    fulfilled, paid, remaining = _with_account(action)
    if live:
        sys.stderr.write("\n")
    if fulfilled:
        print(f"Payment received; you now have {remaining} credits.")
        return 0
    if paid:
        print(
            "promptready: the payment went through but is not credited yet; it will be shortly "
            "(check with `promptready credits status`).",
            file=sys.stderr,
        )
    else:
        print(
            f"promptready: no payment was confirmed within {timeout_s:g} s; if you paid, the "
            "credits arrive once the payment service confirms it (check with `promptready "
            "credits status`), otherwise start again.",
            file=sys.stderr,
        )
    return 1


def run_buy(args: argparse.Namespace) -> int:
    """Buy a credit pack through Stripe Checkout."""
    pack = str(args.pack)

    async def start(account: Account) -> CheckoutLink:
        return await account.checkout(pack)

    return _pay(start, args.timeout)


def run_subscribe(args: argparse.Namespace) -> int:
    """Subscribe to Pro through Stripe Checkout."""

    async def start(account: Account) -> CheckoutLink:
        return await account.subscribe()

    return _pay(start, args.timeout, plan="pro")


def run_portal(args: argparse.Namespace) -> int:
    """Open the billing portal."""

    async def action(account: Account) -> str:
        return await account.portal()

    _open_page(_with_account(action), "the billing portal")
    return 0


def run_auto_reload(args: argparse.Namespace) -> int:
    """Turn auto-reload on or off."""
    enabled = args.state == "on"

    async def action(account: Account) -> AutoReload:
        return await account.set_auto_reload(enabled)

    state = _with_account(action)
    if state.enabled:
        print(f"Auto-reload is on: below {state.below} credits, the {state.pack} pack is bought.")
    else:
        why = f" ({state.off_reason})" if state.off_reason else ""
        print(f"Auto-reload is off{why}.")
    return 0
