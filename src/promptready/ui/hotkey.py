"""Whether a global hotkey can open the popup here.

Qt has no global shortcuts, and neither X11 nor Wayland gives an app a portable way to take one,
so this version offers none; a key bound in the desktop's own settings to run ``promptready``
does the same job, because a second launch brings the running app's popup forward.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from PySide6.QtGui import QGuiApplication

WORKAROUND = (
    "Bind a key to the command `promptready` in your desktop's keyboard settings instead: "
    "a second launch opens the popup."
)


@dataclass(frozen=True)
class HotkeySupport:
    """Whether the hotkey setting can work, and if not, why and what to do."""

    available: bool
    reason: str


def hotkey_support() -> HotkeySupport:
    """The answer for this platform and Qt platform plugin."""
    platform = QGuiApplication.platformName() if QGuiApplication.instance() else ""
    if platform in ("offscreen", "minimal"):
        where = "without a display"
    elif sys.platform.startswith("linux"):
        where = "on Linux"
    else:
        where = "on this system in this version"
    return HotkeySupport(False, f"Global hotkeys are not available {where}. {WORKAROUND}")
