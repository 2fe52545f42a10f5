"""PostgreSQL's batched hot path: the order a batch runs in (wallet locks ascending, at most one
keyed admit per device, after its others), and batches that mix devices, refusals and keys
answering every request as it would have been answered alone."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import literal, select

from promptready.cloud import hotpath, hotsettle
from promptready.cloud.hotbatch import HotBatches, admit_order
from promptready.cloud.store import (
    Admission,
    IdempotencyInFlight,
    InsufficientCredits,
    LedgerKind,
    Store,
)
from tests.cloud.conftest import StoreFactory
from tests.cloud.wallets import new_device, store_settings, usage

A = uuid.UUID(int=1)
B = uuid.UUID(int=2)


def test_an_admit_batch_runs_sorted_by_device() -> None:
    queued = [{"p_device": B, "p_key": None}, {"p_device": A, "p_key": None}]
    assert admit_order(queued) == [1, 0]


def test_a_device_has_one_keyed_admit_per_batch_after_its_others() -> None:
    queued: list[dict[str, object]] = [
        {"p_device": A, "p_key": "k1"},
        {"p_device": A, "p_key": None},
        {"p_device": A, "p_key": "k2"},
        {"p_device": B, "p_key": "k3"},
    ]
    assert admit_order(queued) == [1, 0, 3]  # k2 waits for the next batch


async def _admit(
    store: Store, device_id: uuid.UUID, key: str | None, credits: int = 1
) -> Admission | Exception:
    try:
        admitted = await store.admit(
            device_id, credits=credits, cost_usd=Decimal("0.001"), idempotency_key=key
        )
    except Exception as error:  # each request's own outcome is the point here
        return error
    assert isinstance(admitted, Admission)
    return admitted


async def test_a_mixed_burst_is_answered_per_request_and_leaves_exact_wallets(
    make_store: StoreFactory,
) -> None:
    first, second = await make_store(), await make_store()  # two instances
    poor = await new_device(first)  # the free 25 credits: three admits of 8 fit
    rich = await new_device(first, purchased=75)
    burst = [
        *(_admit(store, poor, None, credits=8) for store in (first, second) for _ in range(5)),
        *(_admit(store, rich, None) for store in (first, second) for _ in range(10)),
        *(_admit(store, rich, "same-key") for store in (first, second) for _ in range(3)),
    ]
    outcomes = await asyncio.gather(*burst)
    poor_out, rich_out, keyed_out = outcomes[:10], outcomes[10:30], outcomes[30:]
    assert sum(isinstance(o, Admission) for o in poor_out) == 3
    assert all(isinstance(o, Admission | InsufficientCredits) for o in poor_out)
    assert all(isinstance(o, Admission) for o in rich_out)
    assert sum(isinstance(o, Admission) for o in keyed_out) == 1
    assert all(isinstance(o, Admission | IdempotencyInFlight) for o in keyed_out)
    admitted = [o for o in outcomes if isinstance(o, Admission)]
    stores = [first, second]
    await asyncio.gather(
        *(
            stores[i % 2].settle(a.hold_id, usage(a.credits, "0.001"))
            for i, a in enumerate(admitted)
        )
    )
    assert (await first.credits(poor)).balance == 1
    rich_view = await first.credits(rich)
    assert (rich_view.balance, rich_view.reserved) == (100 - 21, 0)
    assert await first.check_invariants() == []
    debits = [e for e in await first.ledger(rich) if e.kind is LedgerKind.DEBIT]
    assert len(debits) == 21


async def test_settling_a_batch_twice_charges_each_hold_once(make_store: StoreFactory) -> None:
    store = await make_store()
    device = await new_device(store)
    admitted = [await _admit(store, device, None) for _ in range(8)]
    holds = [a.hold_id for a in admitted if isinstance(a, Admission)]
    settles = [store.settle(h, usage(1, "0.001")) for h in holds for _ in range(2)]
    await asyncio.gather(*settles)
    view = await store.credits(device)
    assert (view.balance, view.reserved) == (17, 0)
    assert await store.check_invariants() == []


class RollbackOnce(asyncpg.DeadlockDetectedError):  # type: ignore[misc]
    """What the server answers when it picks this batch as a deadlock's victim."""

    def __init__(self) -> None:
        super().__init__("deadlock detected")


