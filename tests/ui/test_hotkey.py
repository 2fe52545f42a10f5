"""The global hotkey: Qt sequences in pynput's form, where it is offered, and a real press on a
real X server (Xvfb, keys sent by xdotool through XTEST, caught by an X11 key grab)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from PySide6.QtCore import QTimer, SignalInstance
from pytestqt.qtbot import QtBot

from promptready.errors import ConfigError, PromptReadyError
from promptready.settings import load_settings
from promptready.ui import shell as shell_module
from promptready.ui.context import DesktopContext
from promptready.ui.hotkey import (
    WORKAROUND,
    GlobalHotkey,
    HotkeySupport,
    hotkey_support,
    pynput_hotkey,
)
from promptready.ui.settings.general_tab import GeneralTab
from promptready.ui.shell import Shell
from tests.ui.conftest import Loop, until

CONVERSIONS = [
    ("Ctrl+Alt+P", "linux", "<ctrl>+<alt>+p"),
    ("Ctrl+Shift+Space", "linux", "<ctrl>+<shift>+<space>"),
    ("Meta+F5", "win32", "<cmd>+<f5>"),
    ("Alt+PgDown", "linux", "<alt>+<page_down>"),
    ("F9", "linux", "<f9>"),
    ("Shift+F12", "linux", "<shift>+<f12>"),
    ("Ctrl++", "linux", "<ctrl>++"),
    ("Ctrl+,", "linux", "<ctrl>+,"),
    ("ctrl+alt+Del", "linux", "<ctrl>+<alt>+<delete>"),
    # On macOS Qt calls the Command key "Ctrl" and the Control key "Meta".
    ("Ctrl+Alt+P", "darwin", "<cmd>+<alt>+p"),
    ("Meta+Return", "darwin", "<ctrl>+<enter>"),
]


@pytest.mark.parametrize(("sequence", "platform", "expected"), CONVERSIONS)
def test_qt_sequences_in_pynput_form(sequence: str, platform: str, expected: str) -> None:
    assert pynput_hotkey(sequence, platform) == expected


@pytest.mark.parametrize(
    ("sequence", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("P", "would fire while you type"),
        ("Shift+P", "would fire while you type"),
        ("Ctrl+Alt", "no key after its modifiers"),
        ("Ctrl+Alt+", "ends with '+'"),
        ("Ctrl+K, Ctrl+C", "several key presses"),
        ("Hyper+P", "'Hyper' where Ctrl, Alt, Shift or Meta belongs"),
        ("Ctrl+LaunchMail", "'LaunchMail', which cannot be a global hotkey"),
    ],
)
def test_bad_sequences_say_why(sequence: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why.replace("+", r"\+")):
        pynput_hotkey(sequence)


def test_offscreen_has_no_hotkey_and_says_what_to_do_instead(qapp: object) -> None:
    support = hotkey_support()
    assert not support.available
    assert "not available without a display" in support.reason
    assert WORKAROUND in support.reason


def test_general_tab_says_why_a_recorded_hotkey_cannot_work(context: DesktopContext) -> None:
    tab = GeneralTab(context)
    assert not tab.hotkey.isEnabled() and "not available" in tab.hotkey_note.text()
    tab.hotkey_support = HotkeySupport(True, "")  # as on a desktop where it works
    tab.hotkey.setKeySequence("Ctrl+Alt+K")
    assert tab.hotkey_note.text() == ""
    tab.hotkey.setKeySequence("K")
    assert "would fire while you type" in tab.hotkey_note.text()


def test_a_wanted_hotkey_that_cannot_run_is_explained_once(context: DesktopContext) -> None:
    shell = Shell(context)
    seen: list[str] = []
    shell.notified.connect(lambda title, message, _undo: seen.append(f"{title}: {message}"))
    desktop = dataclasses.replace(context.settings.desktop, hotkey_enabled=True)
    context.save_settings(dataclasses.replace(context.settings, desktop=desktop))
    assert shell.hotkey is None
    assert seen == [f"Hotkey not started: {hotkey_support().reason}"]
    context.save_settings(context.settings)  # nothing about the hotkey changed: no repeat
    assert len(seen) == 1


# A real X server.


def press(keys: str) -> None:
    subprocess.run(["xdotool", "key", keys], check=True, timeout=5)


def press_until(qtbot: QtBot, signal: SignalInstance, keys: str) -> None:
    """Press ``keys`` until ``signal`` fires: the listener may need a moment after it reports
    ready before X delivers it events."""
    again = QTimer(interval=200)
    again.timeout.connect(lambda: press(keys))
    with qtbot.waitSignal(signal, timeout=3000):
        press(keys)
        again.start()
    again.stop()
    qtbot.wait(50)  # let a press still in flight arrive now


@pytest.mark.parametrize(("sequence", "_platform", "combination"), CONVERSIONS)
def test_pynput_accepts_every_conversion(
    x_display: str, sequence: str, _platform: str, combination: str
) -> None:
    from pynput import keyboard  # type: ignore[import-untyped]

    assert keyboard.HotKey.parse(combination)


def test_a_real_key_press_triggers_the_hotkey(x_display: str, qtbot: QtBot) -> None:
    hotkey = GlobalHotkey("Ctrl+Alt+P")
    hotkey.start()
    try:
        assert hotkey.is_running()
        press_until(qtbot, hotkey.triggered, "ctrl+alt+p")
    finally:
        hotkey.stop()
    assert not hotkey.is_running()
    with qtbot.assertNotEmitted(hotkey.triggered, wait=300):
        press("ctrl+alt+p")
    hotkey.stop()  # twice is fine


def test_other_keys_do_not_trigger_it(x_display: str, qtbot: QtBot) -> None:
    hotkey = GlobalHotkey("Ctrl+Alt+P")
    hotkey.start()
    try:
        with qtbot.assertNotEmitted(hotkey.triggered, wait=300):
            press("ctrl+p")
            press("alt+p")
            press("ctrl+alt+o")
    finally:
        hotkey.stop()


def test_the_shell_opens_the_popup_on_the_hotkey_and_follows_the_settings(
    x_display: str,
    qtbot: QtBot,
    context: DesktopContext,
    qloop: Loop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Qt itself is offscreen here, so the platform check would say no; pynput is on the X server.
    monkeypatch.setattr(shell_module, "hotkey_support", lambda: HotkeySupport(True, ""))
    shell = Shell(context)
    desktop = dataclasses.replace(context.settings.desktop, hotkey_enabled=True, hotkey="Alt+F9")
    context.save_settings(dataclasses.replace(context.settings, desktop=desktop))
    assert load_settings(context.paths.settings_file).settings.desktop.hotkey_enabled
    try:
        assert shell.hotkey is not None and shell.hotkey.combination == "<alt>+<f9>"
        press_until(qtbot, shell.hotkey.triggered, "alt+F9")
        qloop.run(until(lambda: shell.popup().isVisible()))
        shell.popup().close()
        desktop = dataclasses.replace(desktop, hotkey="Ctrl+Alt+P")
        context.save_settings(dataclasses.replace(context.settings, desktop=desktop))
        assert shell.hotkey is not None and shell.hotkey.combination == "<ctrl>+<alt>+p"
        desktop = dataclasses.replace(desktop, hotkey_enabled=False)
        context.save_settings(dataclasses.replace(context.settings, desktop=desktop))
        assert shell.hotkey is None
    finally:
        shell.stop_hotkey()
        shell.stop_selection_hotkey()  # on by default: its listener must end before Xvfb does
        shell.popup().cancel()


def test_without_pynput_the_reason_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from promptready.ui import hotkey

    monkeypatch.setattr(hotkey, "_find_pynput", lambda: False)
    assert "promptready[hotkey]" in hotkey._pynput_problem()


def test_without_pynput_off_linux_the_reason_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from promptready.ui import hotkey

    def absent() -> object:
        raise ModuleNotFoundError("No module named 'pynput'", name="pynput")

    monkeypatch.setattr(hotkey, "_grabs_on_x11", lambda: False)
    monkeypatch.setattr(hotkey, "_pynput_keyboard", absent)
    assert "promptready[hotkey]" in hotkey._pynput_problem()


def test_offering_the_hotkey_on_linux_does_not_import_pynput() -> None:
    # Importing pynput on Linux opens an X connection and loads python-xlib (about 8 MB).
    code = (
        "import sys; from promptready.ui.hotkey import _pynput_problem; _pynput_problem(); "
        "print(sorted({'pynput', 'Xlib'} & set(sys.modules)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "[]"


def test_a_grab_does_not_import_pynput(x_display: str) -> None:
    code = (
        "import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]); "
        "from promptready.ui.hotkey import GlobalHotkey; h = GlobalHotkey('Ctrl+Alt+P'); "
        "h.start(); print(h.is_running(), sorted({'pynput', 'Xlib'} & set(sys.modules))); h.stop()"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "True []"


def test_a_press_counts_when_the_key_is_let_go(x_display: str, qtbot: QtBot) -> None:
    # The keyboard is ours until the key is released: a copy keystroke sent earlier would be ours.
    hotkey = GlobalHotkey("Ctrl+Alt+P")
    hotkey.start()
    try:
        with qtbot.assertNotEmitted(hotkey.triggered, wait=300):
            subprocess.run(["xdotool", "keydown", "ctrl+alt+p"], check=True, timeout=5)
        with qtbot.waitSignal(hotkey.triggered, timeout=3000):
            subprocess.run(["xdotool", "keyup", "p"], check=True, timeout=5)
    finally:
        subprocess.run(["xdotool", "keyup", "ctrl+alt"], check=True, timeout=5)
        hotkey.stop()


def test_the_hotkey_works_with_num_lock_on(x_display: str, qtbot: QtBot) -> None:
    hotkey = GlobalHotkey("Ctrl+Alt+P")
    hotkey.start()
    press("Num_Lock")
    try:
        press_until(qtbot, hotkey.triggered, "ctrl+alt+p")
    finally:
        press("Num_Lock")
        hotkey.stop()


def test_a_combination_another_app_holds_is_refused_with_a_reason(x_display: str) -> None:
    first = GlobalHotkey("Ctrl+Alt+J")
    first.start()
    try:
        with pytest.raises(PromptReadyError, match="Another app already uses 'Ctrl\\+Alt\\+J'"):
            GlobalHotkey("Ctrl+Alt+J").start()
    finally:
        first.stop()
    second = GlobalHotkey("Ctrl+Alt+J")
    second.start()  # free again once the first let go
    second.stop()
