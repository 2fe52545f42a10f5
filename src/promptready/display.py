"""Whether this session can show windows, checked before Qt starts: Qt aborts the whole process
(no exception to catch) when it finds no display or misses a system library."""

from __future__ import annotations

import ctypes.util
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


def display_problem(
    env: Mapping[str, str],
    platform: str = sys.platform,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
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
