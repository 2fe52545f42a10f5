"""Add or edit a custom OpenAI-compatible provider: name, base URL, key and default model;
Test asks the provider for its models and offers them to pick from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from promptready.errors import PromptReadyError
from promptready.secrets import ApiKey, check_provider_name
from promptready.settings import check_base_url
from promptready.ui.context import DesktopContext
from promptready.ui.tasks import spawn


class CustomProviderDialog(QDialog):
    """One custom provider's fields; ``accepted`` means they were checked and may be saved."""

    def __init__(
        self,
        context: DesktopContext,
        name: str = "",
        base_url: str = "",
        model: str = "",
        has_key: bool = False,
    ) -> None:
        super().__init__()
        self.context = context
        self.editing = bool(name)
        self.setWindowTitle(f"Edit {name}" if name else "Add a provider")
        self.name = QLineEdit(name, placeholderText="e.g. mylab")
        self.name.setReadOnly(self.editing)  # the key in the keyring is stored under the name
        self.base_url = QLineEdit(base_url, placeholderText="https://host/v1")
        self.key = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText(
            "Leave empty to keep the saved key" if has_key else "Paste the key (if it needs one)"
        )
        self.model = QComboBox(editable=True)
        self.model.setEditText(model)
        self.model.setPlaceholderText("Test lists the models to choose from")
        self.test_button = QPushButton("Test")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.test)
        self.verdict = QLabel(wordWrap=True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Base URL", self.base_url)
        form.addRow("Key", self.key)
        form.addRow("Default model", self.model)
        form.addRow("", self.test_button)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.check_and_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Any service that speaks the OpenAI API (a local server too)."))
        layout.addLayout(form)
        layout.addWidget(self.verdict)
        layout.addWidget(self.buttons)
        self._testing = False

    def entered_key(self) -> ApiKey | None:
        """The key typed in, or None to keep (or go without) a key."""
        return ApiKey(self.key.text()) if self.key.text().strip() else None

    def checked_fields(self) -> tuple[str, str]:
        """The name and base URL, or PromptReadyError saying what to fix."""
        name = check_provider_name(self.name.text().strip())
        if not self.editing:
            from promptready.providers.presets import presets

            if name in presets():
                raise PromptReadyError(f"{name} is a built-in provider; choose another name.")
            if name in self.context.settings.ai.custom_providers:
                raise PromptReadyError(f"There is already a provider named {name}.")
        return name, check_base_url(self.base_url.text())

    def test(self) -> None:
        """Ask the provider for its models with the key given (the button keeps the focus)."""
        if self._testing:
            return
        try:
            name, url = self.checked_fields()
            key = self.entered_key()
        except PromptReadyError as exc:
            self.verdict.setText(str(exc))
            return
        self._testing = True
        self.verdict.setText(f"Asking {name} for its models…")
        spawn(self._test(name, url, key))

    async def _test(self, name: str, url: str, key: ApiKey | None) -> None:
        try:
            check = await self.context.test_provider(name, url, key)
        except PromptReadyError as exc:
            self.verdict.setText(str(exc))
            return
        finally:
            self._testing = False
        self.verdict.setText(check.message)
        if check.models:
            chosen = self.model.currentText()
            self.model.clear()
            self.model.addItems(list(check.models))
            self.model.setEditText(chosen if chosen else check.models[0])

    def check_and_accept(self) -> None:
        try:
            self.checked_fields()
            self.entered_key()
        except PromptReadyError as exc:
            self.verdict.setText(str(exc))
            return
        self.accept()
