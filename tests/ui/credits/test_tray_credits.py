"""The tray in credits mode against a real credit proxy on loopback: its tooltip names the
service's balance, and the low-balance notification's click opens Settings → Credits (Top up)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from promptready.ui.context import DesktopContext
from promptready.ui.shell import Shell
from promptready.ui.tray import Tray
from tests.e2e.conftest import RunningCloud
from tests.ui.conftest import Loop
from tests.ui.credits.conftest import fetch, leave_balance


@pytest.fixture
def tray(qloop: Loop, credits_context: DesktopContext) -> Iterator[Tray]:
    shell = Shell(credits_context)
    shown = Tray(shell)  # asks for the balance as it starts
    assert shell.credits._fetching is not None
    qloop.run(finished_fetch(shell))
    yield shown
    shown.icon.hide()


async def finished_fetch(shell: Shell) -> None:
    task = shell.credits._fetching
    if task is not None:
        await task


def test_the_tooltip_names_the_services_balance(tray: Tray) -> None:
    assert tray.icon.toolTip() == "PromptReady · 25 credits"  # a new device's free allowance


def test_the_low_balance_message_opens_top_up_when_clicked(
    qloop: Loop, cloud: RunningCloud, tray: Tray
) -> None:
    heard: list[tuple[str, str]] = []
    tray.shell.notified.connect(lambda title, message, _undo: heard.append((title, message)))
    leave_balance(qloop, cloud, tray.shell.credits, 90)  # purchased credits under 100
    fetch(qloop, tray.shell.credits)
    assert heard == [
        ("Credits running low", "You have 90 PromptReady credits left; click to top up.")
    ]
    assert tray.icon.toolTip() == "PromptReady · 90 credits"
    tray.icon.messageClicked.emit()
    window = tray.shell.settings_window()
    assert window.isVisible() and window.tabs.currentWidget() is window.pages["credits"]
    window.close()
