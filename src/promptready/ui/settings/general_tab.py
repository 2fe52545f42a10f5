"""General: offline only, output format, hotkey, start at login, theme."""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QKeySequenceEdit,
    QLabel,
    QVBoxLayout,
)

from promptready.errors import ConfigError
from promptready.settings import Settings
from promptready.ui.context import DesktopContext
from promptready.ui.hotkey import hotkey_support, pynput_hotkey
from promptready.ui.settings.tab import SettingsTab

THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
FORMATS = {"markdown": "Markdown", "text": "Plain text", "xml": "XML"}


class GeneralTab(SettingsTab):
    """App-wide behaviour."""

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.offline_only = QCheckBox("Offline only: never use AI, and hide the AI controls")
        self.format = QComboBox()
        for value, label in FORMATS.items():
            self.format.addItem(label, value)
        self.hotkey_support = hotkey_support()
        self.hotkey_enabled = QCheckBox("Open the popup with a global hotkey")
        self.hotkey = QKeySequenceEdit()
        self.hotkey.setMaximumSequenceLength(1)
        self.hotkey.setClearButtonEnabled(True)
        self.hotkey_note = QLabel(wordWrap=True)
        for widget in (self.hotkey_enabled, self.hotkey):
            widget.setEnabled(self.hotkey_support.available)
        self.hotkey.keySequenceChanged.connect(self._check_hotkey)
        self._check_hotkey()
        self.selection_enabled = QCheckBox("Enhance the selected text in any app with a hotkey")
        self.selection_hotkey = QKeySequenceEdit()
        self.selection_hotkey.setMaximumSequenceLength(1)
        self.selection_preview = QCheckBox("Show the result first (Enter pastes it)")
        for widget in (self.selection_enabled, self.selection_hotkey, self.selection_preview):
            widget.setEnabled(self.hotkey_support.available)
        self.start_at_login = QCheckBox("Start PromptReady when I log in")
        self.theme = QComboBox()
        for value, label in THEMES.items():
            self.theme.addItem(label, value)
        form = QFormLayout()
        form.addRow("Prompt format", self.format)
        form.addRow("Popup hotkey", self.hotkey)
        form.addRow("Selection hotkey", self.selection_hotkey)
        form.addRow("Theme", self.theme)
        layout = QVBoxLayout(self)
        layout.addWidget(self.offline_only)
        layout.addWidget(self.start_at_login)
        layout.addWidget(self.hotkey_enabled)
        layout.addWidget(self.selection_enabled)
        layout.addWidget(self.selection_preview)
        layout.addLayout(form)
        layout.addWidget(self.hotkey_note)
        layout.addStretch()

    def _check_hotkey(self) -> None:
        """Say why the hotkey cannot work here, or why the recorded keys cannot be one."""
        note = self.hotkey_support.reason
        sequence = self.hotkey.keySequence().toString()
        if self.hotkey_support.available and sequence:
            try:
                pynput_hotkey(sequence)
            except ConfigError as exc:
                note = str(exc)
        self.hotkey_note.setText(note)
        self.hotkey_note.setVisible(bool(note))

    def load(self, settings: Settings) -> None:
        desktop = settings.desktop
        self.offline_only.setChecked(desktop.offline_only)
        self.format.setCurrentIndex(max(0, self.format.findData(settings.enhance.format)))
        self.hotkey_enabled.setChecked(desktop.hotkey_enabled)
        self.hotkey.setKeySequence(QKeySequence(desktop.hotkey))
        self.selection_enabled.setChecked(desktop.selection_hotkey_enabled)
        self.selection_hotkey.setKeySequence(QKeySequence(desktop.selection_hotkey))
        self.selection_preview.setChecked(desktop.selection_preview)
        self.start_at_login.setChecked(desktop.start_at_login)
        self.theme.setCurrentIndex(max(0, self.theme.findData(desktop.theme)))

    def apply(self, settings: Settings) -> Settings:
        desktop = dataclasses.replace(
            settings.desktop,
            offline_only=self.offline_only.isChecked(),
            hotkey_enabled=self.hotkey_enabled.isChecked(),
            hotkey=self.hotkey.keySequence().toString() or settings.desktop.hotkey,
            selection_hotkey_enabled=self.selection_enabled.isChecked(),
            selection_hotkey=self.selection_hotkey.keySequence().toString()
            or settings.desktop.selection_hotkey,
            selection_preview=self.selection_preview.isChecked(),
            start_at_login=self.start_at_login.isChecked(),
            theme=str(self.theme.currentData()),
        )
        enhance = dataclasses.replace(settings.enhance, format=str(self.format.currentData()))
        return dataclasses.replace(settings, desktop=desktop, enhance=enhance)
