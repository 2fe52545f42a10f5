"""How the app icon is drawn: a rounded blue tile, a white "P" and a spark, in shapes only (a
font's "P" would load the font database). ``python -m promptready.ui.icon_drawing`` writes the
PNGs the app ships (``ui.icons``)."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPixmap

from promptready.ui.icons import SIZES, icon_file

ACCENT = QColor("#3d6df2")
BUSY = QColor("#f29d3d")
TRANSPARENT = QColor(0, 0, 0, 0)
WHITE = QColor(255, 255, 255)


def letter_p(size: float) -> tuple[QPainterPath, QPainterPath, QPainterPath]:
    """A bold "P" for an icon of ``size`` px, in the icon's left half: the bowl and the stem to
    fill, then the bowl's hole to fill with the background (cheaper than path arithmetic). The
    bowl and stem are separate paths: one path holding both would leave their overlap unfilled
    (a path's default fill rule is odd-even)."""
    left, top, bottom = size * 0.27, size * 0.25, size * 0.74
    stem_width, radius = size * 0.12, size * 0.155
    centre_x, centre_y = left + size * 0.19, top + radius
    stem = QPainterPath()
    stem.addRect(QRectF(left, top, stem_width, bottom - top))
    bowl = _bowl(left, centre_x, centre_y, radius)
    return bowl, stem, _bowl(left + stem_width, centre_x, centre_y, radius - stem_width)


def _bowl(left: float, centre_x: float, centre_y: float, radius: float) -> QPainterPath:
    """From ``left`` to a half circle on the right, top to bottom."""
    bowl = QPainterPath()
    bowl.moveTo(left, centre_y - radius)
    bowl.lineTo(centre_x, centre_y - radius)
    bowl.arcTo(
        QRectF(centre_x - radius, centre_y - radius, 2 * radius, 2 * radius), 90, -180
    )  # clockwise round the right side
    bowl.lineTo(left, centre_y + radius)
    bowl.closeSubpath()
    return bowl


def spark(size: float) -> QPainterPath:
    """The small four-pointed spark at the top right: "ready"."""
    path = QPainterPath()
    cx, cy, r = size * 0.76, size * 0.26, size * 0.13
    path.moveTo(cx, cy - r)
    path.quadTo(cx, cy, cx + r, cy)
    path.quadTo(cx, cy, cx, cy + r)
    path.quadTo(cx, cy, cx - r, cy)
    path.quadTo(cx, cy, cx, cy - r)
    return path


def draw_icon(size: int, busy: bool = False) -> QPixmap:
    """The icon at ``size`` px; ``busy`` tints it orange."""
    pixmap = QPixmap(size, size)
    pixmap.fill(TRANSPARENT)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.06
    tile = QPainterPath()
    tile.addRoundedRect(
        QRectF(margin, margin, size - 2 * margin, size - 2 * margin), size * 0.22, size * 0.22
    )
    background = BUSY if busy else ACCENT
    painter.fillPath(tile, background)
    bowl, stem, hole = letter_p(size)
    painter.fillPath(bowl, WHITE)
    painter.fillPath(hole, background)
    painter.fillPath(stem, WHITE)
    painter.fillPath(spark(size), WHITE)
    painter.end()
    return pixmap


def redraw_files() -> None:
    """Write the icon's PNGs from ``draw_icon`` (after a change to the drawing)."""
    for size in SIZES:
        if not draw_icon(size).save(str(icon_file(size)), "PNG"):
            raise OSError(f"could not write {icon_file(size)}")


if __name__ == "__main__":
    from PySide6.QtGui import QGuiApplication

    application = QGuiApplication([])  # painting needs one
    redraw_files()
