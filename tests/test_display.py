"""Before Qt starts (it aborts the process when it cannot show windows), the app says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptready.display import NO_DISPLAY, NO_XCB_CURSOR, display_problem, loadable


def found(name: str) -> str | None:
    return f"lib{name}.so.0"


def missing(name: str) -> str | None:
    return None


def test_linux_without_any_display_is_refused_with_the_command_line_way() -> None:
    assert display_problem({}, "linux", found) == NO_DISPLAY


def test_x11_with_the_cursor_library_can_open_windows() -> None:
    assert display_problem({"DISPLAY": ":0"}, "linux", found) is None


def test_x11_without_libxcb_cursor_says_what_to_install() -> None:
    assert display_problem({"DISPLAY": ":0"}, "linux", missing) == NO_XCB_CURSOR


def test_wayland_needs_no_x11_library() -> None:
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", missing) is None


def test_a_chosen_qt_platform_is_honoured() -> None:
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", missing) is None


def test_macos_and_windows_always_have_a_display() -> None:
    assert display_problem({}, "darwin", missing) is None
    assert display_problem({}, "win32", missing) is None


def test_starting_the_app_with_no_display_exits_with_a_message_not_an_abort() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    command = [sys.executable, "-m", "promptready"]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3  # EXIT_NO_DISPLAY: `make run` ends cleanly on it
    assert "no graphical display" in done.stderr
    assert "promptready enhance" in done.stderr


def test_headless_make_run_ends_with_the_message_and_no_make_error(tmp_path: Path) -> None:
    import shutil

    if shutil.which("make") is None:
        pytest.skip("needs make")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "promptready").symlink_to(Path(sys.executable).parent / "promptready")
    for stamp in (".installed-run", ".installed"):
        (tmp_path / ".venv" / stamp).touch()
    makefile = Path(__file__).parents[1] / "Makefile"
    (tmp_path / "pyproject.toml").touch()
    os.utime(tmp_path / "pyproject.toml", (0, 0))  # older than the stamps: nothing to install
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        ["make", "-s", "-f", str(makefile), "run"],
        cwd=tmp_path,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "no graphical display" in done.stderr and "Error" not in done.stderr


def test_the_quick_check_agrees_with_find_library_on_xcb_cursor() -> None:
    import ctypes.util

    slow = ctypes.util.find_library("xcb-cursor")  # the slow check it replaces, as the oracle
    assert (loadable("xcb-cursor") is None) == (slow is None)


def test_a_library_nobody_has_is_missing() -> None:
    assert loadable("no-such-library-promptready") is None
