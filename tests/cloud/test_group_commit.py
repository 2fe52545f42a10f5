"""Group commit without a timer: a lone item runs at once, items that queue while a batch runs
form the next batch, and each submitter hears only its own result."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from promptready.cloud.group_commit import MAX_BATCH, GroupCommit


class Recorder:
    """A batch runner that records its batches and can be held open until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def run(self, batch: list[int]) -> list[int | BaseException]:
        self.batches.append(batch)
        await self.gate.wait()
        return [ValueError(f"odd {n}") if n % 2 else n * 10 for n in batch]


async def _queued_behind_a_running_batch(
    group: GroupCommit[int, int], recorder: Recorder, items: Sequence[int]
) -> list[asyncio.Task[int]]:
    recorder.gate.clear()
    first = asyncio.ensure_future(group.submit(0))
    await asyncio.sleep(0)  # the first batch [0] is now in the runner, held at the gate
    waiting = [asyncio.ensure_future(group.submit(n)) for n in items]
    await asyncio.sleep(0)
    recorder.gate.set()
    return [first, *waiting]


async def test_a_lone_item_runs_at_once_in_a_batch_of_its_own() -> None:
    recorder = Recorder()
    assert await GroupCommit(recorder.run).submit(4) == 40
    assert recorder.batches == [[4]]


async def test_items_queued_while_a_batch_runs_form_the_next_batch() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.run)
    tasks = await _queued_behind_a_running_batch(group, recorder, [2, 4, 6])
    assert await asyncio.gather(*tasks) == [0, 20, 40, 60]
    assert recorder.batches == [[0], [2, 4, 6]]


async def test_a_refused_item_fails_only_its_own_submitter() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.run)
    tasks = await _queued_behind_a_running_batch(group, recorder, [2, 3, 4])
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[:2] == [0, 20] and results[3] == 40
    assert isinstance(results[2], ValueError)


async def test_a_failed_batch_fails_its_submitters_and_the_next_batch_still_runs() -> None:
    calls: list[list[int]] = []

    async def run(batch: list[int]) -> list[int]:
        calls.append(batch)
        if len(calls) == 1:
            raise ConnectionError("lost")
        return batch

    group: GroupCommit[int, int] = GroupCommit(run)
    with pytest.raises(ConnectionError):
        await group.submit(1)
    assert await group.submit(2) == 2


async def test_items_the_rule_leaves_out_wait_for_the_next_batch_in_arrival_order() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.run, lambda queued: [len(queued) - 1])
    tasks = await _queued_behind_a_running_batch(group, recorder, [2, 4, 6])
    await asyncio.gather(*tasks)
    assert recorder.batches == [[0], [6], [4], [2]]


async def test_a_submitter_cancelled_before_its_batch_is_dropped() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.run)
    recorder.gate.clear()
    first = asyncio.ensure_future(group.submit(0))
    await asyncio.sleep(0)
    gone = asyncio.ensure_future(group.submit(2))
    kept = asyncio.ensure_future(group.submit(4))
    await asyncio.sleep(0)
    gone.cancel()
    recorder.gate.set()
    assert await first == 0 and await kept == 40
    assert recorder.batches == [[0], [4]]


async def test_a_batch_takes_at_most_max_batch_items() -> None:
    recorder = Recorder()
    group: GroupCommit[int, int] = GroupCommit(recorder.run)
    tasks = await _queued_behind_a_running_batch(group, recorder, [2] * (MAX_BATCH + 1))
    await asyncio.gather(*tasks)
    assert [len(b) for b in recorder.batches] == [1, MAX_BATCH, 1]
