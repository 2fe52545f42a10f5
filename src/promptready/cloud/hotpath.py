"""PostgreSQL's hot path: admit and settle as ONE statement each (data-modifying CTEs), run in
autocommit, so a charged request costs two round trips instead of two transactions of several
statements. The statements are built from the same SQL pieces as the portable path (breaker
shares, the wallet hold and rate-limit conditions, the hold gate), and only the happy path runs
here: on any other outcome the store undoes what the statement did through the ordinary release
path and hands the request to the portable, transactional code, which decides and explains.

Admit: reserve on a spend shard → hold credits on the wallet (only if the shard took the
estimate) → insert the hold (whenever the shard took it, with the credits the wallet gave, so
whatever was reserved is always owned by a hold that expires) → claim the idempotency key.
Settle: resolve the hold (the at-most-once gate) → move its estimate to committed spend → lock
the wallet → split the debit over the buckets (soonest expiry first, beyond the hold only down
to minus the overdraft; the same rule as ``wallet.split_debit``/``wallet.chargeable``) → update
the wallet, append the ledger rows, write the usage event, answer the idempotency key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql import Select

from promptready.cloud import breaker, wallet
from promptready.cloud.holds import RESOLVE, HoldState
from promptready.cloud.schema import (
    devices,
    holds,
    idempotency,
    ledger,
    usage_events,
    wallets,
    weekly_spend,
)
from promptready.cloud.usage import EVENT_COLUMNS


def admit_statement(
    rate_limited: bool,
) -> Select[tuple[int | None, int | None, int | None, str | None, bool]]:
    """Returns one row: (shard, week total, cap, cohort, key claimed); shard None means nothing
    was written, cohort None means the wallet refused (the hold then holds no credits)."""
    spend = breaker.RESERVE_ON.cte("spend")
    took = exists(select(literal(1)).select_from(spend))
    held = wallet.hold_statement(rate_limited).where(took).cte("held")
    credits = func.coalesce(
        select(bindparam("p_credits", type_=BigInteger())).select_from(held).scalar_subquery(), 0
    )
    hold = (
        insert(holds)
        .from_select(
            [
                "id",
                "device_id",
                "credits",
                "cost_micro",
                "week",
                "shard",
                "state",
                "idem_key",
                "device_hash",
                "created_at",
                "expires_at",
            ],
            select(
                bindparam("p_hold", type_=String()),
                bindparam("p_device", type_=holds.c.device_id.type),
                credits,
                bindparam("p_cost", type_=BigInteger()),
                bindparam("p_week", type_=String()),
                spend.c.shard,
                literal(HoldState.OPEN.value),
                bindparam("p_key", type_=String()),
                bindparam("p_hash", type_=String()),
                bindparam("p_now_s", type_=BigInteger()),
                bindparam("p_expires", type_=BigInteger()),
            ).select_from(spend),
        )
        .returning(holds.c.id)
        .cte("hold")
    )
    claim = (
        pg_insert(idempotency)
        .from_select(
            ["device_id", "key", "hold_id", "created_at"],
            select(
                bindparam("p_device", type_=holds.c.device_id.type),
                bindparam("p_key", type_=String()),
                hold.c.id,
                bindparam("p_now_s", type_=BigInteger()),
            )
            .select_from(hold)
            .where(bindparam("p_key", type_=String()).is_not(None)),
        )
        .on_conflict_do_nothing()
        .returning(idempotency.c.hold_id)
        .cte("claim")
    )
    one = select(literal(1).label("one")).subquery("one")
    return (
        select(
            spend.c.shard,
            spend.c.total,
            spend.c.cap,
            select(held.c.cohort).scalar_subquery().label("cohort"),
            exists(select(literal(1)).select_from(claim)).label("claimed"),
        )
        .select_from(one.outerjoin(spend, true()))
        .add_cte(hold, claim)
    )


def batch_locks() -> Select[int]:
    """Lock the holds named by ``p_holds``, their spend shards and their wallets, each ascending
    (one row: how many rows it locked). A batch of settles takes them before any settle touches
    a row, so every path keeps one lock order (spend shards, then wallets, by key) however the
    batch's holds are spread over shards and devices; an empty ``p_holds`` locks nothing."""
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


