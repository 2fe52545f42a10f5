"""One gateway per data folder: an OS file lock held while it serves, naming its holder.

Budgets and rate limits are kept in the gateway's memory, so two gateways on one ledger would
each allow the whole budget. The lock is an advisory ``flock`` (``msvcrt.locking`` on Windows)
on ``gateway.lock`` beside the ledger; the OS drops it when the process dies, even by kill -9,
so a crash never leaves a stale lock behind. The file says which process and port hold it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from promptready.errors import ConfigError
from promptready.paths import private_file

LOCK_NAME = "gateway.lock"


class FolderLock:
    """The held lock; ``release`` lets it go (safe twice)."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        """Unlock and close."""
        handle, self._handle = self._handle, None
        if handle is not None:
            _unlock(handle)
            handle.close()


def acquire(folder: Path, port: int) -> FolderLock:
    """Lock ``folder`` for a gateway on ``port``, or ConfigError naming who holds it."""
    path = private_file(folder / LOCK_NAME)  # it names our pid and port: the user's business
    handle = path.open("a+", encoding="utf-8")  # held until release()
    if not _try_lock(handle):
        handle.seek(0)
        holder = handle.read(200).split()
        handle.close()
        who = (
            f"process {holder[0]} on port {holder[1]}"
            if len(holder) == 2 and all(part.isdigit() for part in holder)
            else "another process"
        )
        raise ConfigError(
            f"The local API is already running for this data folder ({who}); use that one, "
            "or stop it first (two would each spend the whole budget)."
        )
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()} {port}\n")
    handle.flush()
    return FolderLock(handle)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[str]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
