"""The popup in credits mode against a real credit proxy on loopback: the pill follows the
service's balance after each enhancement, and at zero the offline result stays while the
zero-balance dialog offers the packs."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from promptready.engine import Mode
from promptready.ui.context import DesktopContext
from promptready.ui.credits.zero_dialog import ZeroBalanceDialog
from promptready.ui.popup import EnhancePopup
from tests.e2e.conftest import RunningCloud
from tests.ui.conftest import Loop
from tests.ui.credits.conftest import balance_at_cloud, finished, popup_with_balance

ROUGH = "write a python script that renames my photos by the date they were taken"


def enhanced(qloop: Loop, popup: EnhancePopup) -> None:
    """Enhance ROUGH in the popup, then wait for the balance it asks for afterwards."""
    popup.input.setPlainText(ROUGH)
    popup.start_enhance()
    assert popup.task is not None
    qloop.run(finished(popup.task))
    assert popup.credits._fetching is not None
    qloop.run(finished(popup.credits._fetching))


def test_the_pill_shows_the_balance_the_service_has_after_an_enhancement(
    qtbot: QtBot, qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    popup = popup_with_balance(qtbot, qloop, cloud, credits_context, 300)
    assert "300 left" in popup.pill.text()
    enhanced(qloop, popup)
    assert popup.last_result is not None and popup.last_result.mode is Mode.AI
    left = balance_at_cloud(qloop, cloud)
    assert left < 300 and f"{left} left" in popup.pill.text()


def test_at_zero_the_offline_result_stays_and_the_packs_are_offered(
    qtbot: QtBot, qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    popup = popup_with_balance(qtbot, qloop, cloud, credits_context, 0)
    enhanced(qloop, popup)
    assert popup.last_result is not None and popup.last_result.mode is Mode.OFFLINE
    assert popup.tabs.text == popup.last_result.text and popup.copy_button.isEnabled()
    dialog = popup.zero_dialog
    assert isinstance(dialog, ZeroBalanceDialog) and dialog.isVisible()
    assert "Micro" in dialog.pack_buttons
