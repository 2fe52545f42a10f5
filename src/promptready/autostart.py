"""Start at login: an XDG autostart entry on Linux, a LaunchAgent on macOS, a Run key on Windows.

Each entry starts ``promptready`` with no arguments (the tray app) using the interpreter that
runs now, so a venv or a bundle starts itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
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


def _desktop_file() -> str:
    exec_line = " ".join(f'"{part}"' if " " in part else part for part in _command())
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={NAME}\n"
        "Comment=Make prompts ready to send\n"
        f"Exec={exec_line}\n"
        "Icon=promptready\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


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
