"""Crash reports: whatever goes wrong unexpectedly in the desktop app lands in the private crash
log, and the user is told in one sentence where it is."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer, Signal, qCritical, qInstallMessageHandler, qWarning
from pytestqt.qtbot import QtBot

from promptready.crash import MAX_BYTES, CrashLog, CrashReporter, install
from promptready.paths import app_paths


class Told:
    """A notify callback that remembers what the user was told."""

    def __init__(self) -> None:
        self.sentences: list[str] = []

    def __call__(self, sentence: str) -> None:
        self.sentences.append(sentence)


@pytest.fixture
def told() -> Told:
    return Told()


@pytest.fixture
def reporter(told: Told) -> Iterator[CrashReporter]:
    installed = install(told)
    try:
        yield installed
    finally:
        installed.uninstall()


def logged() -> str:
    return app_paths().crash_log.read_text(encoding="utf-8")


class Button(QObject):
    clicked = Signal()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_qt_slot_is_shown_and_logged(
    reporter: CrashReporter, told: Told, qtbot: QtBot
) -> None:
    def broken_slot() -> None:
        raise ValueError("slot went wrong")

    button = Button()
    button.clicked.connect(broken_slot)
    button.clicked.emit()
    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: len(told.sentences) == 2)
    assert told.sentences[0] == (
        "PromptReady hit an unexpected error (ValueError); this is a bug. Details were saved to "
        f"{app_paths().crash_log}; please include them in a bug report."
    )
    assert logged().count("ValueError: slot went wrong") == 2
    assert "in broken_slot" in logged()


def test_an_exception_that_ends_a_thread_is_reported(reporter: CrashReporter, told: Told) -> None:
    def work() -> None:
        raise OSError("disk gone")

    thread = threading.Thread(target=work, name="exporter")
    thread.start()
    thread.join()
    assert "OSError" in told.sentences[0]
    assert "uncaught exception in exporter" in logged()


def test_an_error_logged_with_its_exception_is_reported(
    reporter: CrashReporter, told: Told
) -> None:
    try:
        raise KeyError("model")
    except KeyError as exc:  # as ui/tasks.py logs a background task that failed
        logging.getLogger("promptready.ui.tasks").error("background task failed", exc_info=exc)
    assert "KeyError" in told.sentences[0]
    assert "background task failed" in logged()


def test_qt_warnings_are_logged_and_qt_errors_shown(
    reporter: CrashReporter, told: Told, qtbot: QtBot
) -> None:
    qInstallMessageHandler(reporter.qt_message)
    try:
        qWarning("a Qt warning")
        assert told.sentences == []
        qCritical("a Qt error")
    finally:
        qInstallMessageHandler(None)
    assert "Qt warning" in logged() and "a Qt warning" in logged()
    assert "Qt: a Qt error" in told.sentences[0]


def segfault_in_a_child() -> None:
    """A Python process with crash reporting installed that dies of a segfault."""
    script = (
        "import ctypes\n"
        "from promptready.crash import install\n"
        "install(print)\n"
        "def dereference_null():\n"
        "    ctypes.string_at(0)\n"
        "dereference_null()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, check=False
    )
    assert done.returncode != 0


def test_a_segfault_leaves_its_python_stack_in_the_crash_log() -> None:
    segfault_in_a_child()
    text = logged()
    assert "Fatal Python error: Segmentation fault" in text
    assert "dereference_null" in text


def test_the_crash_log_is_private(reporter: CrashReporter) -> None:
    CrashLog.of().append("test", "detail")
    log = app_paths().crash_log
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_uninstall_gives_the_hooks_back(told: Told) -> None:
    before = (sys.excepthook, threading.excepthook)
    install(told).uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_the_user_is_told_even_when_the_log_cannot_be_written(
    told: Told, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PROMPTREADY_HOME", str(blocker))
    reporter = CrashReporter(CrashLog.of(), told)
    reporter.report(RuntimeError("boom"), "test")
    assert told.sentences[0].startswith("PromptReady hit an unexpected error (RuntimeError)")
    assert "nowhere" in told.sentences[0]


def test_after_a_segfault_the_next_start_says_where_the_details_are(told: Told) -> None:
    segfault_in_a_child()
    install(told).uninstall()
    assert told.sentences == [
        "PromptReady closed unexpectedly last time; details were saved to "
        f"{app_paths().crash_log}; please include them in a bug report."
    ]
    install(told).uninstall()  # told once, not at every start
    assert len(told.sentences) == 1


def test_a_full_crash_log_is_rotated_once_and_stays_private() -> None:
    log = CrashLog.of()
    log.append("first", "x" * (MAX_BYTES + 1))
    log.append("second", "detail")
    rotated = log.path.with_name("crash.log.1")
    assert "first" in rotated.read_text(encoding="utf-8")
    assert "first" not in logged() and "second" in logged()
    assert stat.S_IMODE(rotated.stat().st_mode) == 0o600
