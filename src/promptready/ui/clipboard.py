"""Enhance the clipboard in place, keeping the original so one Undo puts it back."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from promptready.engine import EnhanceResult, Mode
from promptready.ui.context import DesktopContext
from promptready.ui.runs import enhance_text
from promptready.ui.wording import count, with_article


@dataclass(frozen=True)
class Outcome:
    """What one clipboard enhancement did, as one line for a notification."""

    summary: str
    changed: bool  # the clipboard now holds the enhanced text (Undo is possible)
    problem: str | None = None


def summarize(result: EnhanceResult) -> str:
    """``Rewrote an email prompt with gpt-4o-mini.``, ``Enhanced a code prompt offline:
    5 sections added, 1 hint.`` and the like: what actually happened."""
    task = with_article(result.analysis.task.value.replace("_", " "))
    if result.mode is Mode.AI and result.ai is not None:
        return f"Rewrote {task} prompt with {result.ai.model}."
    hints = count(len(result.analysis.lint), "hint")
    return (
        f"Enhanced {task} prompt offline: {count(len(result.changes), 'section')} added, {hints}."
    )


class ClipboardEnhancer(QObject):
    """Read the clipboard, enhance it, write it back; ``undo`` restores what was there."""

    finished = Signal(object)  # Outcome

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self._original: str | None = None
        self._written: str | None = None

    @property
    def can_undo(self) -> bool:
        """Only while the clipboard still holds what we wrote: Undo must never overwrite
        something the user copied since."""
        if self._original is None:
            return False
        if QGuiApplication.clipboard().text() != self._written:
            self._original = self._written = None
            return False
        return True

    async def enhance(self) -> Outcome:
        """Enhance the clipboard's text in the current mode; the outcome is also emitted."""
        clipboard = QGuiApplication.clipboard()
        original = clipboard.text()
        outcome = await self._enhance(original)
        if outcome.changed:
            self._original, self._written = original, clipboard.text()
        self.finished.emit(outcome)
        return outcome

    async def _enhance(self, original: str) -> Outcome:
        if not original.strip():
            return Outcome("The clipboard holds no text; copy some text first.", False)
        run = await enhance_text(self.context, original, "tray")
        if run.result is None:
            return Outcome(run.problem or "", False)
        if run.result.text == original:
            return Outcome("The clipboard already holds an enhanced prompt.", False, run.problem)
        QGuiApplication.clipboard().setText(run.result.text)
        summary = summarize(run.result) + " Undo puts the original back."
        return Outcome(
            summary if run.problem is None else f"{run.problem} {summary}", True, run.problem
        )

    def undo(self) -> bool:
        """Put the original text back on the clipboard; False when there is nothing to undo."""
        if not self.can_undo:
            return False
        assert self._original is not None
        QGuiApplication.clipboard().setText(self._original)
        self._original = self._written = None
        return True
