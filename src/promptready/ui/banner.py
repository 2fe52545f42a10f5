"""A one-line message above the result with the one action that fixes it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from promptready.ui.messages import Action, Problem


class Banner(QFrame):
    """Hidden until there is a problem to show."""

    action_clicked = Signal(object)  # Action

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("banner")  # drawn by the app's style sheet (ui/style.py)
        self.label = QLabel(wordWrap=True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # reasons may quote a provider
        self._action = Action.NONE
        self.button = QPushButton()
        self.button.clicked.connect(lambda: self.action_clicked.emit(self._action))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_problem(self, problem: Problem) -> None:
        self._action = problem.action
        self.label.setText(problem.text)
        self.button.setText(problem.action.value)
        self.button.setVisible(problem.action is not Action.NONE)
        self.show()

    def clear(self) -> None:
        self._action = Action.NONE
        self.hide()
