"""Whether the first-run window was answered: a marker file in the data folder. Kept apart from
the window so start-up can ask without importing the credits client the window needs."""

from __future__ import annotations

from pathlib import Path

SEEN_FILE = "first-run-done"  # in the data folder; its presence means the window was answered


def first_run_due(data_dir: Path) -> bool:
    """Whether the window has never been answered on this computer."""
    return not (data_dir / SEEN_FILE).exists()
