"""Paying in the browser from the desktop: open Stripe Checkout (or the portal) with an
injectable opener, then wait on the app's loop until the credit service has the payment."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from promptready.errors import PromptReadyError
from promptready.providers.credits_account import PAYMENT_WAIT_S, Account, CheckoutLink, Payment
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.tasks import spawn

Opener = Callable[[str], bool]


def open_in_browser(url: str) -> bool:
    """The desktop's browser (the default opener)."""
    return QDesktopServices.openUrl(QUrl(url))


def late_message(payment: Payment) -> str:
    """What to say when the wait ended before the credits arrived."""
    if payment.paid:
        return "The payment went through but the credits have not arrived yet; check again soon."
    return "No payment was confirmed yet; if you paid, check again in a moment."


class Purchase(QObject):
    """One payment at a time: ``waiting`` hears the seconds waited, then ``arrived`` (the
    payment was credited; the watch has the new balance), ``late`` or ``failed``."""

    opened = Signal(str)  # the page opened
    waiting = Signal(float)
    arrived = Signal(object)  # Payment
    late = Signal(str)  # what to tell the user; ``check_again()`` asks once more
    failed = Signal(str)

    def __init__(
        self,
        watch: CreditsWatch,
        opener: Opener = open_in_browser,
        timeout_s: float = PAYMENT_WAIT_S,
    ) -> None:
        super().__init__()
        self.watch = watch
        self.opener = opener
        self.timeout_s = timeout_s
        self.session_id: str | None = None
        self.plan: str | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def buy(self, pack: str) -> asyncio.Task[None] | None:
        """Open Checkout for ``pack`` and wait for its credits."""
        return self._start(lambda account: account.checkout(pack), None)

    def subscribe(self) -> asyncio.Task[None] | None:
        """Open Checkout for Pro and wait until the wallet is on it."""
        return self._start(lambda account: account.subscribe(), "pro")

    def check_again(self) -> asyncio.Task[None] | None:
        """Ask once more about the last payment (after a late webhook)."""
        if self.session_id is None or self.busy:
            return None
        session_id = self.session_id
        self.task = spawn(self._guarded(lambda account: self._wait(account, session_id, 0.0)))
        return self.task

    def open_portal(self) -> asyncio.Task[None]:
        """Open the billing portal (history, card, cancelling Pro)."""

        async def run(account: Account) -> None:
            url = await account.portal()
            self.opener(url)
            self.opened.emit(url)

        return spawn(self._guarded(run))

    def _start(
        self, start: Callable[[Account], Awaitable[CheckoutLink]], plan: str | None
    ) -> asyncio.Task[None] | None:
        if self.busy:
            return None
        self.plan = plan

        async def run(account: Account) -> None:
            link = await start(account)
            self.session_id = link.session_id
            self.opener(link.url)
            self.opened.emit(link.url)
            await self._wait(account, link.session_id, self.timeout_s)

        self.task = spawn(self._guarded(run))
        return self.task

    async def _wait(self, account: Account, session_id: str, timeout_s: float) -> None:
        payment = await account.wait_for_payment(
            session_id, timeout_s=timeout_s, plan=self.plan, on_wait=self.waiting.emit
        )
        if not payment.fulfilled:
            self.late.emit(late_message(payment))
            return
        self.watch.show(await account.wallet())
        self.arrived.emit(payment)

    async def _guarded(self, run: Callable[[Account], Awaitable[None]]) -> None:
        try:
            await run(self.watch.account())
        except PromptReadyError as exc:
            self.failed.emit(str(exc))
