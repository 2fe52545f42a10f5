"""PostgreSQL's hot statements by the batch: the admits (and the settles) that queue up in one
process while the previous batch is in the database run as ONE transaction, the statement
executed once per request, pipelined (one round trip, one commit). Each request keeps its own
statement, so every wallet rule, the breaker, the rate limit and the idempotency claim are
exactly those of ``hotpath``, and a refusal is that request's own row (the store then hands it
to the portable path), never an error that fails the batch. Each kind has its own connection
(``HotLink``): one batch of a kind is in the database at a time.

Deadlocks are avoided by taking row locks in one global order: spend shards, then wallets (by
device id), then each device's idempotency keys.
- An admit batch uses ONE spend shard for all its requests (the first statement locks it) and
  runs sorted by device, so its wallets lock in ascending order. A refused admit locks no
  wallet but may still claim its key; so a device has at most one keyed admit per batch, run
  after its other admits (the rest wait for the next batch).
- A settle batch is ONE set-based statement (``hotsettle``: the parameters as arrays) that
  locks all its holds, their shards and their wallets, each sorted (``hotpath.batch_locks``),
  before it settles any hold. A batch whose settles disagree on the month's end (the bucket
  order; only across a month boundary) runs the one-hold statement once per hold instead,
  pipelined, the first run taking the same locks.

A batch the database rolls back (a deadlock with some other path, or one request's statement
failing) is rerun one request at a time, as every request ran before batching, so an error
stays the one request's. A lost connection is not retried (the commit may have happened).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from promptready.cloud.group_commit import GroupCommit
from promptready.cloud.hotpath import HotLink, Prepared
from promptready.cloud.hotsettle import batch_params, settle_set_statement

Params = Mapping[str, object]


def admit_order(queued: Sequence[Params]) -> list[int]:
    """The queued admits that form the next batch, in the order they run: sorted by device,
    each device's keyed admit (at most one per batch) after its others."""
    keyed: set[object] = set()
    chosen: list[int] = []
    for i, params in enumerate(queued):
        if params["p_key"] is not None:
            if params["p_device"] in keyed:
                continue  # waits for the next batch
            keyed.add(params["p_device"])
        chosen.append(i)

    def order(i: int) -> tuple[str, bool]:
        return str(queued[i]["p_device"]), queued[i]["p_key"] is not None

    return sorted(chosen, key=order)


async def _one_at_a_time(
    link: HotLink, statement: Prepared, batch: list[Params]
) -> list[Any | BaseException]:
    """Each request's statement on its own (autocommit); a request whose statement fails gets
    its own error while the others keep their answers (theirs have committed)."""
    answers: list[Any | BaseException] = []
    for params in batch:
        try:
            answers.append(await link.fetchrow(statement, params))
        except asyncpg.PostgresError as error:
            answers.append(error)
    return answers


class HotBatches:
    """Group commit for the hot admit and settle statements of one process."""

    def __init__(
        self,
        links: tuple[HotLink, HotLink],
        admit: Prepared,
        settles: tuple[Prepared, Prepared],
    ) -> None:
        """``links``: the admits' and the settles' connections; ``settles``: the lone settle
        statement and the batched one (``hotpath.settle_statement``)."""
        self._admit_link, self._settle_link = links
        self._admit = admit
        self._settle, self._settle_batched = settles
        self._settle_set = Prepared(settle_set_statement())
        self._admits: GroupCommit[Params, Any] = GroupCommit(self._admit_batch, admit_order)
        self._settles: GroupCommit[Params, Any] = GroupCommit(self._settle_batch)

    async def admit(self, params: Params) -> Any:
        """The admit statement's row for ``params`` (its spend shard may be another queued
        admit's: one batch, one shard)."""
        return await self._admits.submit(params)

    async def settle(self, params: Params) -> Any:
        """The settle statement's row for ``params``, or None when the hold was not open."""
        return await self._settles.submit(params)

    async def close(self) -> None:
        """Close both connections (they reopen on next use)."""
        await self._admit_link.close()
        await self._settle_link.close()

    async def _admit_batch(self, batch: list[Params]) -> list[Any | BaseException]:
        link = self._admit_link
        if len(batch) == 1:
            return [await link.fetchrow(self._admit, batch[0])]
        shard = batch[0]["p_shard"]
        shared = [{**params, "p_shard": shard} for params in batch]
        try:
            rows = await link.fetch_each(self._admit, shared)
        except asyncpg.PostgresError:  # rolled back as a whole: one at a time, as before
            return await _one_at_a_time(link, self._admit, batch)
        if len(rows) != len(batch):  # the statement answers one row per run
            raise RuntimeError("an admit batch lost a row")
        return list(rows)

    async def _settle_batch(self, batch: list[Params]) -> list[Any | BaseException]:
        link = self._settle_link
        if len(batch) == 1:
            return [await link.fetchrow(self._settle, batch[0])]
        # The same hold settled twice in one batch is settled once, by its first settle.
        once: dict[object, Params] = {}
        for params in batch:
            once.setdefault(params["p_hold"], params)
        firsts = list(once.values())
        try:
            if len({params["p_month_end"] for params in firsts}) == 1:
                rows = await link.fetch(self._settle_set, batch_params(firsts))
            else:
                rows = await self._settle_pipelined(firsts)
        except asyncpg.PostgresError:  # rolled back as a whole: one at a time, as before
            return await _one_at_a_time(link, self._settle, batch)
        by_hold = {row["hold_id"]: row for row in rows}
        # The same hold twice in one batch: one answer, one None.
        return [by_hold.pop(params["p_hold"], None) for params in batch]

    async def _settle_pipelined(self, batch: list[Params]) -> Any:
        # The first settle locks the whole batch's rows in the global order before any
        # settle touches one; the rest lock nothing more than their own statement does.
        holds = [params["p_hold"] for params in batch]
        runs = [{**params, "p_holds": holds if i == 0 else []} for i, params in enumerate(batch)]
        return await self._settle_link.fetch_each(self._settle_batched, runs)
