"""The one style sheet every window uses: spacing, type scale, shapes and accents.

Colours come from the palette (``palette(...)``), so the same sheet serves the light and the dark
scheme; only the accents below are fixed. Widgets opt into a text role with
``setProperty("role", "...")`` instead of styling themselves; a window's main action is
``role="primary"`` (``:default`` alone only holds inside a QDialog). Check boxes are drawn here,
not by Fusion, whose box outline is the window colour darkened: invisible on the dark scheme.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptready.resources import resources_dir

ACCENT = "#3d6df2"  # the tray icon's and the charts' blue
WARNING = "#e0a030"


@dataclass(frozen=True)
class Scale:
    """Spacing and type sizes, in px: one place to change how dense the app looks."""

    gap: int = 8  # between controls
    pad: int = 6  # inside controls
    radius: int = 6
    body_pt: float = 10.0
    headline_pt: float = 16.0  # the usage window's month total
    title_pt: float = 12.0  # section titles
    small_pt: float = 9.0  # hints, captions


SCALE = Scale()


def check_image() -> str:
    """The tick of a checked box, as Qt's ``url()`` takes a file (forward slashes everywhere)."""
    return (resources_dir() / "ui" / "check.svg").as_posix()


def style_sheet(scale: Scale = SCALE) -> str:
    """The application style sheet for ``scale``."""
    s = scale
    return f"""
QWidget {{ font-size: {s.body_pt}pt; }}
QLabel[role="headline"] {{ font-size: {s.headline_pt}pt; font-weight: 600; }}
QLabel[role="title"] {{ font-size: {s.title_pt}pt; font-weight: 600; }}
QLabel[role="caption"] {{ font-size: {s.small_pt}pt; color: palette(placeholder-text); }}
QLabel[role="warning"] {{ color: {WARNING}; }}
QPushButton {{
    padding: {s.pad - 2}px {s.pad * 2}px; border-radius: {s.radius}px;
    border: 1px solid palette(mid); background: palette(button);
}}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:focus {{ border: 1px solid {ACCENT}; }}
QPushButton:checked {{
    background: palette(highlight); color: palette(highlighted-text);
    border-color: palette(highlight);
}}
QPushButton:default, QPushButton[role="primary"] {{
    background: {ACCENT}; color: #ffffff; border-color: {ACCENT};
}}
QPushButton:disabled, QPushButton[role="primary"]:disabled {{
    color: palette(placeholder-text); background: palette(window); border-color: palette(mid);
}}
QCheckBox::indicator, QGroupBox::indicator {{
    width: 14px; height: 14px; border-radius: 3px;
    border: 1px solid palette(placeholder-text); background: palette(base);
}}
QCheckBox::indicator:hover, QGroupBox::indicator:hover {{ border-color: {ACCENT}; }}
QCheckBox::indicator:checked, QGroupBox::indicator:checked {{
    background: {ACCENT}; border-color: {ACCENT}; image: url({check_image()});
}}
QCheckBox::indicator:disabled {{ background: palette(window); border-color: palette(mid); }}
QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser, QComboBox {{
    padding: {s.pad - 2}px; border: 1px solid palette(mid); border-radius: {s.radius}px;
    background: palette(base); selection-background-color: {ACCENT};
}}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QTextBrowser:focus,
QComboBox:focus {{ border: 1px solid {ACCENT}; }}
QTabWidget::pane {{ border: 1px solid palette(mid); border-radius: {s.radius}px; top: -1px; }}
QTabBar::tab {{ padding: {s.pad}px {s.pad * 2}px; border: none; }}
QTabBar::tab:selected {{ border-bottom: 2px solid {ACCENT}; font-weight: 600; }}
QTableView {{
    border: 1px solid palette(mid); border-radius: {s.radius}px; gridline-color: palette(mid);
}}
QHeaderView::section {{
    padding: {s.pad - 2}px {s.pad}px; border: none; border-bottom: 1px solid palette(mid);
    background: palette(window); font-weight: 600;
}}
QListWidget, QListView {{ border: 1px solid palette(mid); border-radius: {s.radius}px; }}
QListWidget::item, QListView::item, QTreeView::item {{ padding: {s.pad - 4}px; }}
#banner {{
    background: palette(alternate-base); border: 1px solid {WARNING};
    border-radius: {s.radius}px;
}}
"""
