"""The last calls as a sortable table model over ledger rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from promptready.ledger.records import PAID_IN_CREDITS, paid_usd
from promptready.ui.wording import count, dollars

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """A header, how a row shows in it, and how it sorts."""

    title: str
    show: Callable[[dict[str, Any]], str]
    key: Callable[[dict[str, Any]], Any]


def _when(row: dict[str, Any]) -> str:
    return datetime.fromisoformat(row["ts"]).astimezone().strftime("%Y-%m-%d %H:%M")


def _ms(row: dict[str, Any]) -> str:
    return "" if row["latency_ms"] is None else f"{row['latency_ms']:.0f} ms"


def _cost(row: dict[str, Any]) -> str:
    # A call paid in credits shows its credits; its stored dollars are a budget's, not a charge.
    if row["mode"] == PAID_IN_CREDITS:
        return count(row["credits"] or 0, "credit")
    return dollars(paid_usd(row))


COLUMNS = (
    Column("When", _when, lambda r: r["ts"]),
    Column("Source", lambda r: r["source"], lambda r: r["source"]),
    Column("App", lambda r: r["app"] or "", lambda r: r["app"] or ""),
    Column("Mode", lambda r: r["mode"], lambda r: r["mode"]),
    Column("Model", lambda r: r["model"] or "", lambda r: r["model"] or ""),
    Column("In", lambda r: str(r["prompt_tokens"]), lambda r: r["prompt_tokens"]),
    Column("Out", lambda r: str(r["completion_tokens"]), lambda r: r["completion_tokens"]),
    Column("Cost", _cost, lambda r: (paid_usd(r), r["credits"] or 0)),
    Column("Latency", _ms, lambda r: r["latency_ms"] or 0.0),
    Column("Status", lambda r: r["status"], lambda r: r["status"]),
)
RIGHT_ALIGNED = {"In", "Out", "Cost", "Latency"}


class CallsModel(QAbstractTableModel):
    """Rows as ``Ledger.last`` returns them; sorting is done here, on typed values."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.show(self.rows[index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole and column.title in RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802 - Qt's name
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self.rows.sort(key=COLUMNS[column].key, reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()
