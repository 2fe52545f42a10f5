"""Bar charts drawn with QPainter: a daily series (columns) and totals by model or app (rows),
of whichever measure the window shows (money, credits, enhancements or tokens)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from promptready.ui.wording import dollars

BAR = QColor("#3d6df2")


@dataclass(frozen=True)
class Bar:
    """One labelled amount."""

    label: str
    value: Decimal


money = dollars  # "$0.42", "< $0.01": one way to show money in every window


class BarChart(QWidget):
    """A titled chart; ``columns`` for a time series, rows (horizontal bars) otherwise."""

    def __init__(self, title: str, columns: bool = False) -> None:
        super().__init__()
        self.title = title
        self.columns = columns
        self.bars: list[Bar] = []
        self.label: Callable[[Decimal], str] = money
        self.empty = "No spend yet"
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(320, 200)

    def set_bars(
        self,
        bars: Sequence[Bar],
        label: Callable[[Decimal], str] = money,
        empty: str = "No spend yet",
    ) -> None:
        """Show ``bars``, their amounts written by ``label``; ``empty`` when all are zero."""
        self.bars = list(bars)
        self.label = label
        self.empty = empty
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        metrics = QFontMetrics(self.font())
        line = metrics.height()
        bold = self.font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(0, line, self.title)
        painter.setFont(self.font())
        area = QRectF(0, line * 1.6, self.width(), self.height() - line * 1.6)
        if not self.bars or max(b.value for b in self.bars) <= 0:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self.empty)
        elif self.columns:
            self._paint_columns(painter, area, metrics)
        else:
            self._paint_rows(painter, area, metrics)
        painter.end()

    def _paint_columns(self, painter: QPainter, area: QRectF, metrics: QFontMetrics) -> None:
        top = max(b.value for b in self.bars)
        label_h = metrics.height() + 2
        plot = area.adjusted(0, label_h, 0, -label_h)
        width = plot.width() / len(self.bars)
        text = self.palette().windowText().color()
        painter.setPen(text)
        painter.drawText(area.adjusted(0, 0, 0, 0), Qt.AlignmentFlag.AlignRight, self.label(top))
        for index, bar in enumerate(self.bars):
            height = float(bar.value / top) * plot.height()
            x = plot.left() + index * width
            painter.fillRect(
                QRectF(x + width * 0.15, plot.bottom() - height, width * 0.7, height), BAR
            )
            if len(self.bars) <= 12 or index % 5 == 0:
                painter.setPen(text)
                label = QRectF(x - width, plot.bottom() + 2, width * 3, label_h)
                painter.drawText(label, Qt.AlignmentFlag.AlignHCenter, bar.label)

    def _paint_rows(self, painter: QPainter, area: QRectF, metrics: QFontMetrics) -> None:
        spent = [b for b in self.bars if b.value > 0]  # the caller checked there is one
        shown = sorted(spent, key=lambda b: b.value, reverse=True)[:6]
        top = shown[0].value
        row = min(area.height() / len(shown), metrics.height() * 2.2)
        label_w = min(
            area.width() * 0.42, max(metrics.horizontalAdvance(b.label) for b in shown) + 8
        )
        value_w = max(metrics.horizontalAdvance(self.label(b.value)) for b in shown) + 8
        span = max(area.width() - label_w - value_w, 10)
        text = self.palette().windowText().color()
        for index, bar in enumerate(shown):
            y = area.top() + index * row
            painter.setPen(text)
            name = metrics.elidedText(bar.label, Qt.TextElideMode.ElideMiddle, int(label_w - 8))
            cell = QRectF(0, y, label_w - 8, row)
            painter.drawText(
                cell, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name
            )
            length = float(bar.value / top) * span
            painter.fillRect(QRectF(label_w, y + row * 0.2, length, row * 0.6), BAR)
            value = QRectF(label_w + length + 6, y, value_w, row)
            painter.drawText(value, Qt.AlignmentFlag.AlignVCenter, self.label(bar.value))
