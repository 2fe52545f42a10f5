"""The selection hotkey for real, on Xvfb: PromptReady and another Qt app in their own processes,
xdotool selecting the other app's text and pressing the hotkey, the enhanced text pasted over the
selection and the user's clipboard put back."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from promptready.engine import Engine
from promptready.paths import app_paths
from promptready.settings import DesktopSettings, Settings, save_settings
from tests.ui.conftest import ROUGH

USERS_CLIPBOARD = "a link the user copied earlier"
FIELD = Path(__file__).with_name("x11_text_field.py")


class Lines:
    """A child process's stdout (or stderr), line by line, readable with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._stream = stream
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        """After the process ended: the pump has read to the end, the pipe is closed."""
        self._thread.join(10)
        self._stream.close()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def until(self, wanted: Callable[[str], bool], timeout_s: float = 15) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"timed out; saw {self.seen[-10:]}")


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stop(process: subprocess.Popen[str], *pipes: Lines) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    for pipe in pipes:
        pipe.close()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture
def x11_env(x_display: str) -> dict[str, str]:
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("XDG_SESSION_TYPE", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


@pytest.fixture
def other_app(x11_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], Lines, int]]:
    process = start([sys.executable, str(FIELD), ROUGH, USERS_CLIPBOARD], x11_env)
    out = Lines(process.stdout)  # type: ignore[arg-type]
    window = json.loads(out.until(lambda line: '"window"' in line))["window"]
    yield process, out, window
    stop(process, out)


@pytest.fixture
def promptready(x11_env: dict[str, str]) -> Iterator[Lines]:
    desktop = DesktopSettings(selection_hotkey="Ctrl+Alt+E", selection_preview=False)
    save_settings(Settings(desktop=desktop), app_paths().settings_file)
    process = start([sys.executable, "-m", "promptready"], x11_env)
    err = Lines(process.stderr)  # type: ignore[arg-type]
    err.until(lambda line: "PromptReady is running" in line)
    yield err
    stop(process, err)


def xdotool(*args: Any) -> None:
    subprocess.run(["xdotool", *map(str, args)], check=True, timeout=10)


def test_the_hotkey_enhances_the_selection_in_another_app_and_restores_the_clipboard(
    other_app: tuple[subprocess.Popen[str], Lines, int], promptready: Lines
) -> None:
    _, out, window = other_app
    xdotool("windowfocus", "--sync", window)
    xdotool("key", "--window", window, "ctrl+a")
    texts: list[str] = []

    def pasted(line: str) -> bool:
        said = json.loads(line)
        if "text" in said:
            texts.append(said["text"])
        return bool(texts) and "renames photos by date" in texts[-1] and texts[-1] != ROUGH

    deadline = time.monotonic() + 20
    while True:  # the listener may need a moment after the tray is up before it hears keys
        xdotool("key", "ctrl+alt+e")
        try:
            out.until(pasted, timeout_s=4)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    expected = Engine().enhance(ROUGH, mode="offline").text
    assert texts[-1].split() == expected.split()  # a one-line field: line breaks became spaces
    out.until(lambda line: json.loads(line).get("clipboard") == USERS_CLIPBOARD, timeout_s=10)
