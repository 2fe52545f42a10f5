"""The tray menu, the no-tray window and the app's lifecycle (local API, quit)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from promptready.engine import Mode
from promptready.ui.app import start_front_end
from promptready.ui.context import DesktopContext
from promptready.ui.fallback import NO_TRAY, FallbackWindow
from promptready.ui.shell import Shell
from promptready.ui.tray import fill_menu
from tests.ui.conftest import ROUGH, Loop, until


@pytest.fixture
def shell(context: DesktopContext) -> Iterator[Shell]:
    yield Shell(context)


def labels(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_menu_has_every_action(shell: Shell) -> None:
    menu = QMenu()
    fill_menu(menu, shell)
    assert labels(menu) == [
        "Enhance clipboard",
        "Open PromptReady…",
        "Mode",
        "Usage…",
        "Settings…",
        "Quit PromptReady",
    ]


def test_menu_offers_undo_after_an_enhancement(shell: Shell, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText(ROUGH)
    shell.enhance_clipboard()
    qloop.run(until(lambda: shell.clipboard.can_undo))
    menu = QMenu()
    fill_menu(menu, shell)
    undo = next(a for a in menu.actions() if a.text().startswith("Undo"))
    undo.trigger()
    assert QGuiApplication.clipboard().text() == ROUGH
    fill_menu(menu, shell)
    assert not any(a.text().startswith("Undo") for a in menu.actions())


def test_mode_menu_switches_and_saves_the_mode(shell: Shell) -> None:
    menu = QMenu()
    fill_menu(menu, shell)
    modes = next(a for a in menu.actions() if a.text() == "Mode").menu()
    assert isinstance(modes, QMenu)
    modes.aboutToShow.emit()  # as when the user opens it
    assert [(a.text(), a.isChecked()) for a in modes.actions()] == [
        ("Offline", True),
        ("Credits", False),
    ]
    modes.actions()[1].trigger()
    assert shell.context.mode() is Mode.AI
    saved = shell.context.paths.settings_file.read_text()
    assert 'mode = "ai"' in saved and 'provider = "credits"' in saved


def test_offline_only_has_no_mode_menu(shell: Shell) -> None:
    desktop = dataclasses.replace(shell.context.settings.desktop, offline_only=True)
    shell.context.save_settings(dataclasses.replace(shell.context.settings, desktop=desktop))
    menu = QMenu()
    fill_menu(menu, shell)
    assert "Mode" not in labels(menu)


def test_without_a_tray_a_window_says_why(shell: Shell) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # offscreen has none
    front = start_front_end(shell)
    assert isinstance(front, FallbackWindow) and front.isVisible()
    assert front.reason.text() == NO_TRAY
    front.close()  # closing hides; the app keeps running
    assert not front.isVisible()
    front.bring_forward()
    assert front.isVisible()
    front.deleteLater()


def test_fallback_window_enhances_and_undoes(shell: Shell, qloop: Loop) -> None:
    window = FallbackWindow(shell)
    QGuiApplication.clipboard().setText(ROUGH)
    window.enhance.click()
    qloop.run(until(window.undo.isEnabled))
    assert "Clipboard enhanced" in window.status.text()
    window.undo.click()
    assert QGuiApplication.clipboard().text() == ROUGH
    assert "Clipboard restored" in window.status.text()
    window.deleteLater()


def test_fallback_window_switches_mode(shell: Shell) -> None:
    window = FallbackWindow(shell)
    window.ai.click()
    assert shell.context.mode() is Mode.AI
    window.deleteLater()


def test_local_api_runs_while_enabled_and_quit_stops_it(shell: Shell, qloop: Loop) -> None:
    gateway = dataclasses.replace(shell.context.settings.gateway, enabled=True, port=0)
    shell.context.save_settings(dataclasses.replace(shell.context.settings, gateway=gateway))
    qloop.run(until(lambda: shell.context.local_api.url))
    url = shell.context.local_api.url
    assert url is not None and httpx.get(f"{url}/health").json()["status"] == "ok"
    shell.quit()
    qloop.run(shell.closed.wait())
    assert shell.context.local_api.url is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health")


def test_local_api_port_in_use_is_reported(shell: Shell, qloop: Loop) -> None:
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    messages: list[str] = []
    shell.notified.connect(lambda title, message, _: messages.append(f"{title}: {message}"))
    gateway = dataclasses.replace(shell.context.settings.gateway, enabled=True, port=port)
    shell.context.save_settings(dataclasses.replace(shell.context.settings, gateway=gateway))
    qloop.run(until(lambda: messages))
    busy.close()
    assert messages[0].startswith("Local API not started:")
    assert f"Could not listen on 127.0.0.1:{port}" in messages[0]


def test_undo_is_withdrawn_once_the_user_copies_something_else(shell: Shell, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText(ROUGH)
    shell.enhance_clipboard()
    qloop.run(until(lambda: shell.clipboard.can_undo))
    QGuiApplication.clipboard().setText("a link the user copied afterwards")
    menu = QMenu()
    fill_menu(menu, shell)
    assert not any(a.text().startswith("Undo") for a in menu.actions())
    shell.undo_clipboard()
    assert QGuiApplication.clipboard().text() == "a link the user copied afterwards"


TRAY_PROBE = """
import sys
from PySide6.QtWidgets import QApplication
from promptready.ui.context import DesktopContext
from promptready.ui.shell import Shell
from promptready.ui.tray import Tray
app = QApplication([])
Tray(Shell(DesktopContext.load())).show()
print(sorted(m for m in ("keyring", "promptready.providers.credits") if m in sys.modules))
"""


def test_the_tray_icon_loads_neither_the_keyring_nor_the_credits_client() -> None:
    # Both wait until the Mode menu opens or AI mode is on: ~8 MB resident otherwise.
    command = [sys.executable, "-c", TRAY_PROBE]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
