"""The settings window: AI keys, Local API, Presets, Privacy, General; Save writes
settings.toml through ``save_settings`` (keys and tokens save at once, on their own buttons)."""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
)

from promptready.errors import PromptReadyError
from promptready.setting_edits import merge_settings
from promptready.ui.context import DesktopContext
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.icons import app_icon
from promptready.ui.settings.credits_tab import CreditsTab
from promptready.ui.settings.general_tab import GeneralTab
from promptready.ui.settings.keys_tab import KeysTab
from promptready.ui.settings.local_api_tab import LocalApiTab
from promptready.ui.settings.presets_tab import PresetsTab
from promptready.ui.settings.privacy_tab import PrivacyTab
from promptready.ui.settings.tab import SettingsTab
from promptready.ui.theme import apply_theme


class SettingsWindow(QDialog):
    """Every setting a desktop user changes, in tabs."""

    def __init__(self, context: DesktopContext, credits: CreditsWatch | None = None) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("PromptReady settings")
        self.setWindowIcon(app_icon())
        self.resize(760, 620)
        self.keys = KeysTab(context)
        self.local_api = LocalApiTab(context)
        self.presets = PresetsTab(context)
        self.privacy = PrivacyTab(context)
        self.general = GeneralTab(context)
        self.credits = CreditsTab(
            context, credits if credits is not None else CreditsWatch(context)
        )
        self.tabs = QTabWidget()
        self.pages: dict[str, SettingsTab] = {}
        for key, title, tab in (
            ("keys", "AI keys", self.keys),
            ("local_api", "Local API", self.local_api),
            ("presets", "Presets", self.presets),
            ("privacy", "Privacy", self.privacy),
            ("general", "General", self.general),
            ("credits", "Credits", self.credits),
        ):
            self.tabs.addTab(tab, title)
            self.pages[key] = tab
        self.message = QLabel()
        save = QPushButton("Save")
        save.setDefault(True)
        save.setProperty("role", "primary")
        save.clicked.connect(self.save)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(save)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        """Show the settings as they are now."""
        self.shown = self.context.settings
        for tab in self.pages.values():
            tab.load(self.shown)
        self.message.clear()

    def show_tab(self, key: str) -> None:
        if key in self.pages:
            self.tabs.setCurrentWidget(self.pages[key])

    def save(self) -> None:
        """Write what the tabs changed onto the file as it is now: nothing the window does not
        show, and nothing changed elsewhere since it opened, is lost."""
        edited = self.shown
        for tab in self.pages.values():
            edited = tab.apply(edited)
        try:
            self.context.reload_settings()
            settings = merge_settings(self.shown, edited, self.context.settings)
            self.context.save_settings(settings)
        except (PromptReadyError, OSError) as exc:
            self.message.setText(f"Could not save the settings ({exc}); check the config folder.")
            return
        self.shown = settings
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, settings.desktop.theme)
        self.message.setText("Saved.")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.local_api.forget_token()
        super().closeEvent(event)
