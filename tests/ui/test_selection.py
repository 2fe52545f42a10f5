"""Enhance the selection in place: copy it from the focused app, enhance, preview (or not), paste
it back, and put the user's clipboard back. Here the "focused app" is a text field in this
process that answers Ctrl+C and Ctrl+V like any editor; test_selection_x11 does it for real."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from promptready.errors import PromptReadyError
from promptready.ui.clipboard import Outcome
from promptready.ui.context import DesktopContext
from promptready.ui.selection import SelectionEnhancer
from tests.fakes.upstream import FakeUpstream, Script
from tests.ui.conftest import ROUGH, Loop, until

USERS_CLIPBOARD = "a link the user copied earlier"


class OtherApp:
    """A text field standing in for the focused app: Ctrl+C copies its selection, Ctrl+V pastes
    over it."""

    def __init__(self, text: str) -> None:
        self.field = QLineEdit(text)
        self.field.selectAll()
        self.keys: list[str] = []

    def send(self, letter: str) -> None:
        self.keys.append(letter)
        if letter == "c" and self.field.hasSelectedText():
            QGuiApplication.clipboard().setText(self.field.selectedText())
        elif letter == "v":
            self.field.insert(QGuiApplication.clipboard().text())


@pytest.fixture
def other_app() -> Iterator[OtherApp]:
    QGuiApplication.clipboard().setText(USERS_CLIPBOARD)
    yield OtherApp(ROUGH)


def with_preview(context: DesktopContext, preview: bool) -> None:
    desktop = dataclasses.replace(context.settings.desktop, selection_preview=preview)
    context.save_settings(dataclasses.replace(context.settings, desktop=desktop))


def test_without_preview_the_selection_is_replaced_and_the_clipboard_restored(
    context: DesktopContext, other_app: OtherApp, qloop: Loop
) -> None:
    with_preview(context, False)
    outcome = qloop.run(SelectionEnhancer(context, other_app.send).run())
    assert outcome.changed and outcome.summary.startswith("Enhanced a code prompt offline")
    assert other_app.field.text() != ROUGH and "renames photos by date" in other_app.field.text()
    assert other_app.keys == ["c", "v"]
    assert QGuiApplication.clipboard().text() == USERS_CLIPBOARD


async def answer_the_preview(enhancer: SelectionEnhancer, key: Qt.Key) -> Outcome:
    """Run the round trip, and press ``key`` in the preview once it offers the result."""
    run = asyncio.get_running_loop().create_task(enhancer.run())
    await until(lambda: enhancer.preview is not None and enhancer.preview.paste.isEnabled())
    assert enhancer.preview is not None
    assert "renames photos" in enhancer.preview.text.toPlainText()
    QTest.keyClick(enhancer.preview, key)
    return await run


def test_the_preview_pastes_on_enter(
    context: DesktopContext, other_app: OtherApp, qloop: Loop
) -> None:
    enhancer = SelectionEnhancer(context, other_app.send)
    assert qloop.run(answer_the_preview(enhancer, Qt.Key.Key_Return)).changed
    assert "renames photos by date" in other_app.field.text() and other_app.field.text() != ROUGH
    assert QGuiApplication.clipboard().text() == USERS_CLIPBOARD


def test_escape_in_the_preview_keeps_the_selection(
    context: DesktopContext, other_app: OtherApp, qloop: Loop
) -> None:
    enhancer = SelectionEnhancer(context, other_app.send)
    assert not qloop.run(answer_the_preview(enhancer, Qt.Key.Key_Escape)).changed
    assert other_app.field.text() == ROUGH and other_app.keys == ["c"]
    assert QGuiApplication.clipboard().text() == USERS_CLIPBOARD


def test_nothing_selected_says_so_and_restores_the_clipboard(
    context: DesktopContext, other_app: OtherApp, qloop: Loop
) -> None:
    other_app.field.deselect()
    outcome = qloop.run(SelectionEnhancer(context, other_app.send).run())
    assert not outcome.changed and "Nothing was selected" in outcome.summary
    assert QGuiApplication.clipboard().text() == USERS_CLIPBOARD


def test_an_ai_run_shows_progress_and_can_be_cancelled(
    ai_context: DesktopContext, upstream: FakeUpstream, other_app: OtherApp, qloop: Loop
) -> None:
    with_preview(ai_context, False)
    upstream.script(Script(hang_s=5))
    enhancer = SelectionEnhancer(ai_context, other_app.send)

    async def scenario() -> None:
        run = qloop.loop.create_task(enhancer.run())
        await until(lambda: upstream.seen)
        assert enhancer.preview is not None and enhancer.preview.isVisible()
        assert "Enhancing" in enhancer.preview.status.text()
        enhancer.preview.cancel.click()
        outcome = await run
        assert not outcome.changed and "Cancelled" in outcome.summary

    qloop.run(scenario())
    assert other_app.field.text() == ROUGH
    assert QGuiApplication.clipboard().text() == USERS_CLIPBOARD


def test_every_run_is_kept_in_history(
    context: DesktopContext, other_app: OtherApp, qloop: Loop
) -> None:
    with_preview(context, False)
    qloop.run(SelectionEnhancer(context, other_app.send).run())
    entries = context.history.search()
    assert len(entries) == 1 and entries[0].input == ROUGH and entries[0].preset == "selection"


def test_keystrokes_that_cannot_be_sent_end_the_run_with_the_reason(
    context: DesktopContext, qloop: Loop
) -> None:
    QGuiApplication.clipboard().setText(USERS_CLIPBOARD)

    def cannot_send(letter: str) -> None:
        raise PromptReadyError("keystrokes cannot be sent here (why)")

    outcome = qloop.run(SelectionEnhancer(context, cannot_send).run())
    assert outcome == Outcome("keystrokes cannot be sent here (why)", False)
    assert QGuiApplication.clipboard().text() == USERS_CLIPBOARD


def test_without_pynput_the_keystrokes_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from promptready.ui import keystrokes

    def absent() -> object:
        raise ModuleNotFoundError("No module named 'pynput'", name="pynput")

    monkeypatch.setattr(keystrokes, "_pynput_keyboard", absent)
    with pytest.raises(PromptReadyError, match=r"promptready\[hotkey\]"):
        keystrokes.send_shortcut("c")
