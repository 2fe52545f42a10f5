"""The app as a user starts it: a real process, no tray here (offscreen), a self-test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptready.ui.app import ALREADY_RUNNING, READY_WINDOW


def launch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "promptready", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def running_app() -> Iterator[subprocess.Popen[str]]:
    app = launch()
    assert app.stderr is not None
    line = ""
    while READY_WINDOW not in line:
        line = app.stderr.readline()
        assert line or app.poll() is None, "the app exited before it was ready"
    yield app
    app.terminate()
    app.communicate(timeout=30)


def test_without_a_tray_the_app_runs_in_a_window(running_app: subprocess.Popen[str]) -> None:
    assert running_app.poll() is None


def test_a_second_launch_hands_over_and_exits(running_app: subprocess.Popen[str]) -> None:
    second = launch()
    _, err = second.communicate(timeout=30)
    assert second.returncode == 0 and ALREADY_RUNNING in err
    assert running_app.poll() is None


def run_self_test() -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "promptready", "--self-test"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_self_test_passes_offline_with_one_line_per_check() -> None:
    done = run_self_test()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    names = [line.split()[1] for line in lines[:-1]]
    assert names == [
        "settings",
        "resources",
        "tokens",
        "ledger",
        "keyring",
        "gateway",
        "credits",
        "windows",
        "files",
    ]
    assert all(line.startswith("ok   ") for line in lines[:-1])
    assert "NOT secure" in done.stdout  # the test keyring is a plain file, and it says so


def test_self_test_fails_when_the_data_folder_is_unusable(isolated_home: Path) -> None:
    blocked = Path(os.environ["PROMPTREADY_HOME"])
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("not a folder")
    done = run_self_test()
    assert done.returncode == 1
    assert any(line.startswith("FAIL ledger") for line in done.stdout.splitlines())
