"""The popup's result: the prompt (streamed as it arrives, shown rendered or as raw text), what
changed, why, and hints with fields to fill the placeholders in place."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from promptready.engine import EnhanceResult, Mode
from promptready.enhance.model import OutputFormat
from promptready.ui.diff import diff_html
from promptready.ui.placeholders import fill_placeholders, find_placeholders

SEVERITY_MARK = {"error": "⛔", "warning": "⚠", "info": "ℹ"}


def why_html(result: EnhanceResult) -> str:
    """What actually happened: the model's rewrite, the offline result and why, or the sections
    the offline enhancer added."""
    analysis = result.analysis
    task = html.escape(analysis.task.value.replace("_", " "))
    if result.mode is Mode.AI and result.ai is not None:
        return (
            f"<p>{html.escape(result.ai.model)} rewrote your {task} prompt. PromptReady checked "
            "that it kept what you pasted, your names and numbers, and enough of your words.</p>"
            f"<p>Hints it was given: a {task} task in language "
            f"“{html.escape(analysis.language)}”.</p>"
        )
    reasons = "".join(
        f"<li><b>{html.escape(c.section)}</b>: {html.escape(c.reason)}</li>" for c in result.changes
    )
    offline = f"<ul>{reasons}</ul>" if reasons else "<p>No sections were added.</p>"
    if result.fallback_reason:
        return f"<p>{html.escape(result.fallback_reason)}</p><p>The offline result:</p>{offline}"
    return offline


class HintsTab(QWidget):
    """Lint hints, and one field per placeholder in the result."""

    fill_requested = Signal(dict)  # placeholder -> value

    def __init__(self) -> None:
        super().__init__()
        self.hints = QLabel(wordWrap=True)
        self.hints.setTextFormat(Qt.TextFormat.RichText)  # messages are escaped
        self.form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        self.fill = QPushButton("Fill in")
        self.fill.clicked.connect(self._emit_fill)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hints)
        layout.addLayout(self.form)
        layout.addWidget(self.fill)
        layout.addStretch()

    def show_result(self, result: EnhanceResult, text: str) -> None:
        lines = [
            f"{SEVERITY_MARK.get(hit.severity.value, '•')} {html.escape(hit.message)}"
            for hit in result.analysis.lint
        ]
        quality = f"Quality of what you wrote: {result.analysis.quality}/100"
        self.hints.setText("<br>".join([quality, *lines]) if lines else quality)
        self.set_placeholders(find_placeholders(text))

    def set_placeholders(self, names: list[str]) -> None:
        # A field's own Enter handler can get here: deleting it now would free the widget
        # Qt is still delivering the key to (a segfault), so old rows are deleted later.
        while self.form.rowCount():
            row = self.form.takeRow(0)
            for item in (row.labelItem, row.fieldItem):
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.hide()
                    widget.deleteLater()
        self.fields = {}
        for name in names:
            field = QLineEdit(placeholderText=f"What should replace {name}?")
            field.returnPressed.connect(self._emit_fill)
            self.form.addRow(name, field)
            self.fields[name] = field
        self.fill.setVisible(bool(names))

    def _emit_fill(self) -> None:
        self.fill_requested.emit({name: f.text() for name, f in self.fields.items()})


class ResultPane(QWidget):
    """The prompt rendered from its Markdown, or the raw text that is copied, with a toggle.

    The raw editor holds the text; the rendered view is redrawn from it, so what is copied never
    depends on which view is shown.
    """

    def __init__(self) -> None:
        super().__init__()
        self.raw = QPlainTextEdit(readOnly=True)
        self.raw.setFont(QFont("monospace"))
        self.raw.setPlaceholderText("The enhanced prompt appears here.")
        self.rendered = QTextBrowser()
        self.rendered.setOpenLinks(False)  # a link in a prompt is text to send, not to follow
        self.rendered.setPlaceholderText("The enhanced prompt appears here.")
        for view in self.views:
            view.setTabChangesFocus(True)  # Tab leaves the result, as everywhere else
        self.stack = QStackedWidget()
        self.stack.addWidget(self.rendered)
        self.stack.addWidget(self.raw)
        self.raw_toggle = QCheckBox("&Raw text")
        self.raw_toggle.setToolTip("Show the prompt exactly as it is copied")
        self.raw_toggle.toggled.connect(self.show_raw)
        self.markdown = True
        toggle_row = QHBoxLayout()
        toggle_row.addStretch()
        toggle_row.addWidget(self.raw_toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        layout.addLayout(toggle_row)

    @property
    def views(self) -> tuple[QTextBrowser, QPlainTextEdit]:
        """Both views of the result (the popup's keys work the same in either)."""
        return self.rendered, self.raw

    @property
    def shown(self) -> QTextBrowser | QPlainTextEdit:
        """The view on screen."""
        return self.raw if self.raw_toggle.isChecked() else self.rendered

    @property
    def text(self) -> str:
        """The raw prompt."""
        return self.raw.toPlainText()

    def show_raw(self, raw: bool) -> None:
        """Switch views, keeping the focus in the result if it was there."""
        had_focus = self.shown.hasFocus()
        self.raw_toggle.setChecked(raw)  # re-enters here once when it changes; harmless
        self.stack.setCurrentWidget(self.raw if raw else self.rendered)
        if had_focus:
            self.shown.setFocus()

    def set_text(self, text: str, markdown: bool = True) -> None:
        """Show ``text``; rendered as Markdown only when it is Markdown (plain text and XML
        would be mangled by it)."""
        self.markdown = markdown
        self.raw.setPlainText(text)
        self._render()

    def append(self, piece: str) -> None:
        """Stream a piece of output onto the end."""
        cursor = self.raw.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.raw.setTextCursor(cursor)
        self._render()
        bar = self.rendered.verticalScrollBar()
        bar.setValue(bar.maximum())

    def clear(self) -> None:
        self.raw.clear()
        self.rendered.clear()

    def _render(self) -> None:
        if self.markdown:
            self.rendered.setMarkdown(self.raw.toPlainText())
            tame_headings(self.rendered.document())
        else:
            self.rendered.setPlainText(self.raw.toPlainText())


# Qt's Markdown sizes headings for documents (# is xx-large); in a prompt they only name its
# sections, so # and ## are one step up from the text and the rest are bold body text.
HEADING_SIZE_STEPS = {1: 1, 2: 1}


def tame_headings(document: QTextDocument) -> None:
    """Give the rendered headings of ``document`` the app's section-title size."""
    block = document.begin()
    while block.isValid():
        level = block.blockFormat().headingLevel()
        if level:
            cursor = QTextCursor(block)
            cursor.movePosition(
                QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
            )
            size = QTextCharFormat()
            steps = HEADING_SIZE_STEPS.get(level, 0)
            size.setProperty(QTextFormat.Property.FontSizeAdjustment, steps)
            cursor.mergeCharFormat(size)
        block = block.next()


class ResultTabs(QTabWidget):
    """Result | Changes | Why | Hints."""

    def __init__(self) -> None:
        super().__init__()
        self.result = ResultPane()
        self.output = self.result.raw  # the raw text: the copied prompt and the streamed draft
        self.diff = QTextBrowser()
        self.why = QTextBrowser()
        self.hints = HintsTab()
        self.hints.fill_requested.connect(self.fill)
        self.addTab(self.result, "Result")
        self.addTab(self.diff, "Changes")
        self.addTab(self.why, "Why")
        self.addTab(self.hints, "Hints")
        self._before = ""

    @property
    def text(self) -> str:
        """The raw prompt, whichever view is shown: what is copied."""
        return self.result.text

    @property
    def views(self) -> tuple[QTextBrowser, QPlainTextEdit]:
        """The result's rendered and raw views."""
        return self.result.views

    def focus_result(self) -> None:
        """Show the Result tab and put the focus in its visible view."""
        self.setCurrentIndex(0)
        self.result.shown.setFocus()

    def begin(self, before: str) -> None:
        """Clear for a new enhancement of ``before``."""
        self._before = before
        self.result.clear()
        self.diff.clear()
        self.why.clear()
        self.hints.set_placeholders([])
        self.hints.hints.clear()
        self.setCurrentIndex(0)

    def append_delta(self, piece: str) -> None:
        """Stream a piece of AI output into the result."""
        self.result.append(piece)

    def show_result(self, result: EnhanceResult) -> None:
        """The final text (replacing any streamed draft) and everything about it."""
        self.show_text(result.text, markdown=result.format is OutputFormat.MARKDOWN)
        self.why.setHtml(why_html(result))
        self.hints.show_result(result, result.text)
        count = len(result.analysis.lint)
        self.setTabText(3, f"Hints ({count})" if count else "Hints")

    def show_text(self, text: str, markdown: bool | None = None) -> None:
        """Show ``text`` as the result (``markdown``: None keeps the current choice)."""
        self.result.set_text(text, self.result.markdown if markdown is None else markdown)
        self.diff.setHtml(diff_html(self._before, text))

    def fill(self, values: dict[str, str]) -> None:
        """Replace placeholders in the result with what the user typed."""
        filled = fill_placeholders(self.text, values)
        if filled != self.text:
            self.show_text(filled)
            self.hints.set_placeholders(find_placeholders(filled))
