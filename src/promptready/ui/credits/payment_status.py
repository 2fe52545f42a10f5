"""What a payment in the browser is doing, under the buttons that started it: a busy bar while
the user pays and the credit service waits for the payment, then one sentence, with "Check
again" when the payment's confirmation is late. The zero-balance dialog and Settings → Credits
both show one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from promptready.providers.credits_account import Payment
from promptready.ui.credits.purchase import Purchase


def thanks(payment: Payment) -> str:
    """The sentence once the credits have arrived."""
    return f"Payment received; you now have {payment.credits_remaining} credits."


class PaymentStatus(QWidget):
    """Follows one ``Purchase``: ``arrived`` is called with the payment once it is credited."""

    def __init__(
        self, purchase: Purchase, arrived: Callable[[Payment], object] = lambda _: None
    ) -> None:
        super().__init__()
        self.purchase = purchase
        self._on_arrival = arrived
        self.progress = QProgressBar(minimum=0, maximum=0)  # busy: no known end
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.check_again = QPushButton("Check again")
        self.check_again.hide()
        self.check_again.clicked.connect(self._check_again)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        for widget in (self.progress, self.status, self.check_again):
            column.addWidget(widget)
        purchase.opened.connect(lambda _url: self.waiting("Pay in your browser…"))
        purchase.waiting.connect(
            lambda s: self.waiting(f"Waiting for the payment to be confirmed… {s:.0f} s")
        )
        purchase.arrived.connect(self._arrived)
        purchase.late.connect(self._late)
        purchase.failed.connect(self.stopped)

    def waiting(self, text: str) -> None:
        """The busy bar, and what is being waited for."""
        self.check_again.hide()
        self.progress.show()
        self.status.setText(text)

    def stopped(self, text: str) -> None:
        """No more waiting: one sentence saying how it ended."""
        self.progress.hide()
        self.status.setText(text)

    def _arrived(self, payment: Payment) -> None:
        self.stopped(thanks(payment))
        self._on_arrival(payment)

    def _late(self, text: str) -> None:
        self.stopped(text)
        self.check_again.show()

    def _check_again(self) -> None:
        self.waiting("Checking the payment…")
        self.purchase.check_again()
