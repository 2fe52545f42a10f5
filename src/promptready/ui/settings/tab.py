"""What every settings tab does: show settings, and fold its fields back into them."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from promptready.settings import Settings


class SettingsTab(QWidget):
    """A tab of the settings window."""

    def load(self, settings: Settings) -> None:
        """Show ``settings`` in the tab's fields."""
        raise NotImplementedError

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the tab's fields applied."""
        raise NotImplementedError
