"""Wallet rules: buckets, the spending order, the monthly free top-up, expiry, bounded overdraft.

Pure functions over a ``WalletState`` (what the row holds) plus the hot-path statements. A debit
spends the bucket that expires first: free credits expire when the month ends, subscription
credits at their ``subscription_expires_at``, purchased credits never; what no bucket covers (a
bounded overdraft, or a revoke after the credits were spent) is a debt in the purchased bucket,
which is the only bucket that may go negative. ``balance`` is always the sum of the buckets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Row, bindparam, not_, or_, select, update
from sqlalchemy.sql import Update

from promptready.cloud import ratelimit
from promptready.cloud.schema import devices, wallets


class Bucket(StrEnum):
    """Where credits sit; a debit spends the bucket that expires first."""

    FREE = "free"
    PURCHASED = "purchased"
    SUBSCRIPTION = "subscription"


class LedgerKind(StrEnum):
    """Why a ledger row moved the balance."""

    GRANT = "grant"
    PURCHASE = "purchase"
    DEBIT = "debit"
    HOLD = "hold"
    RELEASE = "release"
    REFUND = "refund"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True)
class Movement:
    """One ledger row to write: ``delta`` credits into (or out of) ``bucket``."""

    kind: LedgerKind
    bucket: Bucket
    delta: int
    reason: str


@dataclass(frozen=True)
class WalletState:
    """The money columns of a wallet row."""

    free: int
    purchased: int
    subscription: int
    subscription_expires_at: int | None
    free_month: str

    @property
    def balance(self) -> int:
        return self.free + self.purchased + self.subscription

    def buckets(self) -> dict[Bucket, int]:
        """The credits in each bucket."""
        return {
            Bucket.FREE: self.free,
            Bucket.PURCHASED: self.purchased,
            Bucket.SUBSCRIPTION: self.subscription,
        }

    def with_buckets(self, amounts: Mapping[Bucket, int]) -> WalletState:
        """This state with the buckets replaced."""
        return replace(
            self,
            free=amounts[Bucket.FREE],
            purchased=amounts[Bucket.PURCHASED],
            subscription=amounts[Bucket.SUBSCRIPTION],
        )

    @classmethod
    def from_row(cls, row: Row[tuple[object, ...]] | Mapping[str, object]) -> WalletState:
        """Read the wallet columns of a result row."""
        values = row._mapping if isinstance(row, Row) else row
        expires = values["subscription_expires_at"]
        return cls(
            free=int(str(values["free"])),
            purchased=int(str(values["purchased"])),
            subscription=int(str(values["subscription"])),
            subscription_expires_at=None if expires is None else int(str(expires)),
            free_month=str(values["free_month"]),
        )


def month_key(at: datetime) -> str:
    """The calendar month of ``at`` in UTC, e.g. ``2026-12``."""
    utc = at.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


def month_start(at: datetime) -> int:
    """Unix seconds of the first instant of ``at``'s UTC month."""
    utc = at.astimezone(UTC)
    return int(datetime(utc.year, utc.month, 1, tzinfo=UTC).timestamp())


