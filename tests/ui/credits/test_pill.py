"""The balance pill in the popup, the low-balance notice and the tray tooltip, against a real
credit proxy on loopback."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from promptready.estimate import Estimate
from promptready.pricing import load_rate_card
from promptready.providers.credits import CREDITS
from promptready.ui.context import AiTarget, DesktopContext
from promptready.ui.credits.pill import pill_text
from promptready.ui.credits.watch import CreditsWatch, tooltip_for
from promptready.ui.popup import describe_estimate
from tests.e2e.conftest import RunningCloud
from tests.ui.conftest import Loop
from tests.ui.credits.conftest import fetch, grant, leave_balance, popup_with_balance

LEVELS = [(251, "green"), (250, "orange"), (249, "orange"), (100, "orange"), (99, "red")]


@pytest.mark.parametrize(("balance", "level"), LEVELS)
def test_the_balance_level_follows_the_rate_cards_thresholds(balance: int, level: str) -> None:
    assert load_rate_card().balance_level(balance) == level


def test_the_pill_says_the_cost_and_the_balance_after() -> None:
    assert pill_text(240, 12) == "12 credits · 240 left → 228 after"
    assert pill_text(1, 1) == "1 credit · 1 left → 0 after"
    assert pill_text(3, 12) == "12 credits · 3 left → 0 after"


def test_the_cost_line_beside_the_pill_names_credits_not_a_price() -> None:
    estimate = Estimate(21, 400, 100, None, True)  # credits/default has no dollar price
    line = describe_estimate(estimate, AiTarget(CREDITS, "default"))
    assert line == "21 tokens · paid in PromptReady credits"


@pytest.mark.parametrize(("balance", "level"), LEVELS)
def test_the_popup_pill_shows_the_service_balance_in_its_colour(
    qtbot: QtBot,
    qloop: Loop,
    cloud: RunningCloud,
    credits_context: DesktopContext,
    balance: int,
    level: str,
) -> None:
    popup = popup_with_balance(qtbot, qloop, cloud, credits_context, balance)
    assert popup.pill.isVisible()
    assert popup.pill.level == level
    assert f"{balance} left" in popup.pill.text()


def test_the_low_balance_notice_comes_once_per_session(
    qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    leave_balance(qloop, cloud, CreditsWatch(credits_context), 300)
    watch = CreditsWatch(credits_context)  # a new session
    heard: list[int] = []
    watch.low_balance.connect(heard.append)
    fetch(qloop, watch)
    assert heard == []
    grant(qloop, cloud, 90)
    fetch(qloop, watch)
    fetch(qloop, watch)
    grant(qloop, cloud, 80)
    fetch(qloop, watch)
    assert heard == [90]


def test_the_tray_tooltip_names_the_balance(
    qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    watch = CreditsWatch(credits_context)
    leave_balance(qloop, cloud, watch, 300)
    fetch(qloop, watch)
    assert tooltip_for(watch.wallet) == "PromptReady · 300 credits"
    assert tooltip_for(None) == "PromptReady"


def test_credits_do_not_apply_to_a_user_with_their_own_key(ai_context: DesktopContext) -> None:
    assert CreditsWatch(ai_context).refresh() is None
