"""The app icon, shipped as PNGs (``resources/ui/icon-*.png``; no SVG plugin needed).

The tray shows it before anything else at start-up (``ui.early_icon``), so start-up loads the
PNGs (about 1 ms) instead of painting: the first brush of a process initialises ``Qt``'s namespace
of enums (about 20 ms). ``ui.icon_drawing`` draws them; ``python -m promptready.ui.icon_drawing``
redraws the files after a change, and a test compares them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

from promptready.resources import resources_dir

SIZES = (16, 22, 24, 32, 48, 64, 128)


def icon_file(size: int) -> Path:
    """The shipped PNG of the icon at ``size`` px."""
    return resources_dir() / "ui" / f"icon-{size}.png"


def app_icon(busy: bool = False) -> QIcon:
    """The tray and window icon, from its PNGs; ``busy`` (drawn) tints it while an enhancement
    runs."""
    icon = QIcon()
    for size in SIZES:
        if busy:
            from promptready.ui.icon_drawing import draw_icon

            icon.addPixmap(draw_icon(size, busy))
        else:
            icon.addFile(str(icon_file(size)))
    return icon
