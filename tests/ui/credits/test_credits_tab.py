"""Settings → Credits and the zero-balance dialog against a real credit proxy with billing on,
its Stripe being the stand-in: the fake browser pays on the Checkout page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from promptready.providers.credits_account import AutoReload
from promptready.ui.context import DesktopContext
from promptready.ui.credits.purchase import Purchase
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.credits.zero_dialog import ZeroBalanceDialog
from promptready.ui.settings.credits_tab import CreditsTab, auto_reload_text
from tests.cloud.billing.stripe_standin import StripeStandin
from tests.e2e.conftest import RunningCloud, this_device
from tests.ui.conftest import Loop, until
from tests.ui.credits.conftest import Browser, fetch, finished, leave_balance


@pytest.fixture
def tab(
    qtbot: QtBot, qloop: Loop, credits_context: DesktopContext, browser: Browser
) -> Iterator[CreditsTab]:
    watch = CreditsWatch(credits_context)
    page = CreditsTab(credits_context, watch, browser.open)
    page.purchase.timeout_s = 20
    qtbot.addWidget(page)
    page.load(credits_context.settings)
    assert watch._fetching is not None and page.auto_reload_read is not None
    qloop.run(finished(watch._fetching))
    qloop.run(finished(page.auto_reload_read))
    yield page


def buy_and_wait(qloop: Loop, purchase: Purchase, pack: str = "Starter") -> None:
    """Buy ``pack`` (the fake browser pays on the Checkout page) and wait until it is settled."""
    task = purchase.buy(pack)
    assert task is not None, "a purchase was already under way"
    qloop.run(finished(task))


def test_the_tab_shows_the_free_allowance_by_bucket_and_the_plan(tab: CreditsTab) -> None:
    shown = tab.shown_wallet()
    assert shown["Balance"] == "25 credits" and shown["Free this month"] == "25"
    assert shown["Plan"] == "Free"


def test_the_tab_shows_this_months_use(qloop: Loop, tab: CreditsTab) -> None:
    assert tab.shown_wallet()["Used this month"] == "0"
    rough = "write a python script that renames my photos by the date they were taken"
    result = qloop.run(tab.context.engine.enhance_async(rough, mode="ai"))
    assert result.mode.value == "ai", result.fallback_reason
    fetch(qloop, tab.watch)
    assert tab.shown_wallet()["Used this month"] == "1"


def test_a_purchase_opens_checkout_and_the_tab_shows_the_new_balance(
    qloop: Loop, tab: CreditsTab, browser: Browser
) -> None:
    buy_and_wait(qloop, tab.purchase)
    assert any("/pay/" in page for page in browser.pages)
    assert tab.payment.status.text().startswith("Payment received; you now have")
    assert tab.watch.wallet is not None and tab.watch.wallet.credits_remaining > 25
    assert tab.shown_wallet()["Balance"] == f"{tab.watch.wallet.credits_remaining} credits"
    assert not tab.payment.progress.isVisible()


def test_a_late_webhook_says_so_and_check_again_finds_the_payment(
    qloop: Loop, tab: CreditsTab, browser: Browser, standin: StripeStandin
) -> None:
    browser.pays = False
    tab.purchase.timeout_s = 0.5
    buy_and_wait(qloop, tab.purchase)
    assert "check again" in tab.payment.status.text()
    assert not tab.payment.check_again.isHidden()
    assert tab.purchase.session_id is not None
    standin.pay_session(tab.purchase.session_id)
    tab.payment.check_again.click()
    qloop.run(until(lambda: tab.payment.status.text().startswith("Payment received")))


def test_manage_billing_opens_the_portal_after_a_purchase(
    qloop: Loop, tab: CreditsTab, browser: Browser
) -> None:
    buy_and_wait(qloop, tab.purchase)
    qloop.run(finished(tab.purchase.open_portal()))
    assert "/pay/" not in browser.pages[-1] and browser.pages[-1].startswith("http")
    assert len(browser.pages) == 2


def test_auto_reload_round_trips(qloop: Loop, tab: CreditsTab) -> None:
    buy_and_wait(qloop, tab.purchase)  # auto-reload needs a saved card
    tab.auto_reload.click()
    qloop.run(until(lambda: tab.auto_reload_state.text().startswith("On: below")))
    assert tab.auto_reload.isChecked()
    tab.auto_reload.click()
    qloop.run(until(lambda: tab.auto_reload_state.text().startswith("Off")))
    assert not tab.auto_reload.isChecked()


def test_the_tab_opens_showing_auto_reload_as_the_server_has_it(
    qtbot: QtBot, qloop: Loop, tab: CreditsTab, browser: Browser
) -> None:
    assert tab.auto_reload_state.text() == "Off." and not tab.auto_reload.isChecked()
    buy_and_wait(qloop, tab.purchase)
    qloop.run(tab.watch.account().set_auto_reload(True))  # turned on elsewhere (the CLI)
    reopened = CreditsTab(tab.context, tab.watch, browser.open)
    qtbot.addWidget(reopened)
    reopened.load(tab.context.settings)
    assert reopened.auto_reload_read is not None
    qloop.run(finished(reopened.auto_reload_read))
    assert reopened.auto_reload.isChecked()
    assert reopened.auto_reload_state.text().startswith("On: below 50 credits the ")


def test_the_shop_offers_starter_bulk_and_mega_but_not_micro(tab: CreditsTab) -> None:
    assert list(tab.buy_buttons) == ["Starter", "Bulk", "Mega"]


def test_the_zero_dialog_offers_micro_own_key_and_offline(
    qtbot: QtBot, qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    watch = CreditsWatch(credits_context)
    leave_balance(qloop, cloud, watch, 0)
    fetch(qloop, watch)
    dialog = ZeroBalanceDialog(watch)
    qtbot.addWidget(dialog)
    assert "Micro" in dialog.pack_buttons
    chose: list[str] = []
    dialog.offline.connect(lambda: chose.append("offline"))
    dialog.own_key.connect(lambda: chose.append("own key"))
    dialog.show()
    [offline] = [
        b
        for b in dialog.findChildren(type(dialog.pack_buttons["Micro"]))
        if b.text() == "Continue offline"
    ]
    offline.click()
    assert chose == ["offline"]


def test_buying_micro_in_the_zero_dialog_closes_it_with_the_new_balance(
    qtbot: QtBot,
    qloop: Loop,
    cloud: RunningCloud,
    credits_context: DesktopContext,
    browser: Browser,
) -> None:
    watch = CreditsWatch(credits_context)
    leave_balance(qloop, cloud, watch, 0)
    fetch(qloop, watch)
    popup = QWidget()  # the popup behind (closing the last window would end the test's loop)
    qtbot.addWidget(popup)
    popup.show()
    dialog = ZeroBalanceDialog(watch, popup, browser.open)
    dialog.purchase.timeout_s = 20
    dialog.show()
    buy_and_wait(qloop, dialog.purchase, "Micro")
    assert dialog.result() == ZeroBalanceDialog.DialogCode.Accepted and not dialog.isVisible()
    assert dialog.payment.status.text() == "Payment received; you now have 100 credits."
    assert watch.wallet is not None and watch.wallet.credits_remaining == 100


def test_subscribing_to_pro_waits_until_the_wallet_is_on_it(
    qloop: Loop, tab: CreditsTab, browser: Browser
) -> None:
    task = tab.purchase.subscribe()
    assert task is not None
    qloop.run(finished(task))
    assert tab.payment.status.text().startswith("Payment received")
    assert tab.shown_wallet()["Plan"] == "Pro"


def test_auto_reload_says_why_the_server_turned_it_off() -> None:
    state = AutoReload(False, "your bank asked to confirm", True, 50, "Starter")
    assert auto_reload_text(state) == "Off: your bank asked to confirm."
    on = AutoReload(True, None, True, 50, "Starter")
    assert auto_reload_text(on) == "On: below 50 credits the Starter pack is bought."


def test_copy_puts_the_device_id_on_the_clipboard(tab: CreditsTab) -> None:
    tab.copy_device_id()
    assert QGuiApplication.clipboard().text() == str(this_device())
    assert tab.device.text() == f"Device id: {this_device()}"
