"""Recent enhancements beside the popup: search, favourites, and reopen one."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from promptready.history import HistoryEntry
from promptready.ui.context import DesktopContext

STAR = "★"


class HistoryPanel(QWidget):
    """A searchable list of past enhancements; activating one emits it."""

    chosen = Signal(object)  # HistoryEntry

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.search = QLineEdit(placeholderText="Search history")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.favourites = QCheckBox("Favourites only")
        self.favourites.toggled.connect(self.refresh)
        self.items = QListWidget()
        self.items.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.items.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.items.setAlternatingRowColors(True)
        self.items.setSpacing(2)
        self.items.itemActivated.connect(self._on_activated)
        self.star = QPushButton(f"{STAR} Favourite")
        self.star.setToolTip("Star or unstar the selected entry")
        self.star.clicked.connect(self.toggle_favourite)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>History</b>"))
        layout.addWidget(self.search)
        layout.addWidget(self.items, 1)
        row = QHBoxLayout()
        row.addWidget(self.favourites)
        row.addStretch()
        row.addWidget(self.star)
        layout.addLayout(row)

    def refresh(self) -> None:
        """Reload the list from the history file."""
        self.items.clear()
        if not self.context.settings.desktop.keep_history:
            self.items.addItem("History is off (Settings → Privacy).")
            return
        for entry in self.context.history.search(self.search.text(), self.favourites.isChecked()):
            mark = f"{STAR} " if entry.favourite else ""
            item = QListWidgetItem(f"{mark}{entry.title}\n{entry.ts:%d %b %H:%M} · {entry.mode}")
            item.setData(Qt.ItemDataRole.UserRole, entry)
            self.items.addItem(item)

    def selected(self) -> HistoryEntry | None:
        item = self.items.currentItem()
        entry = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return entry if isinstance(entry, HistoryEntry) else None

    def toggle_favourite(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.context.history.set_favourite(entry.id, not entry.favourite)
            self.refresh()

    def _on_activated(self, item: QListWidgetItem) -> None:
        entry = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(entry, HistoryEntry):
            self.chosen.emit(entry)
