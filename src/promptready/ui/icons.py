"""The app icon, drawn at run time so the tray needs no image file or SVG plugin."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap

ACCENT = QColor("#3d6df2")


def _draw(size: int, busy: bool) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = size * 0.06
    rect = QRectF(margin, margin, size - 2 * margin, size - 2 * margin)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#f29d3d") if busy else ACCENT)
    painter.drawRoundedRect(rect, size * 0.22, size * 0.22)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.62))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(
        rect.adjusted(0, -size * 0.03, -size * 0.08, 0), Qt.AlignmentFlag.AlignCenter, "P"
    )
    # A small spark at the top right: "ready".
    spark = QPainterPath()
    cx, cy, r = size * 0.76, size * 0.26, size * 0.13
    spark.moveTo(cx, cy - r)
    spark.quadTo(cx, cy, cx + r, cy)
    spark.quadTo(cx, cy, cx, cy + r)
    spark.quadTo(cx, cy, cx - r, cy)
    spark.quadTo(cx, cy, cx, cy - r)
    painter.setBrush(QColor("white"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawPath(spark)
    painter.end()
    return pixmap


def app_icon(busy: bool = False) -> QIcon:
    """The tray and window icon; ``busy`` tints it while an enhancement runs."""
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64, 128):
        icon.addPixmap(_draw(size, busy))
    return icon
