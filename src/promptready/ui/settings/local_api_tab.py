"""Local API: on/off, port, app tokens (created, copied once, revoked), per-app budgets and an
OpenAI SDK snippet to copy."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from promptready.errors import ConfigError, PromptReadyError
from promptready.settings import Settings
from promptready.ui.context import DesktopContext
from promptready.ui.settings.tab import SettingsTab
from promptready.ui.tasks import spawn

if TYPE_CHECKING:
    from promptready.local_api import AppLimits

NO_LIMIT = "no limit"


def parse_budget(label: str, raw: str) -> Decimal | None:
    """A USD amount, or None for an empty field."""
    if not raw.strip():
        return None
    try:
        value = Decimal(raw.strip().lstrip("$"))
    except InvalidOperation:
        raise ConfigError(f"The {label} budget must be an amount like 5.00.") from None
    if not value.is_finite() or value < 0:
        raise ConfigError(f"The {label} budget must be zero or more.")
    return value


VISIBLE_APPS = 4  # rows the apps table shows at the least


def table_height(table: QTableWidget, rows: int) -> int:
    """The height that shows the header and ``rows`` rows of ``table`` without scrolling."""
    header = table.horizontalHeader().sizeHint().height()
    return header + rows * table.verticalHeader().defaultSectionSize() + 2 * table.frameWidth()


class LocalApiTab(SettingsTab):
    """The loopback gateway and the apps that may call it."""

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.enabled = QCheckBox("Run the local OpenAI-compatible API while PromptReady runs")
        self.port = QSpinBox(minimum=1, maximum=65535)
        self.state = QLabel()
        self.apps = QTableWidget(0, 4)
        self.apps.setHorizontalHeaderLabels(["App", "Created", "Day budget", "Month budget"])
        self.apps.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.apps.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.apps.horizontalHeader().setStretchLastSection(True)
        self.apps.verticalHeader().hide()
        self.apps.setMinimumHeight(table_height(self.apps, VISIBLE_APPS))
        self.apps.itemSelectionChanged.connect(self._on_app_selected)
        self.name = QLineEdit(placeholderText="e.g. editor")
        self.day = QLineEdit(placeholderText=NO_LIMIT)
        self.month = QLineEdit(placeholderText=NO_LIMIT)
        self.create_button = QPushButton("Create token")
        self.create_button.clicked.connect(self.create_token)
        self.budgets_button = QPushButton("Save budgets")
        self.budgets_button.clicked.connect(self.save_budgets)
        self.revoke_button = QPushButton("Revoke")
        self.revoke_button.clicked.connect(self.revoke)
        self.message = QLabel(wordWrap=True)
        self.token = QLineEdit(readOnly=True)
        self.copy_token = QPushButton("Copy token")
        self.copy_token.clicked.connect(lambda: self._copy(self.token.text()))
        self.snippet = QPlainTextEdit(readOnly=True)
        self.snippet.setFont(QFont("monospace"))
        self.snippet.setFixedHeight(150)
        self.models = QLabel("Models: not read yet.", wordWrap=True)
        self.models_task: asyncio.Task[None] | None = None  # the newest listing
        self.models.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_snippet = QPushButton("Copy snippet")
        self.copy_snippet.clicked.connect(lambda: self._copy(self.snippet.toPlainText()))
        self._lay_out()
        self._show_token("")

    def _lay_out(self) -> None:
        server = QHBoxLayout()
        server.addWidget(self.enabled)
        server.addStretch()
        server.addWidget(QLabel("Port"))
        server.addWidget(self.port)
        apps = QGroupBox("Apps")
        apps_layout = QVBoxLayout(apps)
        apps_layout.addWidget(self.apps, 1)  # the table takes what the window grows by
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Daily budget (USD)", self.day)
        form.addRow("Monthly budget (USD)", self.month)
        apps_layout.addLayout(form)
        buttons = QHBoxLayout()
        for button in (self.create_button, self.budgets_button, self.revoke_button):
            buttons.addWidget(button)
        buttons.addStretch()
        apps_layout.addLayout(buttons)
        apps_layout.addWidget(self.message)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.copy_token)
        apps_layout.addLayout(token_row)
        snippet = QGroupBox("Use it from the OpenAI SDK")
        snippet_layout = QVBoxLayout(snippet)
        snippet_layout.addWidget(self.models)
        snippet_layout.addWidget(self.snippet)
        snippet_layout.addWidget(self.copy_snippet, 0, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.addLayout(server)
        layout.addWidget(self.state)
        layout.addWidget(apps, 1)
        layout.addWidget(snippet)

    def load(self, settings: Settings) -> None:
        self.enabled.setChecked(settings.gateway.enabled)
        self.port.setValue(settings.gateway.port)
        self.refresh_state()
        self._show_token("")
        self.refresh_apps()

    def refresh_state(self, token: str = "") -> None:
        """Whether the local API answers now (here, or in ``promptready serve``), and the SDK
        snippet with the newest token and a model that has a key."""
        from promptready.local_api import sdk_snippet

        port = self.context.settings.gateway.port
        url = self.context.local_api.url
        if url:
            self.state.setText(f"Running at {url}")
        elif _listening(port):
            url = f"http://127.0.0.1:{port}"
            self.state.setText(f"Running at {url} (started outside this window).")
        else:
            self.state.setText("Not running: tick the box above and Save to start it.")
        target = self.context.ai_target()
        model = target.label if target.problem is None else "promptready/offline"
        self.snippet.setPlainText(
            sdk_snippet(url or f"http://127.0.0.1:{port}", token or "pr-...", model)
        )

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh_state(self.token.text())
        self.models_task = spawn(self.list_models())

    async def list_models(self) -> None:
        """Show the models local apps may name: every provider's with a key, or the credit
        service's (``credits/...``) for a user of credits."""
        try:
            names = await self.context.engine.registry.model_ids()
        except PromptReadyError as exc:
            self.models.setText(f"Models: {exc}")
            return
        self.models.setText(
            f"Models: {', '.join(names)}" if names else "Models: none yet (add a key first)."
        )

    def apply(self, settings: Settings) -> Settings:
        gateway = dataclasses.replace(
            settings.gateway, enabled=self.enabled.isChecked(), port=self.port.value()
        )
        return dataclasses.replace(settings, gateway=gateway)

    def refresh_apps(self) -> None:
        try:
            apps = self.context.local_api.apps()
        except PromptReadyError as exc:
            self.message.setText(str(exc))
            return
        self.apps.setRowCount(len(apps))
        for row, app in enumerate(apps):
            cells = (
                app.name,
                f"{app.created:%Y-%m-%d}",
                _money(app.limits.budget_usd_day),
                _money(app.limits.budget_usd_month),
            )
            for column, text in enumerate(cells):
                self.apps.setItem(row, column, QTableWidgetItem(text))

    def _limits(self, base: AppLimits | None = None) -> AppLimits:
        from promptready.local_api import AppLimits

        return dataclasses.replace(
            base or AppLimits(),
            budget_usd_day=parse_budget("daily", self.day.text()),
            budget_usd_month=parse_budget("monthly", self.month.text()),
        )

    def create_token(self) -> None:
        try:
            app, token = self.context.local_api.create(self.name.text().strip(), self._limits())
        except PromptReadyError as exc:
            self.message.setText(str(exc))
            return
        self.refresh_apps()
        self._show_token(token)
        self.refresh_state(token)
        self.message.setText(f"Created {app.name}. Copy its token now: it is shown only once.")

    def save_budgets(self) -> None:
        name = self.name.text().strip()
        try:
            found = {a.name: a for a in self.context.local_api.apps()}
            if name not in found:
                raise ConfigError(f"There is no app named {name}; create it first.")
            self.context.local_api.update(name, self._limits(found[name].limits))
        except PromptReadyError as exc:
            self.message.setText(str(exc))
            return
        self.refresh_apps()
        self.message.setText(f"Saved the budgets of {name}.")

    def revoke(self) -> None:
        name = self.name.text().strip()
        try:
            revoked = self.context.local_api.revoke(name)
        except PromptReadyError as exc:
            self.message.setText(str(exc))
            return
        self.refresh_apps()
        self._show_token("")
        self.message.setText(
            f"Revoked {name}: its token stops working within a second."
            if revoked
            else f"There is no app named {name}."
        )

    def _on_app_selected(self) -> None:
        row = self.apps.currentRow()
        cells = [self.apps.item(row, column) for column in range(4)] if row >= 0 else []
        if not cells or any(cell is None for cell in cells):
            return
        name, _, day, month = (cell.text() for cell in cells if cell is not None)
        self.name.setText(name)
        for field, text in ((self.day, day), (self.month, month)):
            field.setText("" if text == NO_LIMIT else text.lstrip("$"))

    def _show_token(self, token: str) -> None:
        self.token.setText(token)
        self.token.setVisible(bool(token))
        self.copy_token.setVisible(bool(token))

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.message.setText("Copied.")

    def forget_token(self) -> None:
        """Drop the shown token (when the window closes): it is shown once only."""
        self._show_token("")


def _money(amount: Decimal | None) -> str:
    return NO_LIMIT if amount is None else f"${amount}"


def _listening(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:``port`` (a local API in another process)."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05):
            return True
    except OSError:
        return False