class OneWalletLink:
    """A stand-in for a ``HotLink`` over one wallet: a settle answers a row the first time its
    hold is settled, nothing after; a batch can be made to roll back once. It records the
    holds each statement was asked to lock (None: a lone settle's own)."""

    def __init__(self, *, roll_back_first_batch: bool = False) -> None:
        self.settled: list[object] = []
        self.batches = 0
        self.locks: list[object] = []
        self._roll_back = roll_back_first_batch

    def _settle(self, hold: object) -> dict[str, object] | None:
        if hold in self.settled:
            return None
        self.settled.append(hold)
        return {"hold_id": hold}

    def _batch(self) -> None:
        self.batches += 1
        if self._roll_back:
            self._roll_back = False
            raise RollbackOnce

    async def fetchrow(self, _statement: object, params: Mapping[str, object]) -> object:
        self.locks.append(params.get("p_holds"))
        return self._settle(params["p_hold"])

    async def fetch(self, _statement: object, params: Mapping[str, object]) -> list[object]:
        """The set-based statement: every hold of the batch in one run."""
        self._batch()
        holds = params["p_holds"]
        assert isinstance(holds, list)
        self.locks.append(holds)
        return [row for row in map(self._settle, holds) if row is not None]

    async def fetch_each(
        self, _statement: object, runs: Sequence[Mapping[str, object]]
    ) -> list[dict[str, object]]:
        self._batch()
        self.locks.extend(params["p_holds"] for params in runs)
        answered = [self._settle(params["p_hold"]) for params in runs]
        return [row for row in answered if row is not None]


def _batches(link: OneWalletLink) -> HotBatches:
    statement = hotpath.Prepared(select(literal(1)))
    return HotBatches((link, link), statement, (statement, statement))  # type: ignore[arg-type]


def _params(hold: str, month_end: int = 1_000) -> dict[str, object]:
    """A settle's parameters (the values only matter to the database)."""
    return {
        **dict.fromkeys(hotsettle.ARRAYS),
        **{"p_hold": hold, "p_state": "settled", "p_overdraft": 0, "p_month_end": month_end},
    }


async def _settle_together(batches: HotBatches, holds: list[str]) -> list[object]:
    # All are queued before the batch task first runs, so they form one batch.
    return list(await asyncio.gather(*(batches.settle(_params(hold)) for hold in holds)))


async def test_a_hold_settled_twice_in_one_batch_answers_once() -> None:
    link = OneWalletLink()
    answers = await _settle_together(_batches(link), ["h0", "h1", "h1", "h2"])
    assert answers[0] == {"hold_id": "h0"} and answers[3] == {"hold_id": "h2"}
    assert sorted(answers[1:3], key=str) == [None, {"hold_id": "h1"}]
    assert link.batches == 1


async def test_a_batch_is_one_statement_naming_each_of_its_holds_once() -> None:
    link = OneWalletLink()
    await _settle_together(_batches(link), ["h0", "h1", "h0", "h2"])
    assert link.locks == [["h0", "h1", "h2"]]


async def test_across_a_month_boundary_the_first_settle_of_a_batch_locks_the_whole_batch() -> None:
    # The bucket order changes at the month's end: each settle then runs its own statement.
    link = OneWalletLink()
    batches = _batches(link)
    runs = [_params("h0", month_end=1_000), _params("h1", month_end=2_000), _params("h2")]
    await asyncio.gather(*(batches.settle(params) for params in runs))
    assert link.locks == [["h0", "h1", "h2"], [], []]


async def test_a_lone_settle_runs_without_the_lock_query() -> None:
    link = OneWalletLink()
    await _settle_together(_batches(link), ["h0"])
    assert link.locks == [None]


async def test_a_batch_the_server_rolls_back_is_rerun_one_settle_at_a_time() -> None:
    link = OneWalletLink(roll_back_first_batch=True)
    answers = await _settle_together(_batches(link), ["h0", "h1", "h2"])
    assert answers == [{"hold_id": h} for h in ("h0", "h1", "h2")]
    assert link.settled == ["h0", "h1", "h2"]
    assert link.locks == [None, None, None]  # one at a time: each in its own lock order


async def _charge(store: Store, device_id: uuid.UUID) -> Exception | None:
    """Admit and settle one credit; the error instead, if the database connection failed."""
    try:
        admitted = await store.admit(
            device_id, credits=1, cost_usd=Decimal("0.001"), idempotency_key=None
        )
        assert isinstance(admitted, Admission)
        await store.settle(admitted.hold_id, usage(1, "0.001"))
    except (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        OSError,
    ) as error:
        return error
    return None


async def test_hot_connections_the_server_dropped_are_replaced(migrated_postgres_url: str) -> None:
    store = await Store.open(migrated_postgres_url, store_settings())
    try:
        device = await new_device(store)
        assert await _charge(store, device) is None
        admin = await asyncpg.connect(migrated_postgres_url)
        try:  # what a server restart or an idle-connection reaper does to the hot connections
            dropped = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query ~ '^WITH (spend|hold) AS'"
            )
            assert dropped == 2  # one for admits, one for settles
        finally:
            await admin.close()
        # Each connection may fail the one request that finds it gone (not retried: a lost
        # statement may have committed); a failed settle leaves its hold to expire.
        for _ in range(2):
            await _charge(store, device)
        assert await _charge(store, device) is None
        assert await store.check_invariants() == []
    finally:
        await store.close()
