"""The enhance popup: text in (from the clipboard), a ready prompt out, keyboard first.

Ctrl+Enter enhances, Enter copies the result and closes, Esc cancels a running enhancement or
closes. AI output streams in as it arrives; every failure shows one sentence and one action,
next to the offline result.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QHideEvent,
    QKeyEvent,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from promptready.engine import EnhanceResult, Mode, ready_to_send
from promptready.errors import InputError, PromptReadyError
from promptready.estimate import Estimate
from promptready.history import HistoryEntry
from promptready.presets import Preset
from promptready.providers.credits import CREDITS
from promptready.providers.credits_account import Wallet
from promptready.ui.banner import Banner
from promptready.ui.context import AiTarget, DesktopContext
from promptready.ui.credits.migration import MigrationBanner
from promptready.ui.credits.pill import BalancePill
from promptready.ui.credits.problems import out_of_credits
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.history_panel import HistoryPanel
from promptready.ui.icons import app_icon
from promptready.ui.messages import Action, Problem, problem_for, problem_for_fallback
from promptready.ui.result_view import ResultTabs
from promptready.ui.tasks import spawn
from promptready.ui.wording import count, dollars

ESTIMATE_DELAY_MS = 250
KEYS_HELP = "Ctrl+Enter enhance · Enter copy and close · Esc close"


def describe_estimate(estimate: Estimate, target: AiTarget | None) -> str:
    """``120 tokens · ≈ < $0.01 with openai/gpt-4o-mini`` and the like."""
    counted = count(estimate.text_tokens, "token")
    if target is None:
        return f"{counted} · offline: free"
    if target.problem is not None:
        return f"{counted} · AI mode needs a provider key"
    if target.provider == CREDITS:  # no dollars: the balance pill beside it shows the credits
        return f"{counted} · paid in PromptReady credits"
    if estimate.cost_usd is None:
        return f"{counted} · {target.label} has no known price"
    return f"{counted} · about {dollars(estimate.cost_usd)} with {target.label}"


class EnhancePopup(QDialog):
    """Enhance one text, see what changed and why, and copy it."""

    open_settings = Signal(str)  # the settings tab to show
    result_ready = Signal(object)  # EnhanceResult, for tests and the tray

    def __init__(self, context: DesktopContext, credits: CreditsWatch | None = None) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("PromptReady")
        self.setWindowIcon(app_icon())
        self.resize(980, 680)
        self.task: asyncio.Task[None] | None = None
        self.last_result: EnhanceResult | None = None
        self._target: AiTarget | None = None

        self.preset = QComboBox()
        self.preset.setToolTip("Preset: a task template, a tone and a target format")
        self.offline = QPushButton("Offline")
        self.ai = QPushButton("AI")
        self.modes = QButtonGroup(self)
        for button in (self.offline, self.ai):
            button.setCheckable(True)
            button.setAutoDefault(False)
            self.modes.addButton(button)
        self.modes.buttonClicked.connect(self._on_mode_clicked)
        self.input = QPlainTextEdit(placeholderText="Paste or type a rough prompt…")
        self.input.setTabChangesFocus(True)
        self.input.installEventFilter(self)
        self.input.textChanged.connect(self._schedule_estimate)
        self.counter = QLabel()
        self.banner = Banner()
        self.banner.action_clicked.connect(self._on_banner_action)
        self.enhance_button = QPushButton("Enhance")
        self.enhance_button.setToolTip("Ctrl+Enter")
        self.enhance_button.setAutoDefault(False)
        self.enhance_button.clicked.connect(self.start_enhance)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.tabs = ResultTabs()
        for view in self.tabs.views:
            view.installEventFilter(self)
        self.copy_button = QPushButton("Copy and close")
        self.copy_button.setDefault(True)
        self.copy_button.setProperty("role", "primary")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_and_close)
        self.history = HistoryPanel(context)
        self.history.chosen.connect(self.load_entry)
        self._estimate_timer = QTimer(self, singleShot=True, interval=ESTIMATE_DELAY_MS)
        self._estimate_timer.timeout.connect(lambda: spawn(self._update_estimate()))
        QShortcut(QKeySequence("Ctrl+Return"), self, self.start_enhance)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.start_enhance)
        self._lay_out(credits if credits is not None else CreditsWatch(context))
        context.settings_changed.connect(self.sync)
        self.sync()

    def _lay_out(self, credits: CreditsWatch) -> None:
        self._set_up_credits(credits)  # the pill sits in the layout
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset:"))
        top.addWidget(self.preset)
        top.addStretch()
        self.mode_label = QLabel("Mode:")
        for widget in (self.mode_label, self.offline, self.ai):
            top.addWidget(widget)
        actions = QHBoxLayout()
        actions.addWidget(self.enhance_button)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.status, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel(KEYS_HELP))
        bottom.addStretch()
        bottom.addWidget(self.copy_button)
        main = QWidget()
        column = QVBoxLayout(main)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        if self.migration is not None:
            column.addWidget(self.migration)
        column.addWidget(self.input, 2)
        costs = QHBoxLayout()
        costs.addWidget(self.counter, 1)
        costs.addWidget(self.pill)
        column.addLayout(costs)
        column.addWidget(self.banner)
        column.addLayout(actions)
        column.addWidget(self.tabs, 3)
        column.addLayout(bottom)
        splitter = QSplitter()
        splitter.addWidget(main)
        splitter.addWidget(self.history)
        splitter.setSizes([700, 280])
        QVBoxLayout(self).addWidget(splitter)

    # State from settings.

    def sync(self) -> None:
        """Mode buttons, presets and the cost line for the current settings."""
        ai_allowed = not self.context.offline_only
        for widget in (self.mode_label, self.offline, self.ai):
            widget.setVisible(ai_allowed)
        (self.ai if self.context.mode() is Mode.AI else self.offline).setChecked(True)
        current = self.preset.currentText()
        self.preset.clear()
        for preset in self.context.presets.all():
            self.preset.addItem(preset.name, preset)
            self.preset.setItemData(
                self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole
            )
        self.preset.setCurrentIndex(max(0, self.preset.findText(current)))
        self._target = self.context.ai_target() if self.mode is Mode.AI else None
        if not (self.mode is Mode.AI and self.credits.ai_spends_credits):
            self.pill.hide()
        self.history.refresh()
        self._schedule_estimate()

    @property
    def mode(self) -> Mode:
        if self.context.offline_only:
            return Mode.OFFLINE
        return Mode.AI if self.ai.isChecked() else Mode.OFFLINE

    def selected_preset(self) -> Preset:
        preset = self.preset.currentData()
        return preset if isinstance(preset, Preset) else self.context.presets.get("")

    def _on_mode_clicked(self) -> None:
        if self.mode is not self.context.mode():
            self.context.set_mode(self.mode)  # sync() follows through settings_changed

    def prefill_from_clipboard(self) -> None:
        """Start from the clipboard's text, selected so typing replaces it.

        New text clears the previous result, so "Copy and close" never copies a stale prompt.
        """
        text = QGuiApplication.clipboard().text()
        if text.strip() and text not in (self.tabs.text, self.input.toPlainText()):
            self.input.setPlainText(text)
            self.reset_result()
        self.input.selectAll()
        self.input.setFocus()

    def reset_result(self) -> None:
        """Forget the last result: nothing to copy until the next enhancement."""
        if self.running:
            self.cancel()
        self.last_result = None
        self.banner.clear()
        self.tabs.begin(self.input.toPlainText())
        self.status.setText("")
        self.copy_button.setEnabled(False)

    # Live token count and cost, counted off the UI thread (the first count loads tiktoken).

    def _schedule_estimate(self) -> None:
        if self.isVisible():  # a hidden popup counts nothing (showEvent counts on opening)
            self._estimate_timer.start()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._estimate_timer.start()
        self._refresh_balance()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        self._estimate_timer.stop()
        super().hideEvent(event)

    async def _update_estimate(self) -> None:
        text, target = self.input.toPlainText(), self._target
        loop = asyncio.get_running_loop()
        try:
            estimate = await loop.run_in_executor(None, self.context.estimate, text, target)
        except PromptReadyError as exc:
            self.counter.setText(str(exc))
            return
        if text == self.input.toPlainText():
            self.counter.setText(describe_estimate(estimate, target))

    # Credits.

    def _set_up_credits(self, credits: CreditsWatch) -> None:
        self.credits = credits
        self.pill = BalancePill(credits.card)
        self.zero_dialog: QDialog | None = None
        credits.changed.connect(self._show_balance)
        self.migration = offer_migration(self)

    def _refresh_balance(self) -> None:
        if self.mode is Mode.AI and self.credits.ai_spends_credits:
            self.credits.refresh(always=True)
        else:
            self.pill.hide()

    def _show_balance(self, wallet: Wallet) -> None:
        if self.mode is Mode.AI and self.credits.ai_spends_credits:
            cost = self.credits.card.credits_for_enhancement()
            self.pill.show_balance(wallet.credits_remaining, cost)

    def offer_top_up(self) -> None:
        """The zero-balance dialog, over this popup (whose offline result stays)."""
        from promptready.ui.credits.zero_dialog import ZeroBalanceDialog

        dialog = ZeroBalanceDialog(self.credits, self)
        dialog.own_key.connect(lambda: self.open_settings.emit("keys"))
        dialog.offline.connect(lambda: self.context.set_mode(Mode.OFFLINE))
        self.zero_dialog = dialog
        dialog.open()

    # Enhance, stream, cancel.

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start_enhance(self) -> None:
        if not self.running:
            self.task = spawn(self._enhance(self.input.toPlainText(), self.selected_preset()))

    def cancel(self) -> None:
        if self.running:
            assert self.task is not None
            self.task.cancel()

    def _set_running(self, running: bool) -> None:
        self.enhance_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
        self.copy_button.setEnabled(not running and self.last_result is not None)

    async def _enhance(self, text: str, preset: Preset) -> None:
        self.banner.clear()
        self.last_result = None
        self.tabs.begin(text)
        self._set_running(True)
        mode = self.mode
        self.status.setText("Writing with AI…" if mode is Mode.AI else "Enhancing…")
        engine = self.context.engine
        problem: Problem | None = None
        try:
            prepared = preset.apply(text)
            try:
                result = await engine.enhance_async(
                    prepared, mode, preset.format, on_delta=self.tabs.append_delta
                )
            except InputError as exc:
                self.banner.show_problem(problem_for(exc))
                self.status.setText("")
                return
            except PromptReadyError as exc:
                problem = problem_for(exc)
                result = await engine.enhance_async(prepared, Mode.OFFLINE, preset.format)
        except asyncio.CancelledError:
            self.status.setText("Cancelled; nothing was changed.")
            return
        finally:
            self._set_running(False)
        if result.fallback_reason:
            problem = problem_for_fallback(result.fallback_reason)
        if problem is not None:
            self.banner.show_problem(problem)
        self._show(result, text, preset)
        self._refresh_balance()
        if result.fallback_reason and out_of_credits(result.fallback_reason):
            self.offer_top_up()

    def _show(self, result: EnhanceResult, text: str, preset: Preset) -> None:
        self.last_result = result
        self.tabs.show_result(result)
        how = f"AI ({result.ai.model})" if result.mode is Mode.AI and result.ai else "offline"
        self.status.setText(f"Done {how} in {result.timings.total_ms:.0f} ms.")
        self.copy_button.setEnabled(True)
        self.tabs.focus_result()  # so Enter copies and closes
        if self.context.settings.desktop.keep_history:
            self.context.history.add(result.mode.value, preset.name, text, result.text)
            self.history.refresh()
        self.result_ready.emit(result)

    def load_entry(self, entry: HistoryEntry) -> None:
        """Put a past enhancement back in the popup."""
        self.input.setPlainText(entry.input)
        self.tabs.begin(entry.input)
        self.tabs.show_text(entry.output)
        self.copy_button.setEnabled(True)
        self.status.setText(f"From history ({entry.ts:%d %b %H:%M}).")

    def _on_banner_action(self, action: Action) -> None:
        if action in (Action.ADD_KEY, Action.CHECK_KEY):
            self.open_settings.emit("keys")
        elif action is Action.OPEN_SETTINGS:
            self.open_settings.emit("")
        elif action is Action.RETRY:
            self.start_enhance()
        elif action is Action.TOP_UP:
            self.offer_top_up()

    # Keyboard.

    def copy_and_close(self) -> None:
        if self.tabs.text and not self.running:
            QGuiApplication.clipboard().setText(ready_to_send(self.tabs.text))
            self.hide()

    def reject(self) -> None:
        """Esc: cancel a running enhancement first, close on the next press."""
        if self.running:
            self.cancel()
        else:
            super().reject()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # The input takes Enter as a newline, so Ctrl+Enter enhances from inside it; the
        # read-only result would swallow Enter, so there it copies and closes.
        if event.type() is not QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if watched is self.input and enter and ctrl:
            self.start_enhance()
            return True
        if watched in self.tabs.views and enter and not ctrl:
            self.copy_and_close()
            return True
        return super().eventFilter(watched, event)


def offer_migration(popup: EnhancePopup) -> MigrationBanner | None:
    """The one-time 500-credit offer, for a user with their own key who has not answered."""
    from promptready.ui.credits.migration import offer_due
    from promptready.ui.credits.modes import has_own_key

    data_dir = popup.context.paths.data_dir
    if popup.context.offline_only or not offer_due(data_dir, has_own_key()):
        return None
    banner = MigrationBanner(popup.credits, data_dir)
    banner.answered.connect(popup.status.setText)
    return banner
