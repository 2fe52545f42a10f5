"""The enhance popup: clipboard in, streamed result out, every failure a sentence and an action."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from promptready.engine import Mode
from promptready.ui.context import DesktopContext
from promptready.ui.messages import Action
from promptready.ui.popup import EnhancePopup
from tests.fakes.upstream import FakeUpstream, Script
from tests.ui.conftest import KEY, ROUGH, Loop, until


def make_popup(context: DesktopContext) -> Iterator[EnhancePopup]:
    popup = EnhancePopup(context)
    popup.input.setPlainText(ROUGH)
    popup.show()
    yield popup
    popup.cancel()
    popup.close()
    popup.deleteLater()


@pytest.fixture
def popup(context: DesktopContext) -> Iterator[EnhancePopup]:
    yield from make_popup(context)


@pytest.fixture
def ai_popup(ai_context: DesktopContext) -> Iterator[EnhancePopup]:
    yield from make_popup(ai_context)


async def enhance(popup: EnhancePopup) -> None:
    popup.start_enhance()
    await until(lambda: popup.task is not None and popup.task.done())


def test_input_is_prefilled_from_the_clipboard(popup: EnhancePopup, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText("summarize this meeting transcript")
    popup.prefill_from_clipboard()
    assert popup.input.toPlainText() == "summarize this meeting transcript"


def test_offline_enhance_shows_result_changes_why_and_hints(
    popup: EnhancePopup, qloop: Loop
) -> None:
    qloop.run(enhance(popup))
    assert popup.last_result is not None and popup.last_result.mode is Mode.OFFLINE
    assert "renames photos by date" in popup.tabs.text
    assert "+" in popup.tabs.diff.toPlainText()
    assert popup.tabs.why.toPlainText().strip()
    assert "Quality of what you wrote" in popup.tabs.hints.hints.text()
    assert popup.copy_button.isEnabled() and not popup.banner.isVisible()


def test_ai_output_streams_into_the_result(
    ai_popup: EnhancePopup, upstream: FakeUpstream, qloop: Loop
) -> None:
    upstream.script(Script(content="Write a Python script that renames photos by date."))
    drafts: list[str] = []
    ai_popup.tabs.output.textChanged.connect(lambda: drafts.append(ai_popup.tabs.text))
    qloop.run(enhance(ai_popup))
    assert ai_popup.last_result is not None and ai_popup.last_result.mode is Mode.AI
    assert ai_popup.tabs.text == "Write a Python script that renames photos by date."
    assert any(d and d != ai_popup.tabs.text for d in drafts)  # partial text seen first
    assert "gpt-4o-mini" in ai_popup.status.text()


def test_cancel_stops_the_call_and_keeps_nothing(
    ai_popup: EnhancePopup, upstream: FakeUpstream, qloop: Loop
) -> None:
    upstream.script(Script(hang_s=5))

    async def scenario() -> None:
        ai_popup.start_enhance()
        await until(lambda: upstream.seen)
        QTest.keyClick(ai_popup, Qt.Key.Key_Escape)
        await until(lambda: ai_popup.task is not None and ai_popup.task.done())

    qloop.run(scenario())
    assert "Cancelled" in ai_popup.status.text()
    assert ai_popup.last_result is None and ai_popup.isVisible()
    assert ai_popup.enhance_button.isEnabled()


def test_missing_key_offers_the_offline_result_and_add_a_key(
    keyless_ai_context: DesktopContext, qloop: Loop
) -> None:
    for popup in make_popup(keyless_ai_context):
        qloop.run(enhance(popup))
        assert popup.banner.isVisible() and popup.banner.button.text() == Action.ADD_KEY.value
        assert "needs a provider key" in popup.banner.label.text()
        assert popup.last_result is not None and popup.last_result.mode is Mode.OFFLINE
        assert "renames photos by date" in popup.tabs.text
        opened: list[str] = []
        popup.open_settings.connect(opened.append)
        popup.banner.button.click()
        assert opened == ["keys"]


def test_rejected_key_says_so_without_showing_it(
    ai_popup: EnhancePopup, upstream: FakeUpstream, qloop: Loop
) -> None:
    upstream.valid_keys = frozenset({"another-key"})
    qloop.run(enhance(ai_popup))
    assert "rejected the key" in ai_popup.banner.label.text()
    assert ai_popup.banner.button.text() == Action.CHECK_KEY.value
    assert ai_popup.last_result is not None and ai_popup.last_result.mode is Mode.OFFLINE
    assert KEY not in ai_popup.banner.label.text() + ai_popup.status.text()


@pytest.mark.parametrize(("status", "words"), [(429, "rate-limiting"), (503, "server error")])
def test_upstream_failure_falls_back_with_retry(
    ai_popup: EnhancePopup, upstream: FakeUpstream, qloop: Loop, status: int, words: str
) -> None:
    upstream.script(*[Script(status=status, retry_after="0")] * 4)
    qloop.run(enhance(ai_popup))
    assert words in ai_popup.banner.label.text()
    assert ai_popup.banner.button.text() == Action.RETRY.value
    assert "renames photos by date" in ai_popup.tabs.text


def test_no_network_falls_back_with_a_clear_message(
    qloop: Loop, upstream: FakeUpstream, ai_context: DesktopContext
) -> None:
    import dataclasses

    ai = dataclasses.replace(
        ai_context.settings.ai, custom_providers={"fake": "http://127.0.0.1:9/v1"}
    )
    ai_context.save_settings(dataclasses.replace(ai_context.settings, ai=ai))
    for popup in make_popup(ai_context):
        qloop.run(enhance(popup))
        assert "Could not reach fake" in popup.banner.label.text()
        assert popup.last_result is not None and popup.last_result.mode is Mode.OFFLINE


def test_locked_keyring_is_a_message_and_the_offline_result(
    keyless_ai_context: DesktopContext, locked_keyring: None, qloop: Loop
) -> None:
    keyless_ai_context.refresh_engine()
    for popup in make_popup(keyless_ai_context):
        qloop.run(enhance(popup))
        assert "keyring is locked or unavailable" in popup.banner.label.text()
        assert popup.last_result is not None and popup.last_result.mode is Mode.OFFLINE


def test_empty_input_is_a_message_and_no_result(popup: EnhancePopup, qloop: Loop) -> None:
    popup.input.setPlainText("   ")
    qloop.run(enhance(popup))
    assert popup.banner.isVisible() and popup.last_result is None
    assert not popup.banner.button.isVisible()


def test_placeholders_are_filled_in_place(popup: EnhancePopup, qloop: Loop) -> None:
    popup.input.setPlainText("write an article about composting")
    qloop.run(enhance(popup))
    fields = popup.tabs.hints.fields
    assert fields, popup.tabs.text
    name = next(iter(fields))
    fields[name].setText("Mr Smith")
    popup.tabs.hints.fill.click()
    assert name not in popup.tabs.text and "Mr Smith" in popup.tabs.text
    assert name not in popup.tabs.hints.fields


def test_ctrl_enter_in_the_input_enhances(popup: EnhancePopup, qloop: Loop) -> None:
    async def scenario() -> None:
        QTest.keyClick(popup.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: popup.last_result is not None)

    qloop.run(scenario())
    assert popup.input.toPlainText() == ROUGH  # no newline typed


def test_enter_copies_the_result_and_closes(popup: EnhancePopup, qloop: Loop) -> None:
    qloop.run(enhance(popup))
    popup.tabs.output.setFocus()
    QTest.keyClick(popup.tabs.output, Qt.Key.Key_Return)
    assert QGuiApplication.clipboard().text() == popup.tabs.text
    assert not popup.isVisible()


def test_escape_closes_when_idle(popup: EnhancePopup, qloop: Loop) -> None:
    QTest.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_mode_toggle_switches_and_remembers_the_mode(popup: EnhancePopup, qloop: Loop) -> None:
    popup.ai.click()
    assert popup.context.mode() is Mode.AI and popup.context.settings.enhance.mode == "ai"
    popup.offline.click()
    assert popup.context.mode() is Mode.OFFLINE


def test_offline_only_shows_no_ai_controls(qloop: Loop, context: DesktopContext) -> None:
    import dataclasses

    desktop = dataclasses.replace(context.settings.desktop, offline_only=True)
    context.save_settings(dataclasses.replace(context.settings, desktop=desktop))
    for popup in make_popup(context):
        assert not popup.ai.isVisible() and not popup.offline.isVisible()
        assert popup.mode is Mode.OFFLINE


def test_live_count_shows_tokens_and_cost_for_the_ai_model(
    ai_popup: EnhancePopup, qloop: Loop
) -> None:
    qloop.run(until(lambda: "about " in ai_popup.counter.text()))
    assert "tokens" in ai_popup.counter.text() and "fake/gpt-4o-mini" in ai_popup.counter.text()
    ai_popup.input.setPlainText("hi")
    qloop.run(until(lambda: ai_popup.counter.text().startswith("1 token ·")))


def test_offline_count_is_free(popup: EnhancePopup, qloop: Loop) -> None:
    qloop.run(until(lambda: "offline: free" in popup.counter.text()))


def test_preset_sets_the_target_format(popup: EnhancePopup, qloop: Loop) -> None:
    popup.preset.setCurrentIndex(popup.preset.findText("claude-xml"))
    qloop.run(enhance(popup))
    assert popup.last_result is not None and popup.last_result.format.value == "xml"
    assert popup.tabs.text.lstrip().startswith("<")


def test_history_keeps_searches_and_stars_enhancements(popup: EnhancePopup, qloop: Loop) -> None:
    qloop.run(enhance(popup))
    popup.input.setPlainText("translate this into German: good morning")
    qloop.run(enhance(popup))
    assert popup.history.items.count() == 2
    popup.history.search.setText("German")
    assert popup.history.items.count() == 1
    popup.history.items.setCurrentRow(0)
    popup.history.star.click()
    popup.history.search.clear()
    popup.history.favourites.setChecked(True)
    assert popup.history.items.count() == 1 and "★" in popup.history.items.item(0).text()
    popup.history.chosen.emit(popup.history.selected() or popup.context.history.search()[0])
    assert "German" in popup.input.toPlainText() and popup.tabs.text


def test_enter_in_a_placeholder_field_fills_it_without_crashing(
    popup: EnhancePopup, qloop: Loop
) -> None:
    popup.input.setPlainText("write an article about composting")  # names no reader: a fill-in
    qloop.run(enhance(popup))
    name, field = next(iter(popup.tabs.hints.fields.items()))
    popup.tabs.setCurrentWidget(popup.tabs.hints)
    field.setFocus()
    field.setText("Mr Smith")
    QTest.keyClick(field, Qt.Key.Key_Return)
    qloop.run(asyncio.sleep(0.05))  # the replaced fields are deleted on the next loop turn
    assert "Mr Smith" in popup.tabs.text and name not in popup.tabs.hints.fields


def test_ctrl_enter_moves_focus_to_the_result_and_enter_then_copies(
    popup: EnhancePopup, qloop: Loop
) -> None:
    QGuiApplication.clipboard().setText("something the user copied earlier")
    popup.activateWindow()
    popup.input.setFocus()

    async def scenario() -> None:
        QTest.keyClick(popup.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: popup.last_result is not None)

    qloop.run(scenario())
    assert popup.focusWidget() is popup.tabs.result.rendered  # the rendered view is shown first
    QTest.keyClick(popup.focusWidget(), Qt.Key.Key_Return)
    assert QGuiApplication.clipboard().text() == popup.tabs.text
    assert not popup.isVisible()


def test_tab_in_the_input_moves_focus_instead_of_typing_a_tab(
    popup: EnhancePopup, qloop: Loop
) -> None:
    popup.activateWindow()
    popup.input.setFocus()
    QTest.keyClick(popup.input, Qt.Key.Key_Tab)
    assert "\t" not in popup.input.toPlainText()
    assert popup.focusWidget() is not popup.input


def test_reopening_with_new_clipboard_text_clears_the_previous_result(
    popup: EnhancePopup, qloop: Loop
) -> None:
    qloop.run(enhance(popup))
    popup.hide()
    QGuiApplication.clipboard().setText("translate this into German: good morning")
    popup.prefill_from_clipboard()
    assert popup.tabs.text == "" and popup.last_result is None
    assert not popup.copy_button.isEnabled() and popup.status.text() == ""


def test_reopening_with_the_same_text_keeps_the_result(popup: EnhancePopup, qloop: Loop) -> None:
    QGuiApplication.clipboard().setText(ROUGH)
    qloop.run(enhance(popup))
    popup.prefill_from_clipboard()
    assert popup.last_result is not None and popup.tabs.text


def test_an_ai_answer_that_drops_the_users_text_falls_back_and_says_why(
    ai_popup: EnhancePopup, upstream: FakeUpstream, qloop: Loop
) -> None:
    upstream.script(Script(content="Rewritten prompt for gpt-4o-mini"))
    qloop.run(enhance(ai_popup))
    assert ai_popup.last_result is not None and ai_popup.last_result.mode is Mode.OFFLINE
    assert "kept too little of what you wrote" in ai_popup.banner.label.text()
    assert "renames photos by date" in ai_popup.tabs.text
    assert "kept too little" in ai_popup.tabs.why.toPlainText()


def test_why_describes_the_ai_rewrite_in_ai_mode(
    ai_popup: EnhancePopup, upstream: FakeUpstream, qloop: Loop
) -> None:
    upstream.script(Script(content="Write a Python script that renames photos by date."))
    qloop.run(enhance(ai_popup))
    why = ai_popup.tabs.why.toPlainText()
    assert "gpt-4o-mini rewrote your code prompt" in why
    assert "sections" not in why


def test_a_custom_provider_without_a_model_says_where_to_choose_one(
    qloop: Loop, upstream: FakeUpstream, ai_context: DesktopContext
) -> None:
    import dataclasses

    ai = dataclasses.replace(ai_context.settings.ai, model="")
    ai_context.save_settings(dataclasses.replace(ai_context.settings, ai=ai))
    for popup in make_popup(ai_context):
        qloop.run(enhance(popup))
        text = popup.banner.label.text()
        assert "Choose the model fake should use" in text and "`" not in text


def test_fill_ins_left_empty_are_not_copied(popup: EnhancePopup, qloop: Loop) -> None:
    popup.input.setPlainText("write an article about composting")
    qloop.run(enhance(popup))
    [placeholder] = list(popup.tabs.hints.fields)[:1]
    assert placeholder in popup.tabs.text
    popup.copy_and_close()
    copied = QGuiApplication.clipboard().text()
    assert placeholder not in copied and "composting" in copied


def test_the_result_is_shown_rendered_and_the_raw_text_is_one_toggle_away(
    popup: EnhancePopup, qloop: Loop
) -> None:
    qloop.run(enhance(popup))
    pane = popup.tabs.result
    assert pane.shown is pane.rendered
    assert "#" in popup.tabs.text  # the raw text is Markdown
    assert "#" not in pane.rendered.toPlainText().splitlines()[0]  # its heading is drawn
    pane.raw_toggle.setChecked(True)
    assert pane.stack.currentWidget() is pane.raw
    assert pane.raw.toPlainText() == popup.tabs.text


@pytest.mark.parametrize("raw", [False, True], ids=["rendered", "raw"])
def test_enter_in_either_view_copies_the_raw_prompt_and_closes(
    popup: EnhancePopup, qloop: Loop, raw: bool
) -> None:
    popup.activateWindow()
    popup.tabs.result.show_raw(raw)
    qloop.run(enhance(popup))
    popup.tabs.focus_result()
    QTest.keyClick(popup.focusWidget(), Qt.Key.Key_Return)
    assert QGuiApplication.clipboard().text().startswith(popup.tabs.text.split("\n")[0])
    assert "#" in QGuiApplication.clipboard().text()  # Markdown source, not the rendered text
    assert not popup.isVisible()


@pytest.mark.parametrize("raw", [False, True], ids=["rendered", "raw"])
def test_tab_leaves_either_view_of_the_result(popup: EnhancePopup, qloop: Loop, raw: bool) -> None:
    popup.activateWindow()
    popup.tabs.result.show_raw(raw)
    qloop.run(enhance(popup))
    popup.tabs.focus_result()
    view = popup.focusWidget()
    assert view is popup.tabs.result.shown
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert popup.focusWidget() is not view


def test_switching_views_keeps_the_focus_in_the_result(popup: EnhancePopup, qloop: Loop) -> None:
    popup.activateWindow()
    qloop.run(enhance(popup))
    popup.tabs.focus_result()
    popup.tabs.result.show_raw(True)
    assert popup.focusWidget() is popup.tabs.result.raw


def test_a_plain_text_result_is_not_read_as_markdown(popup: EnhancePopup) -> None:
    popup.tabs.begin("x")
    popup.tabs.show_text("# not a heading\n*kept*", markdown=False)
    assert popup.tabs.result.rendered.toPlainText() == "# not a heading\n*kept*"


def test_rendered_headings_are_section_titles_not_document_titles(popup: EnhancePopup) -> None:
    popup.tabs.begin("x")
    popup.tabs.show_text("# Task\nrename photos\n### Detail\nskip files without exif")
    document = popup.tabs.result.rendered.document()
    sizes = {}
    block = document.begin()
    while block.isValid():
        sizes[block.text()] = block.begin().fragment().charFormat().font().pointSizeF()
        block = block.next()
    body = sizes["rename photos"]
    assert body < sizes["Task"] <= body * 1.25  # Qt's own # is about twice the text
    assert sizes["Detail"] == body


def test_copy_and_close_is_drawn_as_the_main_action(popup: EnhancePopup) -> None:
    assert popup.copy_button.property("role") == "primary"