def settle_statement(batched: bool) -> Select[tuple[object, ...]]:
    """Returns the wallet after the settle (device_id, balance, reserved, buckets, cohort,
    plan, frozen, charged, hold_id), or no row when the hold was not open.

    ``p_answer``: store the response for the idempotency key (p_status, p_body, p_type, None
    otherwise) or forget the key, so one statement serves every settle of a batch.
    ``batched``: the statement takes ``p_holds``; the first settle of a batch names every hold
    of the batch and takes ``batch_locks`` before it resolves its own hold (the others pass an
    empty list), so the batch runs as ONE pipelined round trip, with no separate lock
    statement and no BEGIN/COMMIT of its own. A lone settle's own lock order (its hold, shard,
    wallet) is the global one: it runs the statement without the lock query."""
    resolve = RESOLVE
    if batched:
        ids = bindparam("p_holds", type_=ARRAY(String()))
        # A condition that names no row of holds is a one-time gate, decided before the hold
        # is scanned: the batch's locks come first even when this settle's hold is no longer
        # open, and an empty list skips the lock query.
        gate = or_(func.cardinality(ids) == 0, batch_locks().scalar_subquery() >= 0)
        resolve = resolve.where(gate)
    hold = resolve.cte("hold")
    actual_micro = bindparam("p_committed", type_=BigInteger())
    spend = (
        update(weekly_spend)
        .where(weekly_spend.c.week == hold.c.week, weekly_spend.c.shard == hold.c.shard)
        .values(
            reserved_micro=weekly_spend.c.reserved_micro - hold.c.cost_micro,
            committed_micro=weekly_spend.c.committed_micro + actual_micro,
        )
        .returning(weekly_spend.c.shard)
        .cte("spend")
    )
    sub_first = and_(
        wallets.c.subscription_expires_at.is_not(None),
        wallets.c.subscription_expires_at < bindparam("p_month_end", type_=BigInteger()),
    )
    # Locked after the shard (every path takes the shard first, then the wallet).
    current = (
        select(
            wallets.c.device_id,
            wallets.c.free,
            wallets.c.subscription,
            wallets.c.balance,
            hold.c.credits.label("held"),
            sub_first.label("sub_first"),
        )
        .select_from(wallets.join(hold, wallets.c.device_id == hold.c.device_id))
        .where(exists(select(literal(1)).select_from(spend)))
        .with_for_update(of=wallets)
        .cte("current")
    )
    actual = bindparam("p_actual", type_=BigInteger())
    charged = case(
        (actual <= current.c.held, actual),
        else_=func.greatest(
            current.c.held,
            func.least(actual, current.c.balance + bindparam("p_overdraft", type_=BigInteger())),
        ),
    )
    priced = select(current, charged.label("charged")).cte("priced")
    first_has = case((priced.c.sub_first, priced.c.subscription), else_=priced.c.free)
    first = func.least(priced.c.charged, func.greatest(first_has, 0))
    taken = select(priced, first.label("first")).cte("taken")
    second = func.least(
        taken.c.charged - taken.c.first,
        func.greatest(case((taken.c.sub_first, taken.c.free), else_=taken.c.subscription), 0),
    )
    split = select(
        taken.c.device_id,
        taken.c.held,
        taken.c.charged,
        case((taken.c.sub_first, second), else_=taken.c.first).label("take_free"),
        case((taken.c.sub_first, taken.c.first), else_=second).label("take_sub"),
        (taken.c.charged - taken.c.first - second).label("take_purchased"),
    ).cte("split")
    changed = (
        update(wallets)
        .where(wallets.c.device_id == split.c.device_id)
        .values(
            free=wallets.c.free - split.c.take_free,
            subscription=wallets.c.subscription - split.c.take_sub,
            purchased=wallets.c.purchased - split.c.take_purchased,
            balance=wallets.c.balance - split.c.charged,
            reserved=wallets.c.reserved - split.c.held,
        )
        .returning(
            wallets.c.device_id,
            wallets.c.balance,
            wallets.c.reserved,
            wallets.c.free,
            wallets.c.purchased,
            wallets.c.subscription,
            wallets.c.frozen,
            split.c.charged,
        )
        .cte("changed")
    )
    reason = bindparam("p_reason", type_=String()) + case(
        (
            split.c.charged < actual,
            literal(": charged ")
            + cast(split.c.charged, String())
            + literal(" of ")
            + cast(actual, String())
            + literal(wallet.OVERRUN),
        ),
        else_=literal(""),
    )
    rows = union_all(
        *(
            select(
                split.c.device_id,
                literal(wallet.LedgerKind.DEBIT.value),
                literal(bucket.value),
                -amount,
                literal(f"{wallet.LedgerKind.DEBIT.value}:")
                + bindparam("p_hold", type_=String())
                + literal(f":{bucket.value}"),
                reason,
                bindparam("p_now_s", type_=BigInteger()),
            ).where(amount != 0)
            for bucket, amount in (
                (wallet.Bucket.FREE, split.c.take_free),
                (wallet.Bucket.SUBSCRIPTION, split.c.take_sub),
                (wallet.Bucket.PURCHASED, split.c.take_purchased),
            )
        )
    )
    appended = (
        insert(ledger)
        .from_select(
            ["device_id", "kind", "bucket", "delta", "idem_key", "reason", "created_at"], rows
        )
        .returning(ledger.c.id)
        .cte("appended")
    )
    event = (
        insert(usage_events)
        .from_select(
            EVENT_COLUMNS,
            select(
                hold.c.device_hash,
                hold.c.week,
                bindparam("cohort", type_=String()),
                bindparam("model", type_=String()),
                bindparam("status", type_=String()),
                bindparam("prompt_tokens", type_=BigInteger()),
                bindparam("completion_tokens", type_=BigInteger()),
                actual_micro,
                split.c.charged,
                bindparam("latency_ms", type_=BigInteger()),
                bindparam("p_now_s", type_=BigInteger()),
            ).select_from(hold.join(split, true())),
        )
        .returning(usage_events.c.id)
        .cte("event")
    )
    owned = and_(
        idempotency.c.device_id == hold.c.device_id,
        idempotency.c.key == hold.c.idem_key,
        idempotency.c.hold_id == bindparam("p_hold", type_=String()),
    )
    answer = bindparam("p_answer", type_=Boolean())
    answered = (
        update(idempotency)
        .where(owned, answer)
        .values(
            status=bindparam("p_status", type_=Integer()),
            body=bindparam("p_body"),
            content_type=bindparam("p_type", type_=String()),
        )
        .returning(idempotency.c.hold_id)
        .cte("answered")
    )
    forgotten = (
        idempotency.delete()
        .where(owned, not_(answer))
        .returning(idempotency.c.hold_id)
        .cte("forgotten")
    )
    return (
        select(
            changed,
            devices.c.cohort,
            devices.c.plan,
            # Names the hold: a batch of settles answers only for the holds that were open.
            bindparam("p_hold", type_=String()).label("hold_id"),
        )
        .select_from(changed.join(devices, devices.c.id == changed.c.device_id))
        .add_cte(appended, event, answered, forgotten)
    )


