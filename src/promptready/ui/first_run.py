"""The first-run window: Offline, PromptReady credits or My own key, each explained in a line.
Shown once; choosing credits registers the device silently."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
)

from promptready.paths import write_private
from promptready.ui.context import DesktopContext
from promptready.ui.credits.modes import Choice, choose
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.first_run_seen import SEEN_FILE
from promptready.ui.icons import app_icon

OPTIONS: tuple[tuple[Choice, str, str], ...] = (
    (Choice.OFFLINE, "Offline (free, no account)", "Rules on this computer; nothing is sent."),
    (
        Choice.CREDITS,
        "PromptReady credits (25 free a month, no key)",
        "AI rewrites through PromptReady's service; top up when you need more.",
    ),
    (
        Choice.OWN_KEY,
        "My own key",
        "AI rewrites with your OpenAI, Anthropic or other provider key, billed by them.",
    ),
)


class FirstRunWindow(QDialog):
    """How PromptReady should enhance: the three ways, one line each."""

    wants_key = Signal()  # "My own key": open Settings → AI keys

    def __init__(self, context: DesktopContext, watch: CreditsWatch) -> None:
        super().__init__()
        self.context = context
        self.watch = watch
        self.setWindowTitle("Welcome to PromptReady")
        self.setWindowIcon(app_icon())
        self.group = QButtonGroup(self)
        self.buttons: dict[Choice, QRadioButton] = {}
        column = QVBoxLayout(self)
        column.addWidget(QLabel("How should PromptReady improve your prompts?"))
        for choice, title, line in OPTIONS:
            button = QRadioButton(title)
            self.buttons[choice] = button
            self.group.addButton(button)
            column.addWidget(button)
            note = QLabel(line)
            note.setIndent(24)
            column.addWidget(note)
        self.buttons[Choice.CREDITS].setChecked(True)
        ok = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        ok.accepted.connect(self.accept)
        column.addWidget(ok)

    def chosen(self) -> Choice:
        return next(c for c, b in self.buttons.items() if b.isChecked())

    def accept(self) -> None:
        """Save the mode; credits register the device in the background."""
        choice = self.chosen()
        choose(self.context, choice)
        write_private(self.context.paths.data_dir / SEEN_FILE, f"{choice.value}\n")
        if choice is Choice.CREDITS:
            self.watch.refresh()
        elif choice is Choice.OWN_KEY:
            self.wants_key.emit()
        super().accept()
