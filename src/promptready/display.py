"""Whether this session can show windows, checked before Qt starts: Qt aborts the whole process
(no exception to catch) when it finds no display or misses a system library."""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable, Mapping

NO_DISPLAY = (
    "There is no graphical display here (DISPLAY and WAYLAND_DISPLAY are unset), so the desktop "
    'app cannot open. Use the command line instead: promptready enhance "your text", or '
    "promptready serve for the local API."
)
NO_XCB_CURSOR = (
    "Qt needs the libxcb-cursor0 library to open windows on X11. Install it (for example "
    "`sudo apt install libxcb-cursor0`) and start PromptReady again."
)


def loadable(name: str) -> str | None:
    """``lib{name}.so.0``'s name if the dynamic loader can load it, else None.

    Not ``ctypes.util.find_library``: it runs ``ldconfig -p`` (measured 360 ms on a loaded
    machine, most of the tray's start-up); a dlopen of the library Qt's xcb plugin loads anyway
    costs little and asks the same loader Qt will.
    """
    soname = f"lib{name}.so.0"
    try:
        ctypes.CDLL(soname)
    except OSError:
        return None
    return soname


def display_problem(
    env: Mapping[str, str],
    platform: str = sys.platform,
    find_library: Callable[[str], str | None] = loadable,
) -> str | None:
    """Why the desktop app could not open a window in this environment, or None if it can."""
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None  # macOS and Windows always have a display; a chosen Qt platform is honoured
    if env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return NO_DISPLAY
    if find_library("xcb-cursor") is None:
        return NO_XCB_CURSOR
    return None
