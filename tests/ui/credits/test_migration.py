"""The one-time 500-credit offer to a user with their own key, against a real credit proxy."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from promptready.secrets import ApiKey, SecretStore
from promptready.ui.context import DesktopContext
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.popup import EnhancePopup
from tests.ui.conftest import Loop
from tests.ui.credits.conftest import finished


def popup_with_key(qtbot: QtBot, context: DesktopContext) -> EnhancePopup:
    SecretStore().set_key("openai", ApiKey("sk-test-own-key-123456"))
    popup = EnhancePopup(context, CreditsWatch(context))
    qtbot.addWidget(popup)
    return popup


def test_without_a_key_there_is_no_offer(qtbot: QtBot, credits_context: DesktopContext) -> None:
    popup = EnhancePopup(credits_context)
    qtbot.addWidget(popup)
    assert popup.migration is None


def test_claiming_grants_the_credits_and_the_offer_is_shown_once(
    qtbot: QtBot, qloop: Loop, credits_context: DesktopContext
) -> None:
    popup = popup_with_key(qtbot, credits_context)
    assert popup.migration is not None
    qloop.run(finished(popup.migration.accept()))
    assert popup.status.text().startswith("500 credits added")
    assert popup.credits.wallet is not None and popup.credits.wallet.credits_remaining >= 500
    assert popup_with_key(qtbot, credits_context).migration is None


def test_dismissing_means_never_again(qtbot: QtBot, credits_context: DesktopContext) -> None:
    popup = popup_with_key(qtbot, credits_context)
    assert popup.migration is not None
    popup.migration.dismiss()
    assert popup_with_key(qtbot, credits_context).migration is None
