"""Light, dark, or whatever the system uses (the default), and the one style sheet on top.

Every window gets the Fusion style, a palette of the chosen scheme and ``ui.style``'s sheet, so
the app looks the same on X11, Windows and macOS. "system" reads the scheme Qt reports (Windows,
macOS, and Linux desktops with a platform theme or portal); on bare X11, where Qt reports none,
a ``GTK_THEME`` ending in ``:dark`` says dark. A system switch while the app runs is followed.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from promptready.ui.style import style_sheet

SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}
_DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181a",
    QPalette.ColorRole.AlternateBase: "#2a2b2e",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2d2e31",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.ToolTipBase: "#2d2e31",
    QPalette.ColorRole.ToolTipText: "#e8eaed",
    QPalette.ColorRole.Highlight: "#3d6df2",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.PlaceholderText: "#9aa0a6",
}


def dark_palette() -> QPalette:
    """The dark scheme's colours (disabled text dimmed)."""
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7378"))
    return palette


def system_scheme(hint: Qt.ColorScheme, gtk_theme: str | None) -> str:
    """``"dark"`` or ``"light"`` as the system says: Qt's hint, else GTK_THEME's variant."""
    if hint is Qt.ColorScheme.Dark:
        return "dark"
    if hint is Qt.ColorScheme.Light:
        return "light"
    return "dark" if (gtk_theme or "").lower().endswith(":dark") else "light"


def chosen_scheme(theme: str, hint: Qt.ColorScheme, gtk_theme: str | None) -> str:
    """The scheme to draw: the user's choice, or the system's for anything else."""
    return theme if theme in SCHEMES else system_scheme(hint, gtk_theme)


_THEME = "promptready_theme"  # application property: the user's choice, for system changes


def apply_theme(app: QGuiApplication, theme: str) -> None:
    """Force a colour scheme, or follow the system's (``"system"``), and style every window."""
    hints = app.styleHints()
    hints.setColorScheme(SCHEMES.get(theme, Qt.ColorScheme.Unknown))
    if not isinstance(app, QApplication):
        return
    if app.property(_THEME) is None:
        hints.colorSchemeChanged.connect(lambda _scheme: _restyle(app))
    app.setProperty(_THEME, theme)
    _restyle(app)


def _restyle(app: QApplication) -> None:
    theme = str(app.property(_THEME))
    scheme = chosen_scheme(theme, app.styleHints().colorScheme(), os.environ.get("GTK_THEME"))
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    app.setStyleSheet(style_sheet())
