"""Enhance the clipboard in place: never without a way back."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from promptready.ui.clipboard import ClipboardEnhancer, Outcome
from promptready.ui.context import DesktopContext
from tests.ui.conftest import ROUGH, Loop


def test_enhancing_replaces_the_text_and_undo_restores_it(
    context: DesktopContext, qloop: Loop
) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText(ROUGH)
    enhancer = ClipboardEnhancer(context)
    outcome = qloop.run(enhancer.enhance())
    assert outcome.changed and "Undo" in outcome.summary
    assert clipboard.text() != ROUGH and "renames photos by date" in clipboard.text()
    assert enhancer.undo() and clipboard.text() == ROUGH
    assert not enhancer.can_undo and not enhancer.undo()


def test_the_summary_is_one_line(context: DesktopContext, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText(ROUGH)
    outcome = qloop.run(ClipboardEnhancer(context).enhance())
    assert "\n" not in outcome.summary
    assert outcome.summary.startswith("Enhanced a code prompt offline")


def test_an_empty_clipboard_is_left_alone(context: DesktopContext, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText("")
    enhancer = ClipboardEnhancer(context)
    seen: list[Outcome] = []
    enhancer.finished.connect(seen.append)
    outcome = qloop.run(enhancer.enhance())
    assert not outcome.changed and "no text" in outcome.summary
    assert seen == [outcome] and not enhancer.can_undo


def test_an_enhanced_prompt_is_not_enhanced_twice(context: DesktopContext, qloop: Loop) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText(ROUGH)
    enhancer = ClipboardEnhancer(context)
    qloop.run(enhancer.enhance())
    once = clipboard.text()
    outcome = qloop.run(ClipboardEnhancer(context).enhance())
    assert not outcome.changed and clipboard.text() == once


def test_ai_mode_without_a_key_writes_the_offline_result_and_says_why(
    keyless_ai_context: DesktopContext, qloop: Loop
) -> None:
    QGuiApplication.clipboard().setText(ROUGH)
    outcome = qloop.run(ClipboardEnhancer(keyless_ai_context).enhance())
    assert outcome.changed and outcome.problem is not None
    assert "needs a provider key" in outcome.summary
    assert "## Task" in QGuiApplication.clipboard().text()


def test_each_enhancement_is_one_ledger_row(context: DesktopContext, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText(ROUGH)
    qloop.run(ClipboardEnhancer(context).enhance())
    (row,) = context.ledger.last(5)
    assert row["source"] == "popup" and row["mode"] == "offline" and row["prompt_text"] is None


def test_a_tray_run_is_kept_in_history(context: DesktopContext, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText(ROUGH)
    qloop.run(ClipboardEnhancer(context).enhance())
    entries = context.history.search()
    assert [(e.input, e.preset) for e in entries] == [(ROUGH, "tray")]
