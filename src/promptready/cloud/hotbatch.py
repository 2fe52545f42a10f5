"""PostgreSQL's hot statements by the batch: the admits (and the settles) that queue up in one
process while the previous batch is in the database run as ONE transaction, the statement
executed once per request, pipelined (one round trip, one commit). Each request keeps its own
statement, so every wallet rule, the breaker, the rate limit and the idempotency claim are
exactly those of ``hotpath``, and a refusal is that request's own row (the store then hands it
to the portable path), never an error that fails the batch.

Deadlocks are avoided by taking row locks in one global order: spend shards, then wallets (by
device id), then each device's idempotency keys.
- An admit batch uses ONE spend shard for all its requests (the first statement locks it) and
  runs sorted by device, so its wallets lock in ascending order. A refused admit locks no
  wallet but may still claim its key; so a device has at most one keyed admit per batch, run
  after its other admits (the rest wait for the next batch).
- A settle batch first locks its holds, their shards and their wallets, each sorted, in one
  statement (``SETTLE_LOCKS``), then runs the settles.

A batch the database rolls back (a deadlock with some other path, or one request's statement
failing) is rerun one request at a time, as every request ran before batching, so an error
stays the one request's. A lost connection is not retried (the commit may have happened).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import ARRAY, String, any_, bindparam, func, literal, select, tuple_, union_all
from sqlalchemy.sql import Select

from promptready.cloud.group_commit import GroupCommit
from promptready.cloud.hotpath import HotPool, Prepared
from promptready.cloud.schema import holds, wallets, weekly_spend

Params = Mapping[str, object]


def _settle_locks() -> Select[int]:
    """Lock a settle batch's holds, their spend shards and their wallets, each ascending."""
    ids = bindparam("p_holds", type_=ARRAY(String()))
    mine = select(holds.c.week, holds.c.shard, holds.c.device_id).where(holds.c.id == any_(ids))
    mine_sq = mine.subquery("mine")
    one = literal(1).label("n")
    # Each branch locks its rows in ORDER BY order; UNION ALL runs the branches one after the
    # other, so the whole statement locks holds, then shards, then wallets.
    held = select(one).where(holds.c.id == any_(ids)).order_by(holds.c.id).with_for_update()
    shards = (
        select(one)
        .where(
            tuple_(weekly_spend.c.week, weekly_spend.c.shard).in_(
                select(mine_sq.c.week, mine_sq.c.shard)
            )
        )
        .order_by(weekly_spend.c.week, weekly_spend.c.shard)
        .with_for_update(of=weekly_spend)
    )
    owners = (
        select(one)
        .where(wallets.c.device_id.in_(select(mine_sq.c.device_id)))
        .order_by(wallets.c.device_id)
        .with_for_update(of=wallets)
    )
    locked = union_all(*(branch.subquery().select() for branch in (held, shards, owners))).subquery(
        "locked"
    )
    return select(func.count().label("locked")).select_from(locked)


SETTLE_LOCKS = _settle_locks()


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


class HotBatches:
    """Group commit for the hot admit and settle statements of one process."""

    def __init__(self, pool: HotPool, admit: Prepared, settle: Mapping[bool, Prepared]) -> None:
        self._pool = pool
        self._admit = admit
        self._settle = settle
        self._locks = Prepared(SETTLE_LOCKS)
        self._admits: GroupCommit[Params, Any] = GroupCommit(self._admit_batch, admit_order)
        self._settles: GroupCommit[tuple[bool, Params], Any] = GroupCommit(self._settle_batch)

    async def admit(self, params: Params) -> Any:
        """The admit statement's row for ``params`` (its spend shard may be another queued
        admit's: one batch, one shard)."""
        return await self._admits.submit(params)

    async def settle(self, answer: bool, params: Params) -> Any:
        """The settle statement's row for ``params``, or None when the hold was not open."""
        return await self._settles.submit((answer, params))

    async def _admit_batch(self, batch: list[Params]) -> list[Any]:
        if len(batch) == 1:
            return [await self._pool.fetchrow(self._admit, batch[0])]
        shard = batch[0]["p_shard"]
        shared = [{**params, "p_shard": shard} for params in batch]
        try:
            rows = await self._pool.fetch_each(self._admit, shared)
        except asyncpg.PostgresError:  # rolled back as a whole: one at a time, as before
            return [await self._pool.fetchrow(self._admit, params) for params in batch]
        if len(rows) != len(batch):  # the statement answers one row per run
            raise RuntimeError("an admit batch lost a row")
        return list(rows)

    async def _settle_batch(self, batch: list[tuple[bool, Params]]) -> list[Any]:
        if len(batch) == 1:
            answer, params = batch[0]
            return [await self._pool.fetchrow(self._settle[answer], params)]
        runs = [
            (self._settle[answer], [params for flag, params in batch if flag is answer])
            for answer in (False, True)
        ]
        lock = {"p_holds": [params["p_hold"] for _, params in batch]}
        try:
            results = await self._pool.fetch_locked(self._locks, lock, runs)
        except asyncpg.PostgresError:  # rolled back as a whole: one at a time, as before
            return [
                await self._pool.fetchrow(self._settle[answer], params) for answer, params in batch
            ]
        by_hold = {row["hold_id"]: row for rows in results for row in rows}
        # The same hold settled twice in one batch was settled once: one answer, one None.
        return [by_hold.pop(params["p_hold"], None) for _, params in batch]
