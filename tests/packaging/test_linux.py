"""The Linux menu and autostart entries, both from ``autostart.desktop_entry``, are valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promptready import autostart
from tests.packaging.desktop_entry import problems

REPO = Path(__file__).resolve().parents[2]


def _validate_with_the_tool(path: Path) -> None:
    # desktop-file-validate is the reference; the pure-Python check above holds where it is absent.
    tool = shutil.which("desktop-file-validate")
    if tool is not None:
        done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def _menu_entry(folder: Path) -> Path:
    # What packaging/linux/build_deb.sh installs, made the same way.
    done = subprocess.run(
        [sys.executable, "-m", "promptready.autostart"], capture_output=True, text=True, check=True
    )
    path = folder / "promptready.desktop"
    path.write_text(done.stdout)
    return path


def test_the_menu_entry_has_every_required_key(tmp_path: Path) -> None:
    menu = _menu_entry(tmp_path)
    assert problems(menu.read_text()) == []
    _validate_with_the_tool(menu)


def test_the_menu_entry_runs_the_command_on_path_and_does_not_autostart(tmp_path: Path) -> None:
    text = _menu_entry(tmp_path).read_text()
    assert "Exec=promptready\n" in text and "Autostart" not in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart is Linux's")
def test_the_login_entry_differs_from_the_menu_entry_only_in_exec_and_autostart(
    tmp_path: Path,
) -> None:
    menu = _menu_entry(tmp_path).read_text().splitlines()
    autostart.set_enabled(True)
    login = autostart._linux_entry().read_text().splitlines()
    autostart.set_enabled(False)
    differ = {line.partition("=")[0] for line in set(menu) ^ set(login)}
    assert differ == {"Exec", "X-GNOME-Autostart-enabled"}


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
