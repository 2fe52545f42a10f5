"""The first-run window: three ways, one line each; credits register the device silently; shown
once."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from promptready.engine import Mode
from promptready.ui.context import DesktopContext
from promptready.ui.credits.modes import Choice
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.first_run import OPTIONS, FirstRunWindow
from promptready.ui.first_run_seen import first_run_due
from tests.e2e.conftest import RunningCloud
from tests.ui.conftest import Loop, until


def window(qtbot: QtBot, context: DesktopContext) -> FirstRunWindow:
    shown = FirstRunWindow(context, CreditsWatch(context))
    qtbot.addWidget(shown)
    return shown


def test_it_offers_the_three_ways_with_credits_first_chosen(
    qtbot: QtBot, context: DesktopContext
) -> None:
    shown = window(qtbot, context)
    assert [b.text() for b in shown.buttons.values()] == [title for _, title, _ in OPTIONS]
    assert "PromptReady credits (25 free a month, no key)" in shown.buttons[Choice.CREDITS].text()
    assert shown.chosen() is Choice.CREDITS


def test_credits_register_the_device_and_the_window_is_not_due_again(
    qtbot: QtBot, qloop: Loop, cloud: RunningCloud, credits_context: DesktopContext
) -> None:
    assert first_run_due(credits_context.paths.data_dir)
    shown = window(qtbot, credits_context)
    shown.accept()
    qloop.run(until(lambda: shown.watch.wallet is not None))
    assert shown.watch.wallet is not None and shown.watch.wallet.credits_remaining == 25
    assert credits_context.settings.ai.provider == "credits"
    assert not first_run_due(credits_context.paths.data_dir)


def test_offline_saves_offline_mode(qtbot: QtBot, context: DesktopContext) -> None:
    shown = window(qtbot, context)
    shown.buttons[Choice.OFFLINE].setChecked(True)
    shown.accept()
    assert context.mode() is Mode.OFFLINE


def test_own_key_asks_for_the_key(qtbot: QtBot, context: DesktopContext) -> None:
    shown = window(qtbot, context)
    asked: list[bool] = []
    shown.wants_key.connect(lambda: asked.append(True))
    shown.buttons[Choice.OWN_KEY].setChecked(True)
    shown.accept()
    assert asked == [True] and context.mode() is Mode.AI
