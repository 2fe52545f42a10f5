"""Settings → Credits: the balance by bucket and the plan, buying a pack or Pro in the browser
(the tab waits until the credits arrive), the billing portal, auto-reload, and the device id."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from promptready.providers.credits_account import AutoReload, Wallet, wallet_facts
from promptready.providers.credits_auth import device_id
from promptready.settings import Settings
from promptready.ui.context import DesktopContext
from promptready.ui.credits.payment_status import PaymentStatus
from promptready.ui.credits.purchase import Opener, Purchase, open_in_browser
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.settings.tab import SettingsTab
from promptready.ui.tasks import spawn

SHOP_PACKS = ("Starter", "Bulk", "Mega")  # the Micro pack is offered only at zero balance


def auto_reload_text(state: AutoReload) -> str:
    """The auto-reload switch's state in a sentence, with the server's reason when it is off."""
    if state.enabled:
        return f"On: below {state.below} credits the {state.pack} pack is bought."
    if state.off_reason:
        return f"Off: {state.off_reason}."
    return "Off."


class CreditsTab(SettingsTab):
    """This device's PromptReady credits; every network call runs on the app's loop."""

    def __init__(
        self, context: DesktopContext, watch: CreditsWatch, opener: Opener = open_in_browser
    ) -> None:
        super().__init__()
        self.context = context
        self.watch = watch
        self.purchase = Purchase(watch, opener)
        self.wallet_form = QFormLayout()
        # Field labels sit on the row's centre line, as the row labels do.
        self.wallet_form.setFormAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.wallet_form.setLabelAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.wallet_values: dict[str, QLabel] = {"Balance": QLabel("not read yet")}
        self.wallet_form.addRow("Balance", self.wallet_values["Balance"])
        self.buy_buttons: dict[str, QPushButton] = {}
        buy = QHBoxLayout()
        for pack in watch.card.packs:
            if pack.name in SHOP_PACKS:
                button = QPushButton(f"Buy {pack.name} ({pack.credits} for ${pack.price_usd:g})")
                button.clicked.connect(lambda _=False, name=pack.name: self.purchase.buy(name))
                self.buy_buttons[pack.name] = button
                buy.addWidget(button)
        self.subscribe_button = QPushButton("Subscribe to Pro")
        self.subscribe_button.clicked.connect(self.purchase.subscribe)
        self.portal_button = QPushButton("Manage billing")
        self.portal_button.clicked.connect(self.purchase.open_portal)
        plan = QHBoxLayout()
        plan.addWidget(self.subscribe_button)
        plan.addWidget(self.portal_button)
        plan.addStretch()
        self.payment = PaymentStatus(self.purchase)
        self.auto_reload = QCheckBox("Auto-reload: buy credits when the balance runs low")
        self.auto_reload.clicked.connect(self._toggle_auto_reload)
        self.auto_reload_state = QLabel()
        self.auto_reload_read: asyncio.Task[None] | None = None  # the read when the tab opened
        self.device = QLabel(f"Device id: {device_id(context.paths.data_dir)}")
        copy = QPushButton("Copy")
        copy.clicked.connect(self.copy_device_id)
        device = QHBoxLayout()
        device.addWidget(self.device, 1)
        device.addWidget(copy)
        column = QVBoxLayout(self)
        column.addLayout(self.wallet_form)
        column.addSpacing(8)
        column.addLayout(buy)
        column.addLayout(plan)
        column.addWidget(self.payment)
        column.addWidget(self.auto_reload)
        column.addWidget(self.auto_reload_state)
        column.addStretch()
        column.addLayout(device)
        watch.changed.connect(self.show_wallet)
        watch.failed.connect(self.payment.status.setText)

    def load(self, settings: Settings) -> None:
        """Ask for the wallet again (the tab has no settings of its own)."""
        if self.watch.wallet is not None:
            self.show_wallet(self.watch.wallet)
        if not self.context.offline_only:
            self.watch.refresh(always=True)
            self.auto_reload_read = spawn(self._read_auto_reload())

    def apply(self, settings: Settings) -> Settings:
        return settings

    def show_wallet(self, wallet: Wallet) -> None:
        """The balance, each bucket, this month's use and the plan."""
        while self.wallet_form.rowCount():
            self.wallet_form.removeRow(0)
        self.wallet_values = {}
        for label, value in wallet_facts(wallet):
            shown = QLabel(value)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.wallet_form.addRow(label, shown)
            self.wallet_values[label] = shown

    def shown_wallet(self) -> dict[str, str]:
        """What the wallet rows say, label to value."""
        return {label: shown.text() for label, shown in self.wallet_values.items()}

    def copy_device_id(self) -> None:
        """The device id on the clipboard, for support."""
        QGuiApplication.clipboard().setText(str(device_id(self.context.paths.data_dir)))

    def _toggle_auto_reload(self, enabled: bool) -> None:
        spawn(self._set_auto_reload(enabled))

    async def _read_auto_reload(self) -> None:
        """The switch's real state when the tab opens (it starts unticked until this answers)."""
        from promptready.errors import PromptReadyError

        try:
            state = await self.watch.account().auto_reload()
        except PromptReadyError as exc:
            self.auto_reload_state.setText(str(exc))
            return
        self._show_auto_reload(state)

    async def _set_auto_reload(self, enabled: bool) -> None:
        from promptready.errors import PromptReadyError

        try:
            state = await self.watch.account().set_auto_reload(enabled)
        except PromptReadyError as exc:
            self.auto_reload.setChecked(not enabled)
            self.auto_reload_state.setText(str(exc))
            return
        self._show_auto_reload(state)

    def _show_auto_reload(self, state: AutoReload) -> None:
        self.auto_reload.setChecked(state.enabled)
        self.auto_reload_state.setText(auto_reload_text(state))
