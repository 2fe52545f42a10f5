"""When the low-balance notice is due, from the wallet and the rate card. Pure (no Qt).

The design's notice at 100 credits (``RateCard.low_balance``) is about credits the user paid
for: a purchase, Pro, or the BYOK grant, which all sit in paid buckets. A new device's free
allowance (25 a month) is under 100 from its first minute, so that rule would greet every new
user with "top up" before their first enhancement, for credits that were free and come back
next month. A wallet that holds only free credits is warned instead when the last fifth of the
month's allowance is left (5 of 25): a few enhancements' notice before the zero dialog, which is
the moment a free user decides. At zero the dialog speaks, not the notice.
"""

from __future__ import annotations

from promptready.pricing import RateCard
from promptready.providers.credits_account import Wallet

FREE_BUCKET = "free"
FREE_PLAN = "free"
FREE_WARNING_SHARE = 5  # warn when 1/5 of the free allowance is left


def spends_paid_credits(wallet: Wallet) -> bool:
    """Whether the wallet holds credits beyond the free allowance, or is on a paid plan."""
    paid = any(n > 0 for bucket, n in wallet.buckets.items() if bucket != FREE_BUCKET)
    return paid or wallet.plan != FREE_PLAN


def free_warning_at(card: RateCard) -> int:
    """The free-only balance that earns the notice: a fifth of the free plan's month, at least 1."""
    free = card.plans.get(FREE_PLAN)
    allowance = free.credits_month if free is not None else card.balance.low_warning_at
    return max(1, allowance // FREE_WARNING_SHARE)


def low_balance_due(wallet: Wallet, card: RateCard) -> bool:
    """Whether this wallet's balance calls for the low-balance notice (at most once a session,
    which the caller keeps)."""
    balance = wallet.credits_remaining
    if balance <= 0:
        return False
    if spends_paid_credits(wallet):
        return card.low_balance(balance)
    return balance <= free_warning_at(card)
