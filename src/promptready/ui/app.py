"""``promptready`` with no arguments: one tray app per user on a qasync event loop.

The tray icon shows first, drawn, before the rest of start-up is imported (``ui.early_icon``); its
menu is attached once the shell is built, before the event loop runs, so no click finds it
missing.

qasync.run is avoided on purpose: on Python 3.11 it replaces the global event-loop policy, which
breaks ``asyncio.run`` in other threads (the gateway's). The loop is built and run here instead.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from promptready.ui.early_icon import show_tray_icon
from promptready.ui.single_instance import SingleInstance

if TYPE_CHECKING:
    from promptready.crash import CrashReporter
    from promptready.ui.fallback import FallbackWindow
    from promptready.ui.shell import Shell
    from promptready.ui.tray import Tray

READY_TRAY = "PromptReady is running in the system tray."
READY_WINDOW = "PromptReady is running in a window: this desktop has no system tray."
ALREADY_RUNNING = "PromptReady is already running; its window was brought to the front."


def run_desktop(argv: Sequence[str] = ()) -> int:
    """Start the tray app (or hand over to the running one); returns the exit code."""
    started = time.perf_counter()
    from promptready.ui.heap import limit_arenas
    from promptready.ui.refcount_guard import keep_none_alive

    limit_arenas()  # before any thread: each would take an arena of its own
    keep_none_alive()  # before the first text reaches Qt (PySide6 6.12 on Python 3.11)
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName("PromptReady")
    app.setQuitOnLastWindowClosed(False)
    instance = SingleInstance()
    if not instance.claim():
        print(ALREADY_RUNNING, file=sys.stderr, flush=True)
        return 0
    icon = show_tray_icon(app)
    # Everything from here on is imported after the icon is up (asyncio alone is ~25 ms).
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import qasync

    from promptready.ui.context import DesktopContext
    from promptready.ui.icons import app_icon
    from promptready.ui.main_thread_gc import MainThreadCollector
    from promptready.ui.shell import Shell
    from promptready.ui.theme import apply_theme

    loop = qasync.QEventLoop(app)
    # qasync's own default executor starts ten QThreads at the first run_in_executor (the local
    # API's start); this pool starts a thread only when none is idle, so idle RSS stays low.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="promptready"))
    asyncio.set_event_loop(loop)
    collector = MainThreadCollector(app).start()
    context = DesktopContext.load()
    apply_theme(app, context.settings.desktop.theme)
    # A theme changed anywhere (Settings, `promptready config set`) applies at once.
    context.settings_changed.connect(lambda: apply_theme(app, context.settings.desktop.theme))
    app.setWindowIcon(app_icon())
    shell = Shell(context)
    front = start_front_end(shell, icon)
    reporter = install_crash_reporting(shell)  # once the front end can show what it reports
    instance.activated.connect(front.bring_forward)
    elapsed_ms = (time.perf_counter() - started) * 1000
    on_tray = QSystemTrayIcon.isSystemTrayAvailable()
    print(f"{READY_TRAY if on_tray else READY_WINDOW} ({elapsed_ms:.0f} ms)", file=sys.stderr)
    for problem in context.problems:
        shell.notify("Settings problem", problem)
    with loop:
        QTimer.singleShot(0, shell.start_local_api)  # after the icon is up
        QTimer.singleShot(0, shell.apply_hotkey)
        QTimer.singleShot(0, context.watch_settings)
        QTimer.singleShot(0, lambda: show_first_run(shell))
        loop.run_until_complete(shell.closed.wait())
    instance.release()
    reporter.uninstall()
    collector.stop()
    return 0


def show_first_run(shell: Shell) -> None:
    """The first-run window, once per computer (it answers how to enhance)."""
    from promptready.ui.first_run_seen import first_run_due

    if not first_run_due(shell.context.paths.data_dir):
        return
    from promptready.ui.first_run import FirstRunWindow  # with the credits client: only if due

    window = FirstRunWindow(shell.context, shell.credits)
    window.wants_key.connect(lambda: shell.open_settings("keys"))
    shell.first_run = window  # kept alive while it shows
    window.show()


def install_crash_reporting(shell: Shell) -> CrashReporter:
    """Bugs (slots included), Qt's errors and segfaults go to the crash log; the user is told."""
    from PySide6.QtCore import qInstallMessageHandler

    from promptready import crash

    reporter = crash.install(lambda sentence: shell.notify("Unexpected error", sentence))
    qInstallMessageHandler(reporter.qt_message)
    return reporter


def start_front_end(shell: Shell, icon: QSystemTrayIcon | None = None) -> Tray | FallbackWindow:
    """The tray (on ``icon`` when one is shown already), or the fallback window when the desktop
    has no tray."""
    if icon is not None or QSystemTrayIcon.isSystemTrayAvailable():
        from promptready.ui.tray import Tray

        tray = Tray(shell, icon)
        tray.show()
        return tray
    from promptready.ui.fallback import FallbackWindow

    window = FallbackWindow(shell)
    window.show()
    return window
