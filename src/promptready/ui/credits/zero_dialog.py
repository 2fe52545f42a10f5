"""The dialog shown when the credits ran out: the packs (the Micro pack is offered only here),
"Use my own key" and "Continue offline". The popup behind keeps the offline result."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from promptready.pricing import CreditPack
from promptready.ui.credits.payment_status import PaymentStatus
from promptready.ui.credits.purchase import Opener, Purchase, open_in_browser
from promptready.ui.credits.watch import CreditsWatch


def pack_label(pack: CreditPack) -> str:
    """``Micro: 100 credits for $3``."""
    return f"{pack.name}: {pack.credits} credits for ${pack.price_usd:g}"


class ZeroBalanceDialog(QDialog):
    """Out of credits: buy a pack here, switch to your own key, or carry on offline."""

    own_key = Signal()
    offline = Signal()

    def __init__(
        self, watch: CreditsWatch, parent: QWidget | None = None, opener: Opener = open_in_browser
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Out of PromptReady credits")
        self.purchase = Purchase(watch, opener)
        self.message = QLabel(
            "You have no PromptReady credits left; this text got the offline result. "
            "Top up, use your own key, or carry on offline."
        )
        self.message.setWordWrap(True)
        self.pack_buttons: dict[str, QPushButton] = {}
        packs = QHBoxLayout()
        for pack in watch.card.packs_for_balance(0):
            button = QPushButton(pack_label(pack))
            button.clicked.connect(lambda _=False, name=pack.name: self.buy(name))
            self.pack_buttons[pack.name] = button
            packs.addWidget(button)
        self.payment = PaymentStatus(self.purchase, arrived=lambda _payment: self.accept())
        own_key = QPushButton("Use my own key")
        own_key.clicked.connect(lambda: self._leave(self.own_key.emit))
        offline = QPushButton("Continue offline")
        offline.clicked.connect(lambda: self._leave(self.offline.emit))
        choices = QHBoxLayout()
        choices.addStretch()
        choices.addWidget(own_key)
        choices.addWidget(offline)
        column = QVBoxLayout(self)
        column.addWidget(self.message)
        column.addLayout(packs)
        column.addWidget(self.payment)
        column.addLayout(choices)

    def buy(self, pack: str) -> None:
        """Open Checkout for ``pack``; the dialog closes once its credits arrive."""
        self.purchase.buy(pack)

    def _leave(self, choose: Callable[[], object]) -> None:
        choose()
        self.accept()
