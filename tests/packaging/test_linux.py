"""The Linux desktop entry, the autostart entry and the hicolor icons are valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promptready import autostart
from tests.packaging.desktop_entry import problems

REPO = Path(__file__).resolve().parents[2]
DESKTOP = REPO / "packaging" / "linux" / "promptready.desktop"


def _validate_with_the_tool(path: Path) -> None:
    # desktop-file-validate is the reference; the pure-Python check above holds where it is absent.
    tool = shutil.which("desktop-file-validate")
    if tool is not None:
        done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_desktop_file_has_every_required_key() -> None:
    assert problems(DESKTOP.read_text()) == []
    _validate_with_the_tool(DESKTOP)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart is Linux's")
def test_the_autostart_entry_is_a_valid_desktop_file(tmp_path: Path) -> None:
    autostart.set_enabled(True)
    entry = autostart._linux_entry()
    assert problems(entry.read_text()) == []
    _validate_with_the_tool(entry)
    autostart.set_enabled(False)
    assert not entry.exists()


def test_the_checker_rejects_an_entry_without_exec() -> None:
    assert problems("[Desktop Entry]\nType=Application\nName=X\n") == ["missing Exec"]


def test_the_checker_rejects_a_categories_list_without_its_terminator() -> None:
    text = "[Desktop Entry]\nType=Application\nName=X\nExec=x\nCategories=Utility\n"
    assert problems(text) == ["Categories must end with ';'"]


def test_the_checker_rejects_text_that_is_not_a_desktop_entry() -> None:
    assert problems("hello") == ["the first group must be [Desktop Entry]"]
