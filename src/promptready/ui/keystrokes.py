"""Copy and paste in whichever app has the keyboard: the keystrokes (through pynput: XTEST on X11,
SendInput on Windows, CGEvent on macOS) and the clipboard saved and put back around them."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData
from PySide6.QtGui import QGuiApplication

from promptready.errors import PromptReadyError
from promptready.ui.hotkey import INSTALL_PYNPUT, _pynput_keyboard


@dataclass(frozen=True)
class SavedClipboard:
    """Every format the clipboard held (text, HTML, images…), to put back as it was."""

    formats: tuple[tuple[str, bytes], ...]

    @classmethod
    def take(cls) -> SavedClipboard:
        mime = QGuiApplication.clipboard().mimeData()
        return cls(tuple((f, bytes(mime.data(f).data())) for f in mime.formats()))

    def restore(self) -> None:
        mime = QMimeData()
        for name, data in self.formats:
            mime.setData(name, QByteArray(data))
        QGuiApplication.clipboard().setMimeData(mime)


def _keyboard() -> tuple[Any, Any]:
    """pynput's keyboard module and a controller; PromptReadyError saying why not. On Linux the
    hotkey is offered when pynput is installed, and this first press is its first import."""
    try:
        keyboard = _pynput_keyboard()
        return keyboard, keyboard.Controller()
    except ImportError as exc:
        reason = INSTALL_PYNPUT if getattr(exc, "name", "") == "pynput" else str(exc)
        raise PromptReadyError(
            f"The selection cannot be copied: keystrokes cannot be sent here ({reason})."
        ) from exc


def send_shortcut(letter: str) -> None:
    """Press Ctrl+``letter`` (Cmd on macOS) in the focused app, after letting go of the
    modifiers the user may still hold from the hotkey (Alt+Ctrl+C would not copy)."""
    keyboard, controller = _keyboard()
    for held in (keyboard.Key.alt, keyboard.Key.shift, keyboard.Key.cmd, keyboard.Key.ctrl):
        controller.release(held)
    command = keyboard.Key.cmd if sys.platform == "darwin" else keyboard.Key.ctrl
    with controller.pressed(command):
        controller.tap(letter)


def focused_window() -> int | None:
    """The window that has the keyboard now (X11 and Windows), to give it back after a preview."""
    try:
        if sys.platform == "win32":
            import ctypes

            return int(ctypes.windll.user32.GetForegroundWindow())  # type: ignore[attr-defined]
        if QGuiApplication.platformName() == "xcb":
            from Xlib import display

            connection = display.Display()
            try:
                return int(connection.get_input_focus().focus.id)
            finally:
                connection.close()
    except Exception:  # no window to go back to is not an error
        return None
    return None


def refocus(window: int | None) -> None:
    """Give the keyboard back to ``window`` (from ``focused_window``)."""
    if window is None:
        return
    try:
        if sys.platform == "win32":
            import ctypes

            ctypes.windll.user32.SetForegroundWindow(window)  # type: ignore[attr-defined]
        elif QGuiApplication.platformName() == "xcb":
            from Xlib import X, display

            connection = display.Display()
            try:
                target = connection.create_resource_object("window", window)
                target.set_input_focus(X.RevertToParent, X.CurrentTime)
                connection.sync()
            finally:
                connection.close()
    except Exception:  # noqa: S110 - the window may have closed meanwhile
        pass
