"""The balance pill next to the popup's cost estimate: the credits a call costs, the balance
after it, coloured by the rate card's balance levels."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from promptready.pricing import Level, RateCard

# The rate card names the levels; the colours are the desktop's own choice.
LEVEL_COLOURS: dict[Level, str] = {"green": "#1e8e3e", "orange": "#e37400", "red": "#d93025"}


def pill_text(balance: int, cost: int) -> str:
    """``12 credits · 240 left → 228 after``: what this enhancement costs and leaves."""
    after = max(0, balance - cost)
    unit = "credit" if cost == 1 else "credits"
    return f"{cost} {unit} · {balance} left → {after} after"


class BalancePill(QLabel):
    """A rounded label showing the balance; its ``level`` property is the colour level."""

    def __init__(self, card: RateCard) -> None:
        super().__init__()
        self.card = card
        self.level: Level | None = None
        self.hide()

    def show_balance(self, balance: int, cost: int) -> None:
        """Show ``balance`` and what one enhancement costing ``cost`` leaves."""
        self.level = self.card.balance_level(balance)
        self.setText(pill_text(balance, cost))
        self.setToolTip("Your PromptReady credits (Settings → Credits to top up)")
        self.setStyleSheet(
            f"QLabel {{ background: {LEVEL_COLOURS[self.level]}; color: white;"
            " border-radius: 9px; padding: 2px 10px; font-weight: 600; }"
        )
        self.show()
