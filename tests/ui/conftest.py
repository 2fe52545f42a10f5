"""Qt windows on a real qasync loop, over the isolated home: real settings file, file keyring,
SQLite ledger and history, and the fake upstream for AI mode."""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import gc
import os
import select
import shutil
import signal
import subprocess
from collections.abc import Callable, Coroutine, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import keyring
import pytest
import qasync
from keyring.backends.fail import Keyring as FailKeyring
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from promptready.paths import app_paths
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import AISettings, EnhanceSettings, Settings, save_settings
from promptready.ui.context import DesktopContext
from promptready.ui.refcount_guard import keep_none_alive
from tests.fakes.upstream import FakeUpstream

keep_none_alive()  # the whole session passes text to Qt; see refcount_guard

T = TypeVar("T")
UI_TESTS = Path(__file__).parent
PR_SET_PDEATHSIG = 1  # linux/prctl.h
KEY = "sk-desktop-test-key-0123456789-SECRET"
ROUGH = "write a python script that renames photos by date for [AUDIENCE?]"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """Qt tests collect garbage on the main thread only, as the app does
    (``ui/main_thread_gc.py``): a widget or timer freed by a collection in a server's or an
    executor's thread is destroyed off its thread and a later event crashes the process. The
    collection after the test runs once pytest has dropped the test's fixtures."""
    if UI_TESTS not in item.path.parents:
        return (yield)
    gc.collect()
    gc.disable()
    try:
        return (yield)
    finally:
        gc.collect()
        gc.enable()


class Loop:
    """Runs test scenarios on a qasync loop, so Qt events and asyncio tasks interleave."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 20) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout_s))


async def until(condition: Callable[[], object], timeout_s: float = 10) -> None:
    """Let the loop run until ``condition()`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.01)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[Loop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield Loop(loop)
    finally:
        loop.run_until_complete(asyncio.sleep(0.01))  # let finished tasks report
        # A task still pending would wait forever on a closed loop, holding its window alive.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        # Widgets a test scheduled for deletion go now, while everything they refer to is
        # alive; left for a later test's event processing they can crash it.
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture(autouse=True)
def no_window_outlives_its_test(qapp: QApplication) -> Iterator[None]:
    """Every window a test opened is deleted after it (after the loop and the context are
    closed): left alive, its timers fire during a later test, on objects that test tore down."""
    yield
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def open_context(qloop: Loop, settings: Settings | None = None) -> DesktopContext:
    if settings is not None:
        save_settings(settings, app_paths().settings_file)
    return DesktopContext.load()


@pytest.fixture
def context(qloop: Loop) -> Iterator[DesktopContext]:
    """A desktop context on default settings (offline)."""
    ctx = open_context(qloop)
    yield ctx
    qloop.run(ctx.aclose())


def ai_settings(upstream: FakeUpstream, **ai: Any) -> Settings:
    base = AISettings(
        provider="fake", model="gpt-4o-mini", custom_providers={"fake": upstream.base_url}
    )
    return Settings(enhance=EnhanceSettings(mode="ai"), ai=dataclasses.replace(base, **ai))


@pytest.fixture
def ai_context(qloop: Loop, upstream: FakeUpstream) -> Iterator[DesktopContext]:
    """AI mode on the fake upstream, with a key in the file keyring."""
    SecretStore().set_key("fake", ApiKey(KEY))
    ctx = open_context(qloop, ai_settings(upstream))
    yield ctx
    qloop.run(ctx.aclose())


@pytest.fixture
def keyless_ai_context(qloop: Loop, upstream: FakeUpstream) -> Iterator[DesktopContext]:
    """AI mode chosen, but no key stored."""
    ctx = open_context(qloop, ai_settings(upstream))
    yield ctx
    qloop.run(ctx.aclose())


@pytest.fixture
def locked_keyring() -> Iterator[None]:
    """The keyring refuses every call (keyring's own failing backend)."""
    keyring.set_keyring(FailKeyring())
    try:
        yield
    finally:
        keyring.core._keyring_backend = None  # the next test resolves its own


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """A private Xvfb; ``-displayfd`` picks a free display and reports it once it accepts
    connections. DISPLAY points at it for the module's tests."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install xvfb xdotool)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - only a prctl call in the child
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 10)
        number = os.read(read_end, 16).decode().strip() if ready else ""
        if not number:
            raise AssertionError("Xvfb did not start within 10 s")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DISPLAY", f":{number}")
            patch.delenv("WAYLAND_DISPLAY", raising=False)
            yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(10)


def _die_with_parent() -> None:
    """In the child: the kernel ends it when the test process ends, even by a crash."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
