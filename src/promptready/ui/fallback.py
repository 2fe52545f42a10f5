"""The small window used when the desktop has no system tray: the tray menu's actions as
buttons, the reason in one sentence, and notifications as a status line with Undo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from promptready.engine import Mode
from promptready.ui.icons import app_icon
from promptready.ui.shell import Shell, bring_forward

NO_TRAY = (
    "Your desktop has no system tray, so PromptReady runs in this small window; "
    "closing it hides it and Quit stops the app."
)


class FallbackWindow(QWidget):
    """The tray's stand-in."""

    def __init__(self, shell: Shell, reason: str = NO_TRAY) -> None:
        super().__init__()
        self.shell = shell
        self.setWindowTitle("PromptReady")
        self.setWindowIcon(app_icon())
        self.reason = QLabel(reason, wordWrap=True)
        self.reason.setObjectName("reason")
        self.status = QLabel("Ready.", wordWrap=True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote a provider
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.enhance = QPushButton("Enhance clipboard")
        self.enhance.clicked.connect(shell.enhance_clipboard)
        self.undo = QPushButton("Undo")
        self.undo.setToolTip("Put the original text back on the clipboard")
        self.undo.clicked.connect(self._undo)
        self.undo.setEnabled(False)
        self.offline = QRadioButton("Offline")
        self.ai = QRadioButton("AI")
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.offline)
        self.modes.addButton(self.ai)
        self.offline.toggled.connect(self._on_mode)

        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        row = QHBoxLayout()
        row.addWidget(self.enhance)
        row.addWidget(self.undo)
        layout.addLayout(row)
        mode_row = QHBoxLayout()
        self.mode_label = QLabel("Mode:")
        for widget in (self.mode_label, self.offline, self.ai):
            mode_row.addWidget(widget)
        mode_row.addStretch()
        layout.addLayout(mode_row)
        buttons = QHBoxLayout()
        for label, slot in (
            ("Open PromptReady…", shell.open_popup),
            ("Usage…", shell.open_usage),
            ("Settings…", shell.open_settings),
            ("Quit", shell.quit),
        ):
            button = QPushButton(label)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        shell.notified.connect(self._show_message)
        # Copying something else ends what Undo could restore.
        QGuiApplication.clipboard().dataChanged.connect(self._sync_undo)
        shell.context.settings_changed.connect(self.sync)
        self.sync()

    def bring_forward(self) -> None:
        """A second launch shows this window."""
        bring_forward(self)

    def sync(self) -> None:
        """Show the current mode; hide the AI choice for an offline-only user."""
        ai_allowed = not self.shell.context.offline_only
        for widget in (self.mode_label, self.offline, self.ai):
            widget.setVisible(ai_allowed)
        current = self.shell.context.mode()
        (self.ai if current is Mode.AI else self.offline).setChecked(True)

    def _on_mode(self) -> None:
        mode = Mode.OFFLINE if self.offline.isChecked() else Mode.AI
        if mode is not self.shell.context.mode():
            self.shell.set_mode(mode)

    def _show_message(self, title: str, message: str, undoable: bool) -> None:
        self.status.setText(f"{title}. {message}")
        self.undo.setEnabled(undoable or self.shell.clipboard.can_undo)

    def _sync_undo(self) -> None:
        self.undo.setEnabled(self.shell.clipboard.can_undo)

    def _undo(self) -> None:
        self.shell.undo_clipboard()
        self.undo.setEnabled(False)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        # Closing hides: the app keeps running, as it would in the tray.
        event.ignore()
        self.hide()
