"""The one-time offer to users with their own key: 500 free credits to try credits mode.
Accepting claims the grant; either answer is remembered, so the banner never comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from promptready.errors import PromptReadyError
from promptready.paths import write_private
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.tasks import spawn

ANSWERED_FILE = "byok-migration-answered"  # in the data folder; its presence is the answer


def offer_due(data_dir: Path, own_key: bool) -> bool:
    """Whether to offer the grant: a user with a key who has not answered yet."""
    return own_key and not (data_dir / ANSWERED_FILE).exists()


def remember_answer(data_dir: Path, answer: str) -> None:
    """Record the answer ("claimed" or "dismissed") so the offer is never shown again."""
    write_private(data_dir / ANSWERED_FILE, f"{answer}\n")


class MigrationBanner(QFrame):
    """ "Try PromptReady credits: 500 free" with Claim and No thanks."""

    answered = Signal(str)  # what happened, one sentence

    def __init__(self, watch: CreditsWatch, data_dir: Path) -> None:
        super().__init__()
        self.watch = watch
        self.data_dir = data_dir
        self.message = QLabel(
            "You use your own key: try PromptReady credits with 500 free credits, once."
        )
        self.claim = QPushButton("Claim 500 credits")
        self.claim.clicked.connect(self.accept)
        dismiss = QPushButton("No thanks")
        dismiss.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.addWidget(self.message, 1)
        row.addWidget(self.claim)
        row.addWidget(dismiss)

    def accept(self) -> asyncio.Task[None]:
        """Claim the grant at the credit service."""
        self.claim.setEnabled(False)
        return spawn(self._claim())

    async def _claim(self) -> None:
        try:
            granted, wallet = await self.watch.account().claim_migration()
        except PromptReadyError as exc:
            self.claim.setEnabled(True)
            self.message.setText(str(exc))
            return
        remember_answer(self.data_dir, "claimed")
        self.watch.show(wallet)
        self.hide()
        self.answered.emit(f"{granted} credits added; pick Credits in the tray's Mode to use them.")

    def dismiss(self) -> None:
        """Never offer it again."""
        remember_answer(self.data_dir, "dismissed")
        self.hide()
        self.answered.emit("")
