"""AI keys: one masked entry per provider, stored in the keyring, tested with one cheap call;
plus the default provider, model and a separate (cheaper) enhance model."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from promptready.errors import PromptReadyError
from promptready.secrets import ApiKey, SecretStore
from promptready.setting_edits import forget_custom_provider, with_custom_provider
from promptready.settings import Settings
from promptready.ui.context import DesktopContext
from promptready.ui.settings.custom_provider import CustomProviderDialog
from promptready.ui.settings.tab import SettingsTab
from promptready.ui.tasks import spawn

FIRST_WITH_KEY = "(the first with a key)"


class KeysTab(SettingsTab):
    """Provider keys and the AI model choices."""

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.store = SecretStore()
        self.providers = QTreeWidget()
        self.providers.setHeaderLabels(["Provider", "Key"])
        self.providers.setRootIsDecorated(False)
        self.providers.setColumnWidth(0, 200)
        self.providers.currentItemChanged.connect(self._on_provider)
        self.key = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.key.returnPressed.connect(self.save_key)
        self.save_button = QPushButton("Save key")
        self.save_button.clicked.connect(self.save_key)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.ask_remove)
        self.test_button = QPushButton("Test")
        self.test_button.clicked.connect(self.test_key)
        self.dialog: CustomProviderDialog | None = None
        self.confirm: QMessageBox | None = None
        self._testing = False
        self.verdict = QLabel(wordWrap=True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.warning = QLabel(wordWrap=True)
        self.warning.setProperty("role", "warning")  # coloured by the app's style sheet
        self.provider = QComboBox()
        self.model = QLineEdit(placeholderText="the provider's default model")
        self.enhance_model = QLineEdit(placeholderText="the default model")
        self._lay_out()

    @property
    def testing(self) -> bool:
        """A key test is running."""
        return self._testing

    def _lay_out(self) -> None:
        self.add_button = QPushButton("Add provider…")
        self.add_button.clicked.connect(self.add_provider)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit_provider)
        self.key_box = key_box = QGroupBox("Key")
        key_layout = QVBoxLayout(key_box)
        key_layout.addWidget(self.key)
        buttons = QHBoxLayout()
        for button in (self.save_button, self.test_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch()
        key_layout.addLayout(buttons)
        key_layout.addWidget(self.verdict)
        key_layout.addStretch()
        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.providers, 1)
        custom_row = QHBoxLayout()
        custom_row.addWidget(self.add_button)
        custom_row.addWidget(self.edit_button)
        custom_row.addStretch()
        left.addLayout(custom_row)
        top.addLayout(left, 5)
        top.addWidget(key_box, 4)
        models = QGroupBox("Models")
        form = QFormLayout(models)
        form.addRow("Default provider", self.provider)
        form.addRow("Default model", self.model)
        form.addRow("Enhance model", self.enhance_model)
        form.addRow(
            QLabel("A cheaper model for enhancing prompts, e.g. groq/llama-3.1-8b-instant.")
        )
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Keys stay in your system keyring and go only to their provider."))
        layout.addWidget(self.warning)
        layout.addLayout(top, 1)
        layout.addWidget(models)

    def load(self, settings: Settings) -> None:
        configs = self.context.engine.registry.configs()
        self.provider.clear()
        self.provider.addItem(FIRST_WITH_KEY, "")
        for name, config in configs.items():
            self.provider.addItem(config.title, name)
        self.provider.setCurrentIndex(max(0, self.provider.findData(settings.ai.provider)))
        self.model.setText(settings.ai.model)
        self.enhance_model.setText(settings.ai.enhance_model)
        self.refresh_keys()

    def apply(self, settings: Settings) -> Settings:
        ai = dataclasses.replace(
            settings.ai,
            provider=str(self.provider.currentData() or ""),
            model=self.model.text().strip(),
            enhance_model=self.enhance_model.text().strip(),
        )
        return dataclasses.replace(settings, ai=ai)

    def refresh_keys(self) -> None:
        """The provider list with each stored key's last four characters."""
        current = self.current_provider()
        self.providers.clear()
        try:
            self.warning.setText(self.store.info().warning or "")
            for name, config in self.context.engine.registry.configs().items():
                key = self.store.get_key(name) if config.needs_key else None
                state = (
                    key.masked() if key else ("no key needed" if not config.needs_key else "no key")
                )
                item = QTreeWidgetItem([config.title, state])
                item.setData(0, Qt.ItemDataRole.UserRole, name)
                self.providers.addTopLevelItem(item)
                if name == current:
                    self.providers.setCurrentItem(item)
        except PromptReadyError as exc:
            self.warning.setText(str(exc))
        first = self.providers.topLevelItem(0)
        if self.providers.currentItem() is None and first is not None:
            self.providers.setCurrentItem(first)

    def current_provider(self) -> str:
        item = self.providers.currentItem()
        return str(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else ""

    def select(self, provider: str) -> None:
        for row in range(self.providers.topLevelItemCount()):
            item = self.providers.topLevelItem(row)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == provider:
                self.providers.setCurrentItem(item)

    def _on_provider(self) -> None:
        item = self.providers.currentItem()
        title = item.text(0) if item is not None else ""
        self.key_box.setTitle(f"{title} key" if title else "Key")
        self.edit_button.setEnabled(self.current_provider() in self._custom())
        self.key.clear()
        self.key.setPlaceholderText(f"Paste a new {title} key" if title else "")
        self.verdict.clear()

    def save_key(self) -> None:
        name = self.current_provider()
        try:
            key = ApiKey(self.key.text())
            self.store.set_key(name, key)
        except PromptReadyError as exc:
            self.verdict.setText(str(exc))
            return
        finally:
            self.key.clear()  # the key never lingers in the widget
        self.context.refresh_engine()  # providers cache their key
        self.refresh_keys()
        self.verdict.setText(f"Saved the {name} key ({key.masked()}). Test it to be sure.")

    def _custom(self) -> dict[str, str]:
        return self.context.settings.ai.custom_providers

    def ask_remove(self) -> None:
        """Ask before deleting anything: a key cannot be shown again, only pasted again."""
        name = self.current_provider()
        if not name:
            return
        what = (
            f"the custom provider {name} and its key"
            if name in self._custom()
            else f"the {name} key from your keyring"
        )
        self.confirm = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove?",
            f"Remove {what}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        self.confirm.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirm.accepted.connect(lambda: self.remove_key(name))
        self.confirm.open()

    def remove_key(self, name: str) -> None:
        """Delete the key for ``name``; a custom provider goes from the settings too."""
        try:
            removed = self.store.delete_key(name)
        except PromptReadyError as exc:
            self.verdict.setText(str(exc))
            return
        if name in self._custom():
            self.context.reload_settings()
            self.context.save_settings(forget_custom_provider(self.context.settings, name))
            self.load(self.context.settings)
            self.verdict.setText(f"Removed the provider {name}.")
            return
        self.context.refresh_engine()
        self.refresh_keys()
        self.verdict.setText(f"Removed the {name} key." if removed else f"There was no {name} key.")

    def add_provider(self) -> None:
        self._open_dialog(CustomProviderDialog(self.context))

    def edit_provider(self) -> None:
        name = self.current_provider()
        if name not in self._custom():
            return
        self._open_dialog(
            CustomProviderDialog(
                self.context,
                name,
                self._custom()[name],
                self.context.settings.ai.custom_models.get(name, ""),
                has_key=self.store.get_key(name) is not None,
            )
        )

    def _open_dialog(self, dialog: CustomProviderDialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._save_provider(dialog))
        dialog.open()

    def _save_provider(self, dialog: CustomProviderDialog) -> None:
        """Store the dialog's provider at once, like a key (the window's Save is not needed)."""
        try:
            name, url = dialog.checked_fields()
            key = dialog.entered_key()
            if key is not None:
                self.store.set_key(name, key)
            self.context.reload_settings()
            self.context.save_settings(
                with_custom_provider(self.context.settings, name, url, dialog.model.currentText())
            )
        except (PromptReadyError, OSError) as exc:
            self.verdict.setText(f"Could not save the provider: {exc}")
            return
        self.load(self.context.settings)
        self.select(name)
        self.verdict.setText(f"Saved the provider {name}.")

    def test_key(self) -> None:
        # The button stays enabled (a disabled button gives the focus away); a flag ignores
        # presses while a test runs.
        if self._testing:
            return
        name = self.current_provider()
        self._testing = True
        self.verdict.setText(f"Testing the {name} key…")
        spawn(self._test(name))

    async def _test(self, name: str) -> None:
        try:
            check = await self.context.test_key(name)
            self.verdict.setText(f"{check.verdict.value}: {check.message}")
        except PromptReadyError as exc:
            self.verdict.setText(str(exc))
        finally:
            self._testing = False
