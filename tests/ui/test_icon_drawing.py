"""The icon's drawing: a whole "P", and the packaged icons drawn from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from promptready.ui.icon_drawing import WHITE, draw_icon

PACKAGING = Path(__file__).resolve().parents[2] / "packaging" / "linux" / "icons" / "hicolor"


def test_the_letter_is_white_where_its_stem_meets_its_bowl(qapp: QApplication) -> None:
    image = draw_icon(256).toImage()
    # Inside the stem, level with the bowl's top bar: a path holding both shapes left this hole.
    assert QColor(image.pixel(int(256 * 0.30), int(256 * 0.28))) == WHITE


@pytest.mark.parametrize("size", [16, 48, 256])
def test_the_packaged_icons_are_the_drawn_one(qapp: QApplication, size: int) -> None:
    packaged = QImage(str(PACKAGING / f"{size}x{size}" / "apps" / "promptready.png"))
    drawn = draw_icon(size).toImage()
    fmt = QImage.Format.Format_ARGB32
    assert packaged.convertToFormat(fmt) == drawn.convertToFormat(fmt), (
        "the drawing changed: run packaging/make_icons.py"
    )
