"""Group commit without a timer (TigerBeetle-style): requests that arrive while a batch is in
the database queue up, and the next batch is whatever is queued when the previous one finished.
A lone request runs at once, so batching adds no latency when there is no concurrency; under
load it turns N commits (and N round trips) into one.

Pure asyncio, no database: the caller gives the function that runs a batch and, optionally, a
rule for which queued items may share one (the rest wait for the next batch, in arrival order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

# Bounds one batch (one transaction's statements and its lock set).
MAX_BATCH = 64


def take_all(queued: Sequence[In]) -> list[int]:
    """The default rule: every queued item, in arrival order."""
    return list(range(len(queued)))


class GroupCommit(Generic[In, Out]):
    """Runs submitted items in batches, one batch in flight at a time.

    ``run`` gets the items of one batch and returns one result per item, in the same order;
    a result that is an exception is raised to that item's submitter only (one refused
    request does not fail the others). An exception raised by ``run`` itself fails the whole
    batch. ``pick`` chooses, from the queue, the indexes that form the next batch, in the order
    ``run`` receives them (at least one; at most ``MAX_BATCH`` are used).
    """

    def __init__(
        self,
        run: Callable[[list[In]], Awaitable[Sequence[Out | BaseException]]],
        pick: Callable[[Sequence[In]], list[int]] = take_all,
    ) -> None:
        self._run = run
        self._pick = pick
        self._queue: list[tuple[In, asyncio.Future[Out]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: In) -> Out:
        """Queue ``item`` and wait for its result. A submitter that is cancelled stops
        waiting; its item still runs with its batch (as a cancelled single statement would
        have, once sent)."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                # A submitter cancelled before its batch began has nobody to answer: drop it.
                self._queue = [entry for entry in self._queue if not entry[1].done()]
                if not self._queue:
                    break
                chosen = self._pick([item for item, _ in self._queue])[:MAX_BATCH] or [0]
                batch = [self._queue[i] for i in chosen]
                taken = set(chosen)
                self._queue = [entry for i, entry in enumerate(self._queue) if i not in taken]
                await self._settle([future for _, future in batch], [item for item, _ in batch])
        finally:
            self._drainer = None

    async def _settle(self, futures: list[asyncio.Future[Out]], items: list[In]) -> None:
        try:
            results = await self._run(items)
            if len(results) != len(items):
                raise RuntimeError("a batch must answer once per item")
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()
            raise
        except Exception as error:  # the whole batch failed: every submitter hears why
            for future in futures:
                if not future.done():
                    future.set_exception(error)
            return
        for future, result in zip(futures, results, strict=True):
            if future.done():  # its submitter was cancelled
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
