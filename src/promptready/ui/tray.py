"""The tray icon and its menu, rebuilt from the current state each time it opens.

Nothing of the credits client or the keyring is loaded for the icon: the Mode submenu asks the
keyring when it opens, and the balance is watched once AI mode is on (about 8 MB resident
otherwise, and ~250 ms before the icon showed).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from promptready.engine import Mode
from promptready.ui.icons import app_icon
from promptready.ui.shell import Shell


def fill_menu(menu: QMenu, shell: Shell) -> None:
    """Put the actions for the shell's current state into ``menu`` (cleared first)."""
    menu.clear()
    enhance = menu.addAction("Enhance clipboard", shell.enhance_clipboard)
    enhance.setEnabled(not shell.busy)
    if shell.clipboard.can_undo:
        menu.addAction("Undo: put the original text back", shell.undo_clipboard)
    menu.addAction("Open PromptReady…", shell.open_popup)
    if not shell.context.offline_only:
        add_mode_menu(menu, shell)
    menu.addAction("Usage…", shell.open_usage)
    menu.addAction("Settings…", shell.open_settings)
    menu.addSeparator()
    menu.addAction("Quit PromptReady", shell.quit)


def add_mode_menu(menu: QMenu, shell: Shell) -> None:
    """Mode, filled each time it opens (whether a key is stored is the keyring's to say)."""
    modes = menu.addMenu("Mode")
    modes.aboutToShow.connect(lambda: fill_mode_menu(modes, shell))


def fill_mode_menu(modes: QMenu, shell: Shell) -> None:
    """Offline, Credits, and AI (own key) when a key is stored; the current one checked."""
    from promptready.ui.credits.modes import choices, choose, current, has_own_key

    modes.clear()
    group = QActionGroup(modes)
    own_key = has_own_key()
    now = current(shell.context, own_key)
    for choice in choices(shell.context, own_key):
        action = QAction(choice.value, modes, checkable=True, checked=choice is now)
        action.triggered.connect(lambda _=False, c=choice: choose(shell.context, c))
        group.addAction(action)
        modes.addAction(action)


class Tray:
    """The system tray icon; notifications appear as its messages."""

    def __init__(self, shell: Shell, icon: QSystemTrayIcon | None = None) -> None:
        """The tray on ``icon`` (shown early at start-up), or on an icon of its own."""
        self.shell = shell
        self.icon = icon or QSystemTrayIcon(app_icon())
        self.icon.setToolTip("PromptReady")
        self.menu = QMenu()
        self.menu.aboutToShow.connect(lambda: fill_menu(self.menu, shell))
        fill_menu(self.menu, shell)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        # Clicking a notification after an in-place enhancement is the quick way back.
        self.icon.messageClicked.connect(self._on_message_clicked)
        self._undoable = False
        self._top_up = False
        shell.notified.connect(self._show_message)
        self._watching = False
        self._watch_when_ai()
        shell.context.settings_changed.connect(self._watch_when_ai)
        shell.quitting.connect(self.icon.hide)

    def show(self) -> None:
        self.icon.show()

    def bring_forward(self) -> None:
        """A second launch opens the popup."""
        self.shell.open_popup()

    def _watch_when_ai(self) -> None:
        # Credits are spent only in AI mode: until then the balance has nothing to say.
        if not self._watching and self.shell.context.mode() is Mode.AI:
            self._watching = True
            watch_credits(self)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is QSystemTrayIcon.ActivationReason.Trigger:
            self.shell.open_popup()

    def _show_message(self, title: str, message: str, undoable: bool) -> None:
        self._undoable = undoable
        self._top_up = False
        self.icon.showMessage(title, message, app_icon(), 6000)

    def _on_message_clicked(self) -> None:
        if self._top_up:
            self._top_up = False
            self.shell.open_settings("credits")
        elif self._undoable:
            self._undoable = False
            self.shell.undo_clipboard()


def watch_credits(tray: Tray) -> None:
    """The balance in the tooltip, and the low-balance notice (click: Top up in Settings)."""
    from promptready.ui.credits.watch import low_balance_message, tooltip_for

    credits = tray.shell.credits
    credits.changed.connect(lambda wallet: tray.icon.setToolTip(tooltip_for(wallet)))

    def low(balance: int) -> None:
        tray.shell.notify("Credits running low", low_balance_message(balance))
        tray._top_up = True  # after notify: a click on this message opens Top up

    credits.low_balance.connect(low)
    credits.refresh()
