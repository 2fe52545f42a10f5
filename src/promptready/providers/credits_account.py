"""The credit service's account calls: the wallet, the one-off BYOK migration grant, and billing
(Checkout for a pack or Pro, the customer portal, auto-reload, waiting for a payment).

Every answer is checked into a dataclass here, once; an answer of the wrong shape is one clear
``CreditsError``, never a KeyError later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit

from promptready.providers.credits import Answer, CreditsError
from promptready.providers.credits_auth import DeviceAuth

PAYMENT_WAIT_S = 300.0  # how long the desktop and the CLI wait for a payment by default
_BAD_ANSWER = "The credit service sent an answer this version of PromptReady cannot read"


@dataclass(frozen=True)
class Wallet:
    """What the device can spend: credits by bucket, what calls in flight hold, its plan."""

    credits_remaining: int
    buckets: Mapping[str, int]
    reserved: int
    cohort: str
    plan: str
    used_month: int | None = None  # credits spent this month (None: the service did not say)


@dataclass(frozen=True)
class CheckoutLink:
    """A Stripe Checkout page to open in the browser, and the session to wait for."""

    url: str
    session_id: str


@dataclass(frozen=True)
class Payment:
    """A Checkout session as the service sees it."""

    session_id: str
    paid: bool
    fulfilled: bool
    credits_remaining: int


@dataclass(frozen=True)
class AutoReload:
    """The auto-reload switch: on or off (and why off), and what it buys below which balance."""

    enabled: bool
    off_reason: str | None
    has_payment_method: bool
    below: int
    pack: str


def _bad(what: str) -> CreditsError:
    return CreditsError(f"{_BAD_ANSWER} ({what}); update PromptReady or try again later.")


def _int(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{name} is not a whole number")
    return value


def _str(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.isprintable():  # shown in a terminal
        raise _bad(f"{name} is not text")
    return value


def _bool(payload: Mapping[str, Any], name: str) -> bool:
    value = payload.get(name)
    if not isinstance(value, bool):
        raise _bad(f"{name} is not true or false")
    return value


def _web_page(payload: Mapping[str, Any]) -> str:
    """A page to open in the browser: only http(s), so an answer cannot launch anything else."""
    url = _str(payload, "url")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _bad("the payment page is not a web address")
    return url


def wallet_of(payload: Mapping[str, Any]) -> Wallet:
    """The wallet fields of a credits answer."""
    buckets = payload.get("buckets")
    if not isinstance(buckets, dict) or not all(
        isinstance(k, str) and k.isprintable() and isinstance(v, int) and not isinstance(v, bool)
        for k, v in buckets.items()
    ):
        raise _bad("buckets is not a table of whole numbers")
    return Wallet(
        credits_remaining=_int(payload, "credits_remaining"),
        buckets=dict(buckets),
        reserved=_int(payload, "reserved"),
        cohort=_str(payload, "cohort"),
        plan=_str(payload, "plan"),
        # Older services do not send it; the tab then leaves the line out.
        used_month=None
        if payload.get("used_this_month") is None
        else _int(payload, "used_this_month"),
    )


def auto_reload_of(payload: Mapping[str, Any]) -> AutoReload:
    """Auto-reload's state from the service's answer (GET and POST answer alike)."""
    return AutoReload(
        enabled=_bool(payload, "enabled"),
        off_reason=None if payload.get("off_reason") is None else _str(payload, "off_reason"),
        has_payment_method=_bool(payload, "has_payment_method"),
        below=_int(payload, "below"),
        pack=_str(payload, "pack"),
    )


_BUCKET_LABELS = {
    "free": "Free this month",
    "purchased": "Purchased",
    "subscription": "Subscription rollover",
}


def wallet_facts(wallet: Wallet) -> list[tuple[str, str]]:
    """The wallet for a person, as (label, value) pairs: the balance, each bucket, this month's
    use (when the service says), the plan and the cohort (for support)."""
    balance = f"{wallet.credits_remaining} credits"
    if wallet.reserved:
        balance += f" ({wallet.reserved} held by calls in progress)"
    facts = [("Balance", balance)]
    facts += [
        (_BUCKET_LABELS.get(name, name.replace("_", " ").capitalize()), str(n))
        for name, n in sorted(wallet.buckets.items())
    ]
    if wallet.used_month is not None:
        facts.append(("Used this month", str(wallet.used_month)))
    facts += [("Plan", wallet.plan.capitalize()), ("Cohort", wallet.cohort)]
    return facts


def wallet_lines(wallet: Wallet) -> list[str]:
    """``wallet_facts`` as lines of text (the balance first, the buckets indented under it)."""
    facts = wallet_facts(wallet)
    buckets = len(wallet.buckets)
    return [
        f"{'  ' if 0 < i <= buckets else ''}{label}: {value}"
        for i, (label, value) in enumerate(facts)
    ]


def _answered(answer: Answer, *accepted: int) -> dict[str, Any]:
    if answer.status not in accepted:
        raise answer.refusal()
    return answer.json()


Sleep = Callable[[float], Awaitable[None]]


class Account:
    """This device's account at the credit service (signed in through ``DeviceAuth``)."""

    def __init__(self, auth: DeviceAuth) -> None:
        self.auth = auth

    async def wallet(self) -> Wallet:
        """The balance, buckets, cohort and plan (an empty wallet is an answer, not an error)."""
        return wallet_of(_answered(await self.auth.call("GET", "/api/v1/credits"), 200, 402))

    async def claim_migration(self) -> tuple[int, Wallet]:
        """The one-off grant for a user who had their own key: credits granted, and the wallet."""
        answer = await self.auth.call("POST", "/api/v1/credits/byok-migration", {})
        payload = _answered(answer, 200)
        return _int(payload, "credits_granted"), wallet_of(payload)

    async def checkout(self, pack: str) -> CheckoutLink:
        """A Checkout page for one credit pack."""
        answer = await self.auth.call("POST", "/api/v1/billing/checkout", {"pack": pack})
        payload = _answered(answer, 200)
        return CheckoutLink(_web_page(payload), _str(payload, "session_id"))

    async def subscribe(self) -> CheckoutLink:
        """A Checkout page for the Pro plan."""
        payload = _answered(await self.auth.call("POST", "/api/v1/billing/subscribe", {}), 200)
        return CheckoutLink(_web_page(payload), _str(payload, "session_id"))

    async def portal(self) -> str:
        """The billing portal's page (history, card, cancelling Pro)."""
        payload = _answered(await self.auth.call("POST", "/api/v1/billing/portal", {}), 200)
        return _web_page(payload)

    async def payment(self, session_id: str) -> Payment:
        """A Checkout session's state; asking also applies a payment the webhook has not yet."""
        path = f"/api/v1/billing/session/{quote(session_id, safe='')}"
        payload = _answered(await self.auth.call("GET", path), 200)
        return Payment(
            session_id=_str(payload, "session_id"),
            paid=_bool(payload, "paid"),
            fulfilled=_bool(payload, "fulfilled"),
            credits_remaining=_int(payload, "credits_remaining"),
        )

    async def auto_reload(self) -> AutoReload:
        """Auto-reload's state now (and why the server turned it off, if it did)."""
        answer = await self.auth.call("GET", "/api/v1/billing/auto-reload")
        return auto_reload_of(_answered(answer, 200))

    async def set_auto_reload(self, enabled: bool) -> AutoReload:
        """Turn auto-reload on or off; its state after."""
        answer = await self.auth.call("POST", "/api/v1/billing/auto-reload", {"enabled": enabled})
        return auto_reload_of(_answered(answer, 200))

    async def wait_for_payment(
        self,
        session_id: str,
        *,
        timeout_s: float,
        plan: str | None = None,
        every_s: float = 1.0,
        on_wait: Callable[[float], None] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Payment:
        """Ask until the payment is applied or ``timeout_s`` passed; the last answer either way.
        A subscription (``plan``) is applied once the wallet is on that plan (its invoice's
        webhook does it, not the session). ``on_wait`` hears the seconds waited before each
        pause."""
        started = clock()
        while True:
            payment = await self.payment(session_id)
            if plan is not None and payment.paid and not payment.fulfilled:
                wallet = await self.wallet()
                if wallet.plan == plan:
                    payment = replace(
                        payment, fulfilled=True, credits_remaining=wallet.credits_remaining
                    )
            waited = clock() - started
            if payment.fulfilled or waited >= timeout_s:
                return payment
            if on_wait is not None:
                on_wait(waited)
            await sleep(min(every_s, max(0.0, timeout_s - waited)))
