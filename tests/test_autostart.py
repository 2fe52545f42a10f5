"""Start at login writes and removes the XDG autostart entry (Linux)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from promptready import autostart

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart")


def test_enabling_writes_a_desktop_entry_that_starts_the_app() -> None:
    autostart.set_enabled(True)
    entry = Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "promptready.desktop"
    text = entry.read_text()
    assert autostart.is_enabled() and "Exec=" in text and "-m promptready" in text
    autostart.set_enabled(False)
    assert not entry.exists() and not autostart.is_enabled()
