"""One app per user: a second launch brings the first forward and exits."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from PySide6.QtNetwork import QLocalServer
from pytestqt.qtbot import QtBot

from promptready.ui.app import ALREADY_RUNNING
from promptready.ui.single_instance import SingleInstance, instance_name


def test_the_name_depends_on_the_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    first = instance_name()
    monkeypatch.setenv("PROMPTREADY_HOME", os.environ["PROMPTREADY_HOME"] + "-other")
    assert instance_name() != first and instance_name().startswith("promptready-")


def test_a_second_instance_activates_the_first(qtbot: QtBot) -> None:
    name = f"promptready-test-{uuid.uuid4().hex[:8]}"
    first, second = SingleInstance(name), SingleInstance(name)
    assert first.claim()
    with qtbot.waitSignal(first.activated, timeout=5000):
        assert not second.claim()
    first.release()


def test_a_stale_socket_is_taken_over(qtbot: QtBot) -> None:
    name = f"promptready-test-{uuid.uuid4().hex[:8]}"
    crashed = QLocalServer()
    assert crashed.listen(name)
    crashed.close()  # as if its process had died; nobody answers now
    instance = SingleInstance(name)
    assert instance.claim()
    instance.release()


def test_a_second_launch_of_the_app_focuses_the_first_and_exits(qtbot: QtBot) -> None:
    first = SingleInstance()
    assert first.claim()
    with qtbot.waitSignal(first.activated, timeout=30000):
        launch = subprocess.Popen(
            [sys.executable, "-m", "promptready"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while launch.poll() is None:
            qtbot.wait(20)  # the first instance answers from its event loop
    _, err = launch.communicate(timeout=30)
    first.release()
    assert launch.returncode == 0 and ALREADY_RUNNING in err
