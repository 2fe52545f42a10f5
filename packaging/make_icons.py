"""Render the app icon (ui.icon_drawing, its one source) into hicolor PNGs and a Windows .ico.

Run from the repo root: `QT_QPA_PLATFORM=offscreen python packaging/make_icons.py`; the outputs
are committed so a build needs no display.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImageWriter
from PySide6.QtWidgets import QApplication

from promptready.ui.icon_drawing import draw_icon

HERE = Path(__file__).resolve().parent
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZE = 256  # Windows scales its .ico down; 256 is the largest size an .ico entry holds


def main() -> None:
    """Write packaging/linux/icons/hicolor/NxN/apps/promptready.png and windows/promptready.ico."""
    app = QApplication.instance() or QApplication([])
    for size in SIZES:
        target = (
            HERE / "linux" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "promptready.png"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        if not draw_icon(size, busy=False).save(str(target), "PNG"):
            raise SystemExit(f"could not write {target}")
    writer = QImageWriter(str(HERE / "windows" / "promptready.ico"), b"ico")
    if not writer.write(draw_icon(ICO_SIZE, busy=False).toImage()):
        raise SystemExit(f"could not write the .ico: {writer.errorString()}")
    del app


if __name__ == "__main__":
    main()
