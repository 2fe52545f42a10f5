"""The usage window: this month's spend, three charts (enhancements, tokens, money or credits),
the last calls and a CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from promptready.errors import PromptReadyError
from promptready.ledger.store import Total
from promptready.ui.context import DesktopContext
from promptready.ui.icons import app_icon
from promptready.ui.usage.calls_model import CallsModel
from promptready.ui.usage.charts import Bar, BarChart, money
from promptready.ui.usage.measures import MEASURES, Measure
from promptready.ui.wording import count

LAST_CALLS = 200


class UsageWindow(QWidget):
    """What calls cost, from the ledger."""

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("PromptReady usage")
        self.setWindowIcon(app_icon())
        self.resize(980, 720)
        self.spend = QLabel()
        self.spend.setProperty("role", "headline")  # sized by the app's style sheet
        self.summary = QLabel()
        self.measure = self._measure_picker()
        self._days: list[Total | None] = []
        self._models: list[Total] = []
        self._apps: list[Total] = []
        self.daily = BarChart("This month, by day", columns=True)
        self.by_model = BarChart("By model")
        self.by_app = BarChart("By app")
        self.model = CallsModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel()
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        export = QPushButton("Export CSV…")
        export.clicked.connect(self.choose_export)
        header = QHBoxLayout()
        header.addWidget(self.spend)
        header.addWidget(self.summary, 1)
        header.addWidget(QLabel("Chart:"))
        header.addWidget(self.measure)
        header.addWidget(refresh)
        header.addWidget(export)
        charts = QGridLayout()
        charts.addWidget(self.daily, 0, 0, 1, 2)
        charts.addWidget(self.by_model, 1, 0)
        charts.addWidget(self.by_app, 1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(charts, 2)
        last = QLabel(f"Last {LAST_CALLS} calls")
        last.setProperty("role", "title")
        layout.addWidget(last)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.message)

    def _measure_picker(self) -> QComboBox:
        picker = QComboBox()
        picker.setAccessibleName("Chart")
        picker.addItems([measure.name for measure in MEASURES])
        picker.currentIndexChanged.connect(self._draw)
        return picker

    def refresh(self, today: date | None = None) -> None:
        """Reload everything from the ledger."""
        today = today or datetime.now(UTC).date()
        first = today.replace(day=1)
        try:
            ledger = self.context.ledger
            spent = ledger.month_spend(today)
            days = {t.key: t for t in ledger.totals("day", since=first, until=today)}
            models = ledger.totals("model", since=first, until=today)
            apps = ledger.totals("app", since=first, until=today)
            rows = ledger.last(LAST_CALLS)
        except PromptReadyError as exc:
            self.message.setText(str(exc))
            return
        calls = sum(t.calls for t in days.values())
        credits = sum(t.credits for t in days.values())
        self.spend.setText(f"{money(spent)} this month")
        paid = f", {count(credits, 'credit')}" if credits else ""
        self.summary.setText(f"  {count(calls, 'enhancement')}{paid} since {first:%d %B}")
        self._days = [days.get(first.replace(day=n).isoformat()) for n in range(1, today.day + 1)]
        self._models, self._apps = models, apps
        self._draw()
        self.model.set_rows(rows)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)

    @property
    def shown(self) -> Measure:
        """The measure the charts plot."""
        return MEASURES[max(self.measure.currentIndex(), 0)]

    def _draw(self) -> None:
        measure = self.shown
        daily = [
            Bar(str(number), measure.value(t) if t else Decimal(0))
            for number, t in enumerate(self._days, start=1)
        ]
        self.daily.set_bars(daily, measure.label, measure.empty)
        by_model = [Bar(_model_label(t.key), measure.value(t)) for t in self._models]
        self.by_model.set_bars(by_model, measure.label, measure.empty)
        by_app = [Bar(_app_label(t.key), measure.value(t)) for t in self._apps]
        self.by_app.set_bars(by_app, measure.label, measure.empty)

    def choose_export(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "Export usage", str(Path.home() / "promptready-usage.csv"), "CSV (*.csv)"
        )
        if target:
            self.export_csv(Path(target))

    def export_csv(self, path: Path) -> int:
        """Every ledger row as CSV at ``path``; returns the row count."""
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                count = self.context.ledger.export_to("csv", out)
        except (OSError, PromptReadyError) as exc:
            self.message.setText(f"Could not export ({exc}); choose another folder.")
            return 0
        self.message.setText(f"Exported {count} calls to {path}.")
        return count


def _app_label(key: str) -> str:
    return "(popup and CLI)" if key == "-" else key


def _model_label(key: str) -> str:
    return "(offline)" if key == "-" else key
