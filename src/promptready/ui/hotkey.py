"""The optional global hotkeys: one opens the popup (off by default), one enhances the selection.

Qt has no global shortcuts. On X11 the combination is grabbed on the X server
(``ui.x11_grab``, libxcb), read on Qt's thread; on Windows and macOS pynput listens on its own
thread (a keyboard hook, an event tap). Wayland gives no app a way to see other apps' keys, and
without a display there is nothing to listen to; there, a key bound in the desktop's own settings
to run ``promptready`` does the same job, because a second launch brings the running app's popup
forward.

pynput is imported only when it is used (on Linux: for the selection's copy and paste keystrokes,
at the first press): on Linux it connects to the display on import and loads python-xlib.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, Qt, Signal
from PySide6.QtGui import QGuiApplication

from promptready.errors import ConfigError, PromptReadyError

if TYPE_CHECKING:
    from promptready.ui.x11_grab import KeyGrab

STOP_TIMEOUT_S = 10.0  # a stopped listener ends in milliseconds; this bounds a wedged one

WORKAROUND = (
    "Bind a key to the command `promptready` in your desktop's keyboard settings instead: "
    "a second launch opens the popup."
)
MACOS_PERMISSION = (
    "macOS asks once: allow PromptReady under System Settings → Privacy & Security → "
    "Input Monitoring."
)

# Qt's portable key names (QKeySequence.toString()) → pynput's names.
_NAMED_KEYS = {
    "space": "<space>",
    "tab": "<tab>",
    "return": "<enter>",
    "enter": "<enter>",
    "esc": "<esc>",
    "backspace": "<backspace>",
    "del": "<delete>",
    "ins": "<insert>",
    "home": "<home>",
    "end": "<end>",
    "pgup": "<page_up>",
    "pgdown": "<page_down>",
    "up": "<up>",
    "down": "<down>",
    "left": "<left>",
    "right": "<right>",
    "print": "<print_screen>",
    "pause": "<pause>",
    "menu": "<menu>",
}
_FUNCTION_KEYS = {f"f{n}": f"<f{n}>" for n in range(1, 21)}  # pynput knows F1-F20 everywhere
# Optional on Linux, where it builds evdev from source.
INSTALL_PYNPUT = "install it with: pip install 'promptready[hotkey]'"


@dataclass(frozen=True)
class HotkeySupport:
    """Whether the hotkey setting can work; ``reason`` says why not, or what to allow first."""

    available: bool
    reason: str


def hotkey_support() -> HotkeySupport:
    """The answer for this platform, session and Qt platform plugin."""
    platform = QGuiApplication.platformName() if QGuiApplication.instance() else ""
    if platform in ("offscreen", "minimal"):
        return _unavailable("without a display")
    if sys.platform.startswith("linux") or platform in ("xcb", "wayland"):
        if os.environ.get("XDG_SESSION_TYPE") == "wayland" or platform.startswith("wayland"):
            return _unavailable("on Wayland")
        if not os.environ.get("DISPLAY") or platform != "xcb":
            return _unavailable("without an X11 display")
    elif sys.platform not in ("win32", "darwin"):
        return _unavailable("on this system")
    problem = _pynput_problem()
    if problem:
        return _unavailable(f"here ({problem})")
    return HotkeySupport(True, MACOS_PERMISSION if sys.platform == "darwin" else "")


def _unavailable(where: str) -> HotkeySupport:
    return HotkeySupport(False, f"Global hotkeys are not available {where}. {WORKAROUND}")


def _pynput_problem() -> str:
    """Why pynput cannot work here (it raises ImportError naming what failed), or ''.

    On Linux pynput only sends the selection's keystrokes, at its first press: being installed is
    enough to offer the hotkeys, and start-up stays free of its X connection and python-xlib."""
    if _grabs_on_x11():
        return "" if _find_pynput() else INSTALL_PYNPUT
    try:
        _pynput_keyboard()
    except ModuleNotFoundError as exc:
        if exc.name == "pynput":
            return INSTALL_PYNPUT
        return str(exc).strip().splitlines()[0]
    except ImportError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "pynput is missing"
    return ""


def _grabs_on_x11(platform: str = sys.platform) -> bool:
    """Whether hotkeys are X11 key grabs here (Linux, where hotkey_support allows only X11)."""
    return platform.startswith("linux")


def _find_pynput() -> bool:
    return importlib.util.find_spec("pynput") is not None  # finds it without importing it


def _pynput_keyboard() -> Any:
    """pynput's keyboard module; on Linux, importing it connects to the X display."""
    from pynput import keyboard  # type: ignore[import-untyped]

    return keyboard


