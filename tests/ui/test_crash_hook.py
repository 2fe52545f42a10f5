"""The desktop app's crash hook: a slot that raises is shown in the tray, not lost."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer, qInstallMessageHandler
from pytestqt.qtbot import QtBot

from promptready.paths import app_paths
from promptready.ui.app import install_crash_reporting
from promptready.ui.context import DesktopContext
from promptready.ui.shell import Shell


@pytest.mark.qt_no_exception_capture
def test_a_slot_that_raises_is_shown_to_the_user(context: DesktopContext, qtbot: QtBot) -> None:
    shell = Shell(context)
    shown: list[tuple[str, str]] = []
    shell.notified.connect(lambda title, message, _undo: shown.append((title, message)))

    def broken_slot() -> None:
        raise RuntimeError("a bug in a slot")

    reporter = install_crash_reporting(shell)
    try:
        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: bool(shown))
    finally:
        reporter.uninstall()
        qInstallMessageHandler(None)
    title, message = shown[0]
    assert title == "Unexpected error"
    assert str(app_paths().crash_log) in message
    assert "RuntimeError: a bug in a slot" in app_paths().crash_log.read_text(encoding="utf-8")
