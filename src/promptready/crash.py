"""Crash reports: every unexpected error ends up in one private crash log, and the user is told in
one sentence where it is.

The CLI writes an entry per bug it catches (``error_handler.py``). The desktop app installs a
:class:`CrashReporter` at start-up, which takes over what would otherwise vanish: exceptions
reaching ``sys.excepthook`` (PySide6 sends those raised in slots there), exceptions in other
threads, errors logged by asyncio or by our own modules, Qt's warnings, and with ``faulthandler``
the Python stack of a segfault. No Qt import here: ``ui/app.py`` hands Qt's messages in.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from promptready import __version__
from promptready.paths import AppPaths, app_paths, open_private_append

Notify = Callable[[str], None]  # shows one sentence to the user; callable from any thread
QT_LOGGED = frozenset({"QtWarningMsg", "QtCriticalMsg", "QtFatalMsg"})
QT_SHOWN = frozenset({"QtCriticalMsg", "QtFatalMsg"})
FAULT_MARK = b"Fatal Python error"  # how faulthandler's dump of a dying process begins
TAIL_BYTES = 64 * 1024
MAX_BYTES = 1024 * 1024


def last_run_sentence(where: str) -> str:
    """What the user is told after the previous run died (a segfault, say)."""
    return (
        f"PromptReady closed unexpectedly last time; details were saved to {where}; please "
        "include them in a bug report."
    )


def crash_sentence(kind: str, where: str) -> str:
    """What the user is told about a bug: what happened, where the details are, what to do."""
    return (
        f"PromptReady hit an unexpected error ({kind}); this is a bug. Details were saved to "
        f"{where}; please include them in a bug report."
    )


@dataclass(frozen=True)
class CrashLog:
    """The crash log: private (0600 in a 0700 folder), appended to, one stamped entry each."""

    path: Path

    @classmethod
    def of(cls, paths: AppPaths | None = None) -> CrashLog:
        """The crash log of this data folder."""
        return cls((paths or app_paths()).crash_log)

    def append(self, title: str, detail: str) -> None:
        """Add one entry; ``detail`` is a traceback or a message."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        head = f"--- {stamp} promptready {__version__} on Python {sys.version.split()[0]}: {title}"
        entry = f"{head}\n{detail.rstrip()}\n".encode("utf-8", "replace")
        self._rotate()
        fd = open_private_append(self.path)
        try:
            os.write(fd, entry)  # one write per entry: threads do not interleave their lines
        finally:
            os.close(fd)

    def _rotate(self) -> None:
        """Past MAX_BYTES the log becomes ``crash.log.1`` (replacing the last one), so a flood of
        Qt warnings cannot fill the disk; the rename keeps its private mode."""
        with contextlib.suppress(FileNotFoundError):
            if self.path.stat().st_size > MAX_BYTES:
                self.path.replace(self.path.with_name(self.path.name + ".1"))

    def exception(self, exc: BaseException, where: str = "uncaught exception") -> None:
        """Add the traceback of ``exc``."""
        self.append(where, "".join(traceback.format_exception(exc)))

    def unreported_fault(self) -> bool:
        """Whether the log ends with a fatal error (a segfault's dump) nobody was told about:
        faulthandler writes it after the last entry, and :meth:`acknowledge` adds one after it."""
        try:
            with self.path.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - TAIL_BYTES))
                tail = log.read()
        except OSError:
            return False
        return FAULT_MARK in tail.rpartition(b"\n--- ")[2]

    def acknowledge(self) -> None:
        """Record that the user was told of the fault above."""
        self.append("the fatal error above was reported to the user", "")

    def open_for_faults(self) -> IO[str]:
        """The log opened for ``faulthandler``, which writes to it from a dying process."""
        return os.fdopen(open_private_append(self.path), "a", encoding="utf-8")


@dataclass
class CrashReporter:
    """Routes every unexpected error of the desktop app to the crash log and the user."""

    log: CrashLog
    notify: Notify
    _saved: list[object] = field(default_factory=list)
    _faults: IO[str] | None = None
    _handler: logging.Handler | None = None
    _faults_were_on: bool = False

    def install(self) -> CrashReporter:
        """Take over ``sys.excepthook``, ``threading.excepthook``, error logs and faulthandler."""
        if self.log.unreported_fault():
            with contextlib.suppress(OSError):
                self.log.acknowledge()
            self.notify(last_run_sentence(str(self.log.path)))
        self._saved = [sys.excepthook, threading.excepthook]
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
        self._handler = _ErrorLogHandler(self)
        logging.getLogger().addHandler(self._handler)
        self._faults = self.log.open_for_faults()
        self._faults_were_on = faulthandler.is_enabled()
        faulthandler.enable(self._faults, all_threads=True)
        return self

    def uninstall(self) -> None:
        """Give the hooks back (tests, and a clean exit)."""
        if self._saved:
            sys.excepthook, threading.excepthook = self._saved  # type: ignore[assignment]
            self._saved = []
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler = None
        if self._faults is not None:
            faulthandler.disable()
            if self._faults_were_on and sys.__stderr__ is not None:
                # Whoever had it on before (pytest, python -X faulthandler) keeps it on.
                faulthandler.enable(sys.__stderr__, all_threads=True)
            self._faults.close()
            self._faults = None

    def report(self, exc: BaseException, where: str) -> None:
        """Log ``exc`` and tell the user where; never raises (it runs inside error paths)."""
        try:
            self.log.exception(exc, where)
            sentence = crash_sentence(type(exc).__name__, str(self.log.path))
        except OSError as error:
            sentence = crash_sentence(type(exc).__name__, f"nowhere ({error.strerror})")
        self.notify(sentence)

    def excepthook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """``sys.excepthook``: what nobody caught, slots included."""
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        self.report(exc.with_traceback(tb), "uncaught exception")

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: an exception that ended a thread."""
        if args.exc_value is not None:
            name = args.thread.name if args.thread is not None else "a thread"
            self.report(args.exc_value, f"uncaught exception in {name}")

    def qt_message(self, mode: object, _context: object, message: str) -> None:
        """A ``qInstallMessageHandler`` handler: Qt warnings are logged, its errors shown too."""
        level = getattr(mode, "name", str(mode))
        if level not in QT_LOGGED:
            return
        try:
            self.log.append(f"Qt {level.removeprefix('Qt').removesuffix('Msg').lower()}", message)
        except OSError:
            return
        if level in QT_SHOWN:
            self.notify(crash_sentence(f"Qt: {message[:80]}", str(self.log.path)))


class _ErrorLogHandler(logging.Handler):
    """Errors logged with a traceback (a failed background task, asyncio's own reports)."""

    def __init__(self, reporter: CrashReporter) -> None:
        super().__init__(logging.ERROR)
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            self.reporter.report(exc, record.getMessage())
        else:
            with contextlib.suppress(OSError):  # nowhere left to report that
                self.reporter.log.append(record.name, record.getMessage())


def install(notify: Notify, paths: AppPaths | None = None) -> CrashReporter:
    """Install crash reporting for this process, into the data folder's crash log."""
    return CrashReporter(CrashLog.of(paths), notify).install()