def month_end(at: datetime) -> int:
    """Unix seconds of the first instant of the next UTC month (when free credits lapse)."""
    utc = at.astimezone(UTC)
    year, month = (utc.year + 1, 1) if utc.month == 12 else (utc.year, utc.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def spend_order(state: WalletState, now: datetime) -> tuple[Bucket, ...]:
    """Buckets by expiry, soonest first; purchased (never expires) always last."""
    free_ends = month_end(now)
    sub_ends = state.subscription_expires_at
    if sub_ends is not None and sub_ends < free_ends:
        return (Bucket.SUBSCRIPTION, Bucket.FREE, Bucket.PURCHASED)
    return (Bucket.FREE, Bucket.SUBSCRIPTION, Bucket.PURCHASED)


def split_debit(state: WalletState, credits: int, now: datetime) -> dict[Bucket, int]:
    """How many credits each bucket gives for a debit of ``credits`` (positive numbers); what
    the buckets cannot cover comes out of purchased as a debt."""
    if credits < 0:
        raise ValueError("a debit cannot be negative")
    taken = dict.fromkeys(Bucket, 0)
    left = credits
    held = state.buckets()
    for bucket in spend_order(state, now):
        part = min(left, max(held[bucket], 0))
        taken[bucket] += part
        left -= part
    taken[Bucket.PURCHASED] += left
    return taken


def debit(
    state: WalletState, credits: int, now: datetime, reason: str
) -> tuple[WalletState, list[Movement]]:
    """The wallet after spending ``credits`` and the ledger rows that say so."""
    taken = split_debit(state, credits, now)
    after = {b: amount - taken[b] for b, amount in state.buckets().items()}
    moves = [Movement(LedgerKind.DEBIT, b, -n, reason) for b, n in taken.items() if n]
    return state.with_buckets(after), moves


def chargeable(actual: int, held: int, balance: int, overdraft: int) -> int:
    """Credits a settle may charge: the hold in full, beyond it only while the balance stays
    above ``-overdraft`` (the rest is written off, and recorded)."""
    if actual <= held:
        return actual
    return max(held, min(actual, balance + overdraft))


OVERRUN = ", the rest is over the overdraft"


def debit_reason(base: str, charged: int, actual: int) -> str:
    """The ledger reason of a debit; an overrun past the overdraft says what was written off."""
    return base if charged >= actual else f"{base}: charged {charged} of {actual}{OVERRUN}"


def refresh(
    state: WalletState, now: datetime, *, plan: str, free_month_credits: int
) -> tuple[WalletState, list[Movement]]:
    """Lazy monthly upkeep: expire lapsed subscription credits, and in a new month top the free
    bucket up to the allowance (topped up, not added; only the free plan gets it)."""
    moves: list[Movement] = []
    ends = state.subscription_expires_at
    if ends is not None and ends <= now.timestamp() and state.subscription > 0:
        moves.append(
            Movement(
                LedgerKind.EXPIRY,
                Bucket.SUBSCRIPTION,
                -state.subscription,
                "subscription credits expired",
            )
        )
        state = replace(state, subscription=0)
    month = month_key(now)
    if state.free_month != month:
        if plan == "free" and state.free < free_month_credits:
            top_up = free_month_credits - state.free
            moves.append(
                Movement(LedgerKind.GRANT, Bucket.FREE, top_up, f"free credits for {month}")
            )
            state = replace(state, free=free_month_credits)
        state = replace(state, free_month=month)
    return state, moves


def current(state: WalletState, now: datetime) -> bool:
    """Whether ``refresh`` has nothing to do (the hot path checks the same in SQL)."""
    ends = state.subscription_expires_at
    lapsed = ends is not None and ends <= now.timestamp() and state.subscription > 0
    return state.free_month == month_key(now) and not lapsed


def hold_statement(rate_limited: bool) -> Update:
    """Reserve ``p_credits`` on a current, unfrozen wallet with room, and (when
    ``rate_limited``) take the device's rate-limit slot; returns the device's cohort."""
    credits = bindparam("p_credits", type_=BigInteger())
    statement = (
        update(wallets)
        .where(
            wallets.c.device_id == bindparam("p_device"),
            wallets.c.balance - wallets.c.reserved >= credits,
            not_(wallets.c.frozen),
            wallets.c.free_month == bindparam("p_month"),
            or_(
                wallets.c.subscription_expires_at.is_(None),
                wallets.c.subscription_expires_at > bindparam("p_now_s", type_=BigInteger()),
                wallets.c.subscription == 0,
            ),
        )
        .values(reserved=wallets.c.reserved + credits)
        .returning(
            # Bound, not correlated: SQLite's RETURNING drops table qualifiers.
            select(devices.c.cohort)
            .where(devices.c.id == bindparam("p_device"))
            .scalar_subquery()
            .label("cohort")
        )
    )
    if rate_limited:
        statement = statement.where(ratelimit.allows(wallets.c.tat_us)).values(
            tat_us=ratelimit.advanced(wallets.c.tat_us)
        )
    return statement


# Give back a hold's credits (settle and release both start here).
UNRESERVE = (
    update(wallets)
    .where(wallets.c.device_id == bindparam("p_device"))
    .values(reserved=wallets.c.reserved - bindparam("p_credits", type_=BigInteger()))
)
