"""Enhance the selection in place: the hotkey copies what is selected in the focused app, the
text is enhanced, a preview asks for Enter (unless the user chose to paste at once), the result
is pasted over the selection, and the user's own clipboard is put back afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent, QTextCursor
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout

from promptready.engine import Mode
from promptready.errors import PromptReadyError
from promptready.ui.clipboard import Outcome, summarize
from promptready.ui.context import DesktopContext
from promptready.ui.icons import app_icon
from promptready.ui.keystrokes import SavedClipboard, focused_window, refocus, send_shortcut
from promptready.ui.runs import enhance_text

COPY_TIMEOUT_S = 1.0  # how long the focused app may take to put its selection on the clipboard
PASTE_SETTLE_S = 0.4  # how long it may take to read the clipboard after Ctrl+V


class SelectionPreview(QDialog):
    """Progress while the text is enhanced, then the result: Enter pastes it, Esc keeps the
    original. With ``ask`` False it only shows progress (and Cancel) without taking the focus."""

    decided = Signal(bool)

    def __init__(self, ask: bool) -> None:
        super().__init__()
        self.ask = ask
        self.setWindowTitle("PromptReady: enhance the selection")
        self.setWindowIcon(app_icon())
        flags = Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint
        if not ask:
            flags |= Qt.WindowType.WindowDoesNotAcceptFocus  # the app keeps the keyboard
        self.setWindowFlags(flags)
        self.resize(560, 320)
        self.status = QLabel("Enhancing the selection…")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.text = QPlainTextEdit(readOnly=True)
        self.paste = QPushButton("Paste (Enter)")
        self.paste.setDefault(True)
        self.paste.setProperty("role", "primary")
        self.paste.setEnabled(False)
        self.paste.clicked.connect(lambda: self._decide(True))
        self.cancel = QPushButton("Cancel (Esc)")
        self.cancel.setAutoDefault(False)
        self.cancel.clicked.connect(lambda: self._decide(False))
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.paste)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.paste.setVisible(ask)

    def append(self, piece: str) -> None:
        """Stream a piece of AI output."""
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)

    def offer(self, text: str, status: str) -> None:
        """Show the final text; Enter now pastes it."""
        self.text.setPlainText(text)
        self.status.setText(status)
        self.paste.setEnabled(True)
        self.paste.setFocus()

    def _decide(self, paste: bool) -> None:
        self.hide()
        self.decided.emit(paste)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and self.paste.isEnabled():
            self._decide(True)
        elif event.key() == Qt.Key.Key_Escape:
            self._decide(False)
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.isVisible():
            self.decided.emit(False)
        super().closeEvent(event)


class SelectionEnhancer(QObject):
    """The whole round trip; ``finished`` carries the Outcome for a notification."""

    finished = Signal(object)  # Outcome

    def __init__(
        self,
        context: DesktopContext,
        send: Callable[[str], None] = send_shortcut,
    ) -> None:
        super().__init__()
        self.context = context
        self.send = send  # the keystroke sender: pynput on a desktop
        self.preview: SelectionPreview | None = None

    async def run(self) -> Outcome:
        """Copy, enhance, (preview,) paste, restore; the outcome is also emitted."""
        saved = SavedClipboard.take()
        target = focused_window()
        try:
            outcome = await self._run(target)
        except PromptReadyError as exc:  # the keystrokes cannot be sent here (pynput missing…)
            outcome = Outcome(str(exc), False)
        finally:
            if self.preview is not None:
                self.preview.hide()
            saved.restore()
        self.finished.emit(outcome)
        return outcome

    async def _run(self, target: int | None) -> Outcome:
        text = await self._copy_selection()
        if not text.strip():
            return Outcome(
                "Nothing was selected; select some text and press the hotkey again.", False
            )
        ask = self.context.settings.desktop.selection_preview
        show_progress = ask or self.context.mode() is Mode.AI
        preview = self.preview = SelectionPreview(ask)
        decision: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def decide(paste: bool) -> None:
            if not decision.done():
                decision.set_result(paste)

        preview.decided.connect(decide)
        if show_progress:
            preview.show()
            if ask:
                preview.raise_()
                preview.activateWindow()
        work = asyncio.ensure_future(enhance_text(self.context, text, "selection", preview.append))
        waiting: set[asyncio.Future[object]] = {work, decision}  # type: ignore[arg-type]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():  # Cancel during the run: stop the call and let it finish stopping
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            return Outcome("Cancelled; the selection was left as it was.", False)
        run = work.result()
        if run.result is None:
            return Outcome(run.problem or "The selection could not be enhanced.", False)
        summary = summarize(run.result)
        if run.problem:
            summary = f"{run.problem} {summary}"
        if ask:
            preview.offer(run.result.text, summary)
            if not await decision:
                return Outcome("The selection was left as it was.", False, run.problem)
        preview.hide()
        await self._paste(run.result.text, target)
        return Outcome(summary, True, run.problem)

    async def _copy_selection(self) -> str:
        clipboard = QGuiApplication.clipboard()
        clipboard.clear()  # so the copy is seen even when the selection equals the clipboard
        self.send("c")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + COPY_TIMEOUT_S
        while not clipboard.text() and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return clipboard.text()

    async def _paste(self, text: str, target: int | None) -> None:
        QGuiApplication.clipboard().setText(text)
        refocus(target)
        await asyncio.sleep(0.05)
        self.send("v")
        await asyncio.sleep(PASTE_SETTLE_S)  # the app reads the clipboard after the keystroke
