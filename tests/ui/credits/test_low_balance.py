"""The low-balance notice: at 100 for credits the user paid for (a pack, Pro, the BYOK grant);
a device on its free allowance only is not told to top up for being under 100, only when the
last fifth of the month's free credits is left (5 of 25). Rules first, then a real credit proxy
on loopback."""

from __future__ import annotations

import pytest

from promptready.pricing import load_rate_card
from promptready.providers.credits_account import Wallet
from promptready.ui.context import DesktopContext
from promptready.ui.credits.low_balance import free_warning_at, low_balance_due
from promptready.ui.credits.watch import CreditsWatch
from tests.e2e.conftest import RunningCloud
from tests.ui.conftest import Loop
from tests.ui.credits.conftest import fetch, use_free

CARD = load_rate_card()


def wallet(free: int = 0, purchased: int = 0, subscription: int = 0, plan: str = "free") -> Wallet:
    buckets = {"free": free, "purchased": purchased, "subscription": subscription}
    return Wallet(sum(buckets.values()), buckets, 0, "A", plan)


def test_the_free_allowance_is_warned_at_a_fifth_of_its_month() -> None:
    assert free_warning_at(CARD) == 5  # 25 free credits a month


@pytest.mark.parametrize(("free", "due"), [(25, False), (6, False), (5, True), (1, True)])
def test_a_wallet_of_free_credits_only_is_warned_when_five_are_left(free: int, due: bool) -> None:
    assert low_balance_due(wallet(free=free), CARD) is due


@pytest.mark.parametrize(("purchased", "due"), [(101, False), (100, True), (20, True)])
def test_purchased_credits_are_warned_at_one_hundred(purchased: int, due: bool) -> None:
    assert low_balance_due(wallet(purchased=purchased), CARD) is due


def test_free_and_purchased_credits_count_together_against_one_hundred() -> None:
    assert not low_balance_due(wallet(free=10, purchased=95), CARD)
    assert low_balance_due(wallet(free=5, purchased=95), CARD)


def test_a_pro_wallet_is_warned_at_one_hundred_whatever_its_buckets() -> None:
    assert low_balance_due(wallet(free=25, plan="pro"), CARD)


def test_an_empty_wallet_gets_the_zero_dialog_not_the_notice() -> None:
    assert not low_balance_due(wallet(), CARD)


def listening(context: DesktopContext) -> tuple[CreditsWatch, list[int]]:
    """A new session's watch, and the balances its low-balance notices name."""
    watch = CreditsWatch(context)
    heard: list[int] = []
    watch.low_balance.connect(heard.append)
    return watch, heard


def test_a_new_device_on_its_free_credits_is_not_told_to_top_up(
    qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    watch, heard = listening(credits_context)
    fetch(qloop, watch)  # registers the device: 25 free credits
    assert watch.wallet is not None and watch.wallet.credits_remaining == 25
    assert heard == []


def test_the_last_five_free_credits_are_noticed_once(
    qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    watch, heard = listening(credits_context)
    fetch(qloop, watch)
    use_free(qloop, cloud, 20)
    fetch(qloop, watch)
    use_free(qloop, cloud, 1)
    fetch(qloop, watch)
    assert heard == [5]
