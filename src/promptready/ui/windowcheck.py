"""The self-test's window check: every window can be built and drawn with no display."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QApplication, QWidget


def check_windows() -> str:
    """Create the popup, settings, usage and no-tray windows offscreen; returns what was made."""
    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a real display is not what is tested
        app = QApplication(["promptready-self-test"])
    from promptready.ui.context import DesktopContext
    from promptready.ui.fallback import FallbackWindow
    from promptready.ui.popup import EnhancePopup
    from promptready.ui.settings.window import SettingsWindow
    from promptready.ui.shell import Shell
    from promptready.ui.usage.window import UsageWindow

    context = DesktopContext.load()
    usage = UsageWindow(context)
    usage.refresh()
    windows: list[QWidget] = [
        EnhancePopup(context),
        SettingsWindow(context),
        usage,
        FallbackWindow(Shell(context)),
    ]
    for window in windows:
        window.adjustSize()
        if window.grab().isNull():
            raise RuntimeError(f"{type(window).__name__} could not be drawn")
        window.deleteLater()
    context.close_files()
    app.processEvents()
    names = ", ".join(type(w).__name__ for w in windows)
    return f"{names} created offscreen ({QApplication.platformName()})"
