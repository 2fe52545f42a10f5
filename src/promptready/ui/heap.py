"""Keep the tray app's heap small once it has started (the glibc parts do nothing elsewhere).

glibc gives each thread that allocates its own heap arena, up to eight per core, and keeps freed
pages until asked: the app's threads (the executor, the local API, the hotkey listener) each held
an arena that was mostly empty, and start-up frees much of what it allocated. Two arenas suffice
for a tray app, and ``malloc_trim`` hands the freed pages back once start-up is over.
"""

from __future__ import annotations

import ctypes
import linecache
import sys
from typing import Any

M_ARENA_MAX = -8  # malloc.h
ARENAS = 2


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: libc's
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit_arenas() -> None:
    """Cap glibc's heap arenas (call before the first thread starts)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, ARENAS)


def release_free_memory() -> None:
    """Drop the source lines PySide6 read at start-up and give freed heap pages back to the
    system (after start-up)."""
    # PySide6's import hook reads the source of every module imported after it (to see whether
    # it uses PySide), which leaves about 3 MB of text in linecache; tracebacks read it again.
    linecache.clearcache()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