class Prepared:
    """One hot statement compiled once to asyncpg's SQL (``$n`` placeholders): asyncpg then
    prepares it once per connection and each call is a single Bind/Execute round trip, without
    SQLAlchemy's per-execute work (cache-key hashing, result wrapping, pool events)."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=asyncpg_dialect.dialect())  # type: ignore[no-untyped-call]
        self.sql = compiled.string
        self._names = tuple(compiled.positiontup or ())
        # Types that convert their values (arrays) keep doing so: a value goes to asyncpg as
        # SQLAlchemy would have sent it.
        self._processors: dict[str, Callable[[Any], Any]] = {
            name: process
            for name, process in compiled._bind_processors.items()
            if callable(process)  # a tuple of processors only comes with expanding IN lists
        }
        # Only literals have a value of their own; a named parameter the caller forgets must
        # fail, not go to the database as NULL.
        self._defaults = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }

    def args(self, params: Mapping[str, object]) -> list[object]:
        """The positional arguments for ``params`` (literals keep their compiled values)."""
        values = [params[name] if name in params else self._defaults[name] for name in self._names]
        if self._processors:
            for i, name in enumerate(self._names):
                process = self._processors.get(name)
                if process is not None and values[i] is not None:
                    values[i] = process(values[i])
        return values


class HotLink:
    """One plain asyncpg connection for one kind of hot batch (admits, or settles) of a process.

    Group commit runs one batch of a kind at a time, so that batch owns the connection: no
    pool acquire and release around each statement (they cost ≈0.1 ms of CPU per statement,
    measured at c=1), and one backend per kind instead of a pool's. It opens on first use and
    again after it was lost; a batch cancelled mid-statement closes it, since the server may
    still be running what was sent (the next batch starts on a fresh connection)."""

    def __init__(self, dsn: str, *, synchronous_commit: bool) -> None:
        self._dsn = dsn
        # One plan per statement and connection, kept: the hot statements are large (planning
        # one costs more than running it) and their gates decide at run time; otherwise the
        # server may re-plan a settle on every call (a custom plan folds the empty batch list
        # away, so it always looks cheaper than the generic one). A kept plan is made once,
        # maybe while the tables are nearly empty, when a full scan looks cheapest; every row
        # the hot statements touch is reached through a key, so scans are ruled out: a plan
        # made on an empty database stays an index plan as the holds and ledger grow.
        self._settings = {"plan_cache_mode": "force_generic_plan", "enable_seqscan": "off"}
        if not synchronous_commit:
            self._settings["synchronous_commit"] = "off"
        self._conn: Any = None  # asyncpg.Connection (untyped)
        # Held by each use: one statement at a time even if two callers ever shared a link.
        self._busy = asyncio.Lock()

    async def fetchrow(self, statement: Prepared, params: Mapping[str, object]) -> Any:
        """Run ``statement`` in autocommit; its first row (an asyncpg Record) or None."""
        args = statement.args(params)
        async with self._busy:
            conn = await self._connection()
            return await self._guarded(conn, conn.fetchrow(statement.sql, *args))

    async def fetch(self, statement: Prepared, params: Mapping[str, object]) -> Any:
        """Run ``statement`` in autocommit; all its rows (a list of asyncpg Records)."""
        args = statement.args(params)
        async with self._busy:
            conn = await self._connection()
            return await self._guarded(conn, conn.fetch(statement.sql, *args))

    async def fetch_each(self, statement: Prepared, params: Sequence[Mapping[str, object]]) -> Any:
        """Run ``statement`` once per parameter set, pipelined in ONE implicit transaction (one
        round trip, one commit); the rows of every run, in order (a list of Records)."""
        args = [statement.args(p) for p in params]
        async with self._busy:
            conn = await self._connection()
            return await self._guarded(conn, conn.fetchmany(statement.sql, args))

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, server_settings=self._settings)
        return self._conn

    async def _guarded(self, conn: Any, call: Awaitable[Any]) -> Any:
        try:
            return await call
        # asyncpg's own state error: a connection the server dropped mid-use can be left
        # "another operation is in progress" for good; like a cancelled one, it is replaced.
        except (asyncio.CancelledError, asyncpg.InternalClientError):
            conn.terminate()
            self._conn = None
            raise

    async def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()
