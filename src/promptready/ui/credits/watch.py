"""The device's credit balance as the desktop knows it: fetched off the Qt thread on the app's
loop, announced to the pill and the tray, and the low-balance notice raised once per session."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject, Signal

from promptready.engine import Mode
from promptready.errors import PromptReadyError
from promptready.pricing import RateCard, load_rate_card
from promptready.providers.credits import CREDITS, device_auth
from promptready.providers.credits_account import Account, Wallet
from promptready.ui.context import DesktopContext
from promptready.ui.credits.low_balance import low_balance_due
from promptready.ui.tasks import spawn


def tooltip_for(wallet: Wallet | None) -> str:
    """The tray icon's tooltip: the app's name, and the balance once known."""
    if wallet is None:
        return "PromptReady"
    return f"PromptReady · {wallet.credits_remaining} credits"


def low_balance_message(balance: int) -> str:
    """The once-per-session notice; its action is Top up."""
    return f"You have {balance} PromptReady credits left; click to top up."


class CreditsWatch(QObject):
    """Knows the last wallet; ``refresh()`` asks the credit service again without blocking."""

    changed = Signal(object)  # Wallet
    low_balance = Signal(int)  # the balance, once per session when the notice is due
    failed = Signal(str)  # why the balance could not be read

    def __init__(self, context: DesktopContext, card: RateCard | None = None) -> None:
        super().__init__()
        self.context = context
        self.card = card if card is not None else load_rate_card()
        self.wallet: Wallet | None = None
        self.warned = False
        self._fetching: asyncio.Task[None] | None = None

    @property
    def ai_spends_credits(self) -> bool:
        """Whether AI mode goes through PromptReady credits (no key of the user's own)."""
        return not self.context.offline_only and self.context.ai_target().provider == CREDITS

    @property
    def applies(self) -> bool:
        """Whether enhancements now spend PromptReady credits (the default mode is AI)."""
        return self.context.mode() is Mode.AI and self.ai_spends_credits

    def account(self) -> Account:
        """This device's account at the credit service (registered silently on first use)."""
        return Account(device_auth(self.context.engine.registry))

    def refresh(self, always: bool = False) -> asyncio.Task[None] | None:
        """Ask for the wallet on the app's loop (one question at a time); None when credits
        do not apply now (``always``: ask anyway, as Settings → Credits does)."""
        if not (always or self.applies):
            return None
        if self._fetching is None or self._fetching.done():
            self._fetching = spawn(self._fetch())
        return self._fetching

    async def _fetch(self) -> None:
        try:
            wallet = await self.account().wallet()
        except PromptReadyError as exc:
            self.failed.emit(str(exc))
            return
        self.show(wallet)

    def show(self, wallet: Wallet) -> None:
        """Take ``wallet`` as the latest (a purchase or a grant answers with one too)."""
        self.wallet = wallet
        self.changed.emit(wallet)
        if not self.warned and low_balance_due(wallet, self.card):
            self.warned = True
            self.low_balance.emit(wallet.credits_remaining)
