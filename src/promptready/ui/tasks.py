"""Run coroutines on the qasync loop from Qt slots, never losing an exception."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
_running: set[asyncio.Task[Any]] = set()  # asyncio keeps only weak references to tasks


def spawn(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Schedule ``coro`` on the app's loop; a bug inside it is logged, not swallowed.

    Slots normally run inside the loop; one called before it starts (at start-up) still gets
    the loop the app set, and its task runs once the loop does.
    """
    task = asyncio.get_event_loop().create_task(coro)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", exc_info=task.exception())
