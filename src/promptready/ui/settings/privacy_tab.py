"""Privacy: whether prompt text is kept in the ledger (off by default) and in the history."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QVBoxLayout

from promptready.settings import Settings
from promptready.ui.context import DesktopContext
from promptready.ui.settings.tab import SettingsTab


class PrivacyTab(SettingsTab):
    """Two switches and a way to forget."""

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.store_prompts = QCheckBox("Store the text of each prompt in the usage ledger")
        self.keep_history = QCheckBox("Keep recent enhancements in the popup's history")
        self.clear_button = QPushButton("Clear history (keeps favourites)")
        self.clear_button.clicked.connect(self.clear_history)
        self.message = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.store_prompts)
        layout.addWidget(
            QLabel(
                "Off by default: the ledger then holds tokens, cost and timing only, never text.",
                wordWrap=True,
            )
        )
        layout.addSpacing(12)
        layout.addWidget(self.keep_history)
        layout.addWidget(
            QLabel("History stays on this computer, in the data folder.", wordWrap=True)
        )
        layout.addWidget(self.clear_button)
        layout.addWidget(self.message)
        layout.addStretch()

    def load(self, settings: Settings) -> None:
        self.store_prompts.setChecked(settings.privacy.store_prompts)
        self.keep_history.setChecked(settings.desktop.keep_history)
        self.message.clear()

    def apply(self, settings: Settings) -> Settings:
        privacy = dataclasses.replace(
            settings.privacy, store_prompts=self.store_prompts.isChecked()
        )
        desktop = dataclasses.replace(settings.desktop, keep_history=self.keep_history.isChecked())
        return dataclasses.replace(settings, privacy=privacy, desktop=desktop)

    def clear_history(self) -> None:
        removed = self.context.history.clear()
        self.message.setText(f"Removed {removed} entries.")
        self.context.settings_changed.emit()
