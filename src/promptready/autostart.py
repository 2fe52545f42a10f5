"""Start at login: an XDG autostart entry on Linux, a LaunchAgent on macOS, a Run key on Windows.

Each entry starts ``promptready`` with no arguments (the tray app) using the interpreter that
runs now, so a venv or a bundle starts itself.

This module is also the one source of the Linux application-menu entry: ``desktop_entry`` with
``autostart=False`` is what ``packaging/linux/build_deb.sh`` installs (``python -m
promptready.autostart`` prints it), so the menu and the login entry cannot drift apart.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

NAME = "PromptReady"


def _command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "promptready"]


def _linux_entry() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "autostart" / "promptready.desktop"


def _mac_entry() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / "app.promptready.plist"


def is_enabled() -> bool:
    """Whether PromptReady starts at login."""
    if sys.platform == "win32":
        return _windows_value() is not None
    entry = _mac_entry() if sys.platform == "darwin" else _linux_entry()
    return entry.is_file()


def set_enabled(enabled: bool) -> None:
    """Add or remove the login entry for this user."""
    if sys.platform == "win32":
        _set_windows(enabled)
        return
    entry = _mac_entry() if sys.platform == "darwin" else _linux_entry()
    if not enabled:
        entry.unlink(missing_ok=True)
        return
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(_mac_plist() if sys.platform == "darwin" else _desktop_file(), "utf-8")


# The keys both Linux entries share, in the order they are written.
_DESKTOP_KEYS = (
    ("Type", "Application"),
    ("Name", NAME),
    ("GenericName", "Prompt helper"),
    ("Comment", "Make prompts ready to send"),
    ("Icon", "promptready"),
    ("Terminal", "false"),
    ("Categories", "Utility;TextTools;"),
    ("StartupNotify", "false"),
)
# What the .deb puts on PATH (/usr/bin/promptready → /opt/promptready/PromptReady).
MENU_COMMAND = ("promptready",)


def desktop_entry(command: Sequence[str], *, autostart: bool) -> str:
    """A freedesktop entry that runs ``command``: the login entry, or the application menu's."""
    exec_line = " ".join(f'"{part}"' if " " in part else part for part in command)
    keys = [*_DESKTOP_KEYS[:4], ("Exec", exec_line), *_DESKTOP_KEYS[4:]]
    if autostart:
        keys.append(("X-GNOME-Autostart-enabled", "true"))
    return "[Desktop Entry]\n" + "".join(f"{key}={value}\n" for key, value in keys)


def _desktop_file() -> str:
    return desktop_entry(_command(), autostart=True)


def _mac_plist() -> str:
    args = "".join(f"<string>{part}</string>" for part in _command())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<plist version="1.0"><dict>'
        "<key>Label</key><string>app.promptready</string>"
        f"<key>ProgramArguments</key><array>{args}</array>"
        "<key>RunAtLoad</key><true/>"
        "</dict></plist>\n"
    )


_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"

if sys.platform == "win32":
    import subprocess
    import winreg

    def _windows_value() -> str | None:
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
                value, _ = winreg.QueryValueEx(key, NAME)
        except OSError:
            return None
        return str(value)

    def _set_windows(enabled: bool) -> None:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            if enabled:
                command = subprocess.list2cmdline(_command())
                winreg.SetValueEx(key, NAME, 0, winreg.REG_SZ, command)
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, NAME)

else:

    def _windows_value() -> str | None:
        return None

    def _set_windows(enabled: bool) -> None:
        raise OSError("the Windows registry exists only on Windows")


if __name__ == "__main__":
    sys.stdout.write(desktop_entry(MENU_COMMAND, autostart=False))