def pynput_hotkey(sequence: str, platform: str = sys.platform) -> str:
    """A Qt key sequence such as ``Ctrl+Alt+P`` in pynput's form, ``<ctrl>+<alt>+p``.

    Qt's portable text calls the Command key "Ctrl" and the Control key "Meta" on macOS, and the
    Windows / Super key "Meta" elsewhere. Raises ConfigError with the sentence to show.
    """
    text = sequence.strip()
    if not text:
        raise ConfigError("The hotkey is empty: record one, e.g. Ctrl+Alt+P.")
    if ", " in text:  # Qt separates the presses of a multi-press sequence with ", "
        raise ConfigError(f"The hotkey {text!r} is several key presses: use one, e.g. Ctrl+Alt+P.")
    mac = platform == "darwin"
    modifiers = {
        "ctrl": "<cmd>" if mac else "<ctrl>",
        "meta": "<ctrl>" if mac else "<cmd>",
        "alt": "<alt>",
        "shift": "<shift>",
    }
    *mods, key = _split(text)
    held: list[str] = []
    for mod in mods:
        name = modifiers.get(mod.lower())
        if name is None:
            raise ConfigError(
                f"The hotkey {text!r} has {mod!r} where Ctrl, Alt, Shift or Meta belongs."
            )
        if name not in held:
            held.append(name)
    if key.lower() in modifiers:
        raise ConfigError(f"The hotkey {text!r} has no key after its modifiers, e.g. Ctrl+Alt+P.")
    pressed = _key_name(key, text)
    if pressed not in _FUNCTION_KEYS.values() and not set(held) - {"<shift>"}:
        raise ConfigError(
            f"The hotkey {text!r} would fire while you type: hold Ctrl, Alt or Meta with the key "
            "(e.g. Ctrl+Alt+P), or use a function key."
        )
    return "+".join([*held, pressed])


def _split(text: str) -> list[str]:
    """``Ctrl++`` is Ctrl with the plus key: a '+' right after a separator is the key itself."""
    parts: list[str] = []
    start = 0
    for i, char in enumerate(text):
        if char == "+" and i != start:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    if not parts[-1]:
        raise ConfigError(f"The hotkey {text!r} ends with '+': add a key, e.g. Ctrl+Alt+P.")
    return parts


def _key_name(key: str, text: str) -> str:
    lowered = key.lower()
    if lowered in _NAMED_KEYS:
        return _NAMED_KEYS[lowered]
    if lowered in _FUNCTION_KEYS:
        return _FUNCTION_KEYS[lowered]
    if len(key) == 1 and key.isprintable() and not key.isspace():
        return lowered
    raise ConfigError(f"The hotkey {text!r} uses {key!r}, which cannot be a global hotkey here.")


class GlobalHotkey(QObject):
    """Listens for one key combination anywhere on the desktop; ``triggered`` fires in Qt's thread.

    pynput calls back on its own thread, so its press goes through ``_pressed``, queued into the
    thread this object lives in; an X11 grab is read on that thread already and takes the same
    queued path, so the action never runs inside the read.
    """

    triggered = Signal()
    _pressed = Signal()

    def __init__(self, sequence: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sequence = sequence
        self.combination = pynput_hotkey(sequence)  # a bad sequence fails here, before listening
        self._listener: Any = None
        self._grab: KeyGrab | None = None
        self._notifier: QSocketNotifier | None = None
        self._pressed.connect(self.triggered, Qt.ConnectionType.QueuedConnection)

    def is_running(self) -> bool:
        return self._listener is not None or self._grab is not None

    def start(self, ready_timeout_s: float = 2.0) -> None:
        """Start listening; returns once the listener is ready. Raises PromptReadyError."""
        if self.is_running():
            return
        if _grabs_on_x11():
            self._start_grab()
            return
        try:
            keyboard = _pynput_keyboard()
        except ImportError as exc:
            raise PromptReadyError(f"The hotkey cannot listen here ({exc}). {WORKAROUND}") from exc
        listener: Any = None

        def pressed() -> None:  # on pynput's thread; a listener that never got ready stays mute
            if self._listener is listener:
                self._pressed.emit()

        try:
            listener = keyboard.GlobalHotKeys({self.combination: pressed})
        except ValueError as exc:  # a key pynput does not know on this platform
            raise ConfigError(
                f"The hotkey {self.sequence!r} uses a key this system cannot watch; choose another."
            ) from exc
        listener.start()
        if not _wait_until_ready(listener, ready_timeout_s):
            raise PromptReadyError(
                f"The hotkey listener could not watch the keyboard here. {WORKAROUND}"
            )
        self._listener = listener

    def _start_grab(self) -> None:
        from promptready.ui.x11_grab import KeyGrab

        grab = KeyGrab(self.combination, self.sequence)
        self._grab = grab
        self._notifier = QSocketNotifier(grab.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read_grab)
        self._read_grab()  # what arrived while grabbing is queued in libxcb, not on the socket

    def _read_grab(self) -> None:
        grab = self._grab
        if grab is None:
            return
        for _ in range(grab.presses()):
            self._pressed.emit()
        if grab.broken and self._notifier is not None:
            self._notifier.setEnabled(False)  # a closed display stays readable: stop asking

    def stop(self) -> None:
        """Stop listening; no press is reported afterwards. Safe to call twice."""
        grab, self._grab = self._grab, None
        notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.setEnabled(False)
            notifier.deleteLater()
        if grab is not None:
            grab.close()
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        listener.join(STOP_TIMEOUT_S)


def _wait_until_ready(listener: Any, timeout_s: float) -> bool:
    """Wait for pynput's ready flag, but give up if its thread dies: ``listener.wait()`` would
    block forever (e.g. when the system refuses its hook)."""
    deadline = time.monotonic() + timeout_s
    while not getattr(listener, "_ready", True):
        if not listener.is_alive() or time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
