"""Presets: browse, clone and edit your own; built-ins are read-only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from promptready.errors import PromptReadyError
from promptready.presets import FORMATS, TEXT_SLOT, Preset
from promptready.settings import Settings
from promptready.ui.context import DesktopContext
from promptready.ui.settings.tab import SettingsTab

READ_ONLY = "Built-in presets are read-only; clone one to make your own."


class PresetsTab(SettingsTab):
    """A list of presets and a form for the selected one."""

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._on_selected)
        self.name = QLineEdit()
        self.description = QLineEdit()
        self.template = QPlainTextEdit()
        self.template.setPlaceholderText(f"{TEXT_SLOT} stands for your text")
        self.tone = QLineEdit(placeholderText="e.g. friendly and concise")
        self.format = QComboBox()
        self.format.addItems(FORMATS)
        self.note = QLabel(wordWrap=True)
        self.clone_button = QPushButton("Clone")
        self.clone_button.clicked.connect(self.clone)
        self.save_button = QPushButton("Save preset")
        self.save_button.clicked.connect(self.save)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Template", self.template)
        form.addRow("Tone", self.tone)
        form.addRow("Target format", self.format)
        buttons = QHBoxLayout()
        for button in (self.clone_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch()
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons)
        right.addWidget(self.note)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(right, 2)

    def load(self, settings: Settings) -> None:
        self.refresh()

    def apply(self, settings: Settings) -> Settings:
        return settings  # presets are saved by their own button

    def refresh(self, select: str = "") -> None:
        selected = self.current()
        current = select or (selected.name if selected else "")
        self.list.clear()
        try:
            presets = self.context.presets.all()
        except PromptReadyError as exc:
            self.note.setText(str(exc))
            return
        for preset in presets:
            label = f"{preset.name}  (built-in)" if preset.builtin else preset.name
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, preset)
            self.list.addItem(item)
            if preset.name == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)

    def current(self) -> Preset | None:
        item = self.list.currentItem()
        preset = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return preset if isinstance(preset, Preset) else None

    def _on_selected(self) -> None:
        preset = self.current()
        if preset is None:
            return
        self.name.setText(preset.name)
        self.description.setText(preset.description)
        self.template.setPlainText(preset.template)
        self.tone.setText(preset.tone)
        self.format.setCurrentText(preset.format)
        for widget in (self.name, self.description, self.tone):
            widget.setReadOnly(preset.builtin)
        self.template.setReadOnly(preset.builtin)
        self.format.setEnabled(not preset.builtin)
        self.save_button.setEnabled(not preset.builtin)
        self.delete_button.setEnabled(not preset.builtin)
        self.note.setText(READ_ONLY if preset.builtin else "")

    def clone(self) -> None:
        preset = self.current()
        if preset is None:
            return
        names = {p.name for p in self.context.presets.all()}
        new_name = next(
            f"{preset.name}-copy{n or ''}"
            for n in range(100)
            if f"{preset.name}-copy{n or ''}" not in names
        )
        try:
            self.context.presets.clone(preset.name, new_name)
        except PromptReadyError as exc:
            self.note.setText(str(exc))
            return
        self.refresh(new_name)
        self._changed(f"Cloned {preset.name} as {new_name}; edit and save it.")

    def save(self) -> None:
        old = self.current()
        preset = Preset(
            name=self.name.text().strip(),
            description=self.description.text().strip(),
            template=self.template.toPlainText() or TEXT_SLOT,
            tone=self.tone.text().strip(),
            format=self.format.currentText(),
        )
        try:
            saved = self.context.presets.save(preset)
            if old is not None and not old.builtin and old.name != saved.name:
                self.context.presets.delete(old.name)  # a rename
        except PromptReadyError as exc:
            self.note.setText(str(exc))
            return
        self.refresh(saved.name)
        self._changed(f"Saved {saved.name}.")

    def delete(self) -> None:
        preset = self.current()
        if preset is None:
            return
        try:
            self.context.presets.delete(preset.name)
        except PromptReadyError as exc:
            self.note.setText(str(exc))
            return
        self.refresh()
        self._changed(f"Deleted {preset.name}.")

    def _changed(self, message: str) -> None:
        self.note.setText(message)
        self.context.settings_changed.emit()  # the popup's preset list follows
