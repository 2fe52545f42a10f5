"""The app's actions, shared by the tray menu and the no-tray window: enhance the clipboard,
undo, open windows, switch mode, start the local API and the global hotkey, and quit cleanly."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from promptready.engine import Mode
from promptready.errors import PromptReadyError
from promptready.ui.clipboard import ClipboardEnhancer, Outcome
from promptready.ui.context import DesktopContext
from promptready.ui.heap import release_free_memory
from promptready.ui.hotkey import GlobalHotkey, hotkey_support
from promptready.ui.tasks import spawn
from promptready.ui.wording import for_the_gui

if TYPE_CHECKING:
    from promptready.ui.credits.watch import CreditsWatch
    from promptready.ui.popup import EnhancePopup
    from promptready.ui.selection import SelectionEnhancer
    from promptready.ui.settings.window import SettingsWindow
    from promptready.ui.usage.window import UsageWindow


def bring_forward(window: QWidget) -> None:
    """Show a window and give it the keyboard."""
    window.show()
    window.raise_()
    window.activateWindow()


class Shell(QObject):
    """Everything the tray (or the fallback window) can do."""

    # title, message, and whether Undo applies: shown by the tray or the fallback window
    notified = Signal(str, str, bool)
    local_api_changed = Signal()
    quitting = Signal()

    def __init__(self, context: DesktopContext) -> None:
        super().__init__()
        self.context = context
        self.clipboard = ClipboardEnhancer(context)
        self.clipboard.finished.connect(self._on_clipboard_done)
        self.busy = False
        self.local_api_problem: str | None = None
        self.closed = asyncio.Event()
        self._popup: EnhancePopup | None = None
        self._settings: SettingsWindow | None = None
        self._usage: UsageWindow | None = None
        self._credits: CreditsWatch | None = None
        self.first_run: QWidget | None = None
        self.hotkey: GlobalHotkey | None = None
        self.hotkey_problem: str | None = None
        self._hotkey_wanted = ""
        self._selection: SelectionEnhancer | None = None
        self.selection_hotkey: GlobalHotkey | None = None
        self.selection_problem: str | None = None
        self._selection_wanted = ""
        context.settings_changed.connect(self._apply_local_api)
        context.settings_changed.connect(self.apply_hotkey)

    @property
    def selection(self) -> SelectionEnhancer:
        """The in-place enhancer behind the selection hotkey (made on its first press: its preview
        dialog's Qt classes stay unloaded until then)."""
        if self._selection is None:
            from promptready.ui.selection import SelectionEnhancer

            self._selection = SelectionEnhancer(self.context)
            self._selection.finished.connect(self._on_selection_done)
        return self._selection

    @property
    def credits(self) -> CreditsWatch:
        """The credit balance the popup and the tray show (made on first use: start-up stays
        free of the credits client)."""
        if self._credits is None:
            from promptready.ui.credits.watch import CreditsWatch

            self._credits = CreditsWatch(self.context)
        return self._credits

    def notify(self, title: str, message: str, undoable: bool = False) -> None:
        self.notified.emit(title, for_the_gui(message), undoable)

    # Clipboard.

    def enhance_clipboard(self) -> None:
        self._one_at_a_time(self.clipboard.enhance)

    def _one_at_a_time(self, job: Callable[[], Awaitable[Outcome]]) -> None:
        """Run an in-place enhancement unless one is running; ``busy`` while it runs."""
        if self.busy:
            return
        self.busy = True

        async def run() -> None:
            try:
                await job()
            finally:
                self.busy = False

        spawn(run())

    def _on_clipboard_done(self, outcome: Outcome) -> None:
        title = "Clipboard enhanced" if outcome.changed else "Clipboard unchanged"
        self.notify(title, outcome.summary, undoable=outcome.changed)
        self.credits.refresh()  # the run may have spent credits

    def undo_clipboard(self) -> None:
        if self.clipboard.undo():
            self.notify("Clipboard restored", "The original text is back on the clipboard.")

    # Windows, created on first use.

    def popup(self) -> EnhancePopup:
        if self._popup is None:
            from promptready.ui.popup import EnhancePopup

            self._popup = EnhancePopup(self.context, self.credits)
            self._popup.open_settings.connect(self.open_settings)
        return self._popup

    def open_popup(self) -> None:
        self.context.reload_settings()  # in case the file watch missed a change
        popup = self.popup()
        popup.prefill_from_clipboard()
        bring_forward(popup)

    def settings_window(self) -> SettingsWindow:
        if self._settings is None:
            from promptready.ui.settings.window import SettingsWindow

            self._settings = SettingsWindow(self.context, self.credits)
        return self._settings

    def open_settings(self, tab: str = "") -> None:
        self.context.reload_settings()
        window = self.settings_window()
        window.reload()
        window.show_tab(tab)
        bring_forward(window)

    def usage_window(self) -> UsageWindow:
        if self._usage is None:
            from promptready.ui.usage.window import UsageWindow

            self._usage = UsageWindow(self.context)
        return self._usage

    def open_usage(self) -> None:
        window = self.usage_window()
        window.refresh()
        bring_forward(window)

    def set_mode(self, mode: Mode) -> None:
        self.context.set_mode(mode)

    # The local API runs in its own thread; starting it never blocks the tray.

    def start_local_api(self) -> None:
        spawn(self._apply_local_api_async())

    def _apply_local_api(self) -> None:
        spawn(self._apply_local_api_async())

    async def _apply_local_api_async(self) -> None:
        gateway = self.context.settings.gateway
        api = self.context.local_api if gateway.enabled or self.context.local_api.url else None
        if api is None:
            return
        loop = asyncio.get_running_loop()
        try:
            if gateway.enabled:
                await loop.run_in_executor(None, api.start, gateway.port)
                self.local_api_problem = None
            else:
                await loop.run_in_executor(None, api.stop)
        except PromptReadyError as exc:
            self.local_api_problem = str(exc)
            self.notify("Local API not started", str(exc))
        self.local_api_changed.emit()
        release_free_memory()  # the last of start-up: what it freed goes back to the system

    # Global hotkeys: one opens the popup (off by default), one enhances the selection in place.

    def apply_hotkey(self) -> None:
        """Start, restart or stop the hotkeys to match the settings; say why one cannot run."""
        desktop = self.context.settings.desktop
        wanted = desktop.hotkey if desktop.hotkey_enabled else ""
        if wanted != self._hotkey_wanted:
            self.stop_hotkey()
            self._hotkey_wanted = wanted
            self.hotkey, self.hotkey_problem = self._start_hotkey(wanted, self.open_popup)
        wanted = desktop.selection_hotkey if desktop.selection_hotkey_enabled else ""
        if wanted != self._selection_wanted:
            self.stop_selection_hotkey()
            self._selection_wanted = wanted
            self.selection_hotkey, self.selection_problem = self._start_hotkey(
                wanted, self.enhance_selection, quiet=True
            )

    def _start_hotkey(
        self, wanted: str, action: Callable[[], None], quiet: bool = False
    ) -> tuple[GlobalHotkey | None, str | None]:
        """A running hotkey for ``wanted`` (or none), and why not. The selection hotkey is on by
        default, so where the platform has none (``quiet``) it does not notify at every start."""
        if not wanted:
            return None, None
        try:
            support = hotkey_support()
            if not support.available:
                if quiet:
                    return None, support.reason
                raise PromptReadyError(support.reason)
            hotkey = GlobalHotkey(wanted)
            hotkey.triggered.connect(action)
            hotkey.start()
        except PromptReadyError as exc:
            self.notify("Hotkey not started", str(exc))
            return None, str(exc)
        return hotkey, None

    def stop_hotkey(self) -> None:
        hotkey, self.hotkey, self._hotkey_wanted = self.hotkey, None, ""
        if hotkey is not None:
            hotkey.stop()

    def stop_selection_hotkey(self) -> None:
        hotkey, self.selection_hotkey = self.selection_hotkey, None
        self._selection_wanted = ""
        if hotkey is not None:
            hotkey.stop()

    def enhance_selection(self) -> None:
        """Enhance the text selected in the focused app and paste it back (the hotkey's job)."""
        self._one_at_a_time(self.selection.run)

    def _on_selection_done(self, outcome: Outcome) -> None:
        title = "Selection enhanced" if outcome.changed else "Selection unchanged"
        self.notify(title, outcome.summary)

    # Quit: windows close, the gateway drains, the ledger and HTTP sessions close.

    def quit(self) -> None:
        spawn(self._quit())

    async def _quit(self) -> None:
        self.quitting.emit()
        self.stop_hotkey()
        self.stop_selection_hotkey()
        for window in (self._popup, self._settings, self._usage):
            if window is not None:
                window.close()
        if self._popup is not None:
            self._popup.cancel()
        try:
            await self.context.aclose()
        except Exception as exc:  # quitting must finish even when a file is gone
            print(f"promptready: could not close cleanly ({exc})", file=sys.stderr)
        self.closed.set()
