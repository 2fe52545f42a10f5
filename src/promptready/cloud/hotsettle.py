"""PostgreSQL's settle batch as ONE set-based statement: the batch's parameters go as arrays
(one element per hold, unnested back into rows), so the database plans and runs one statement
for the whole batch instead of ``hotpath.settle_statement`` once per hold.

Every rule of the one-hold statement holds, per hold, in batch order: the batch's locks first
(``hotpath.batch_locks``: holds, shards, wallets, each ascending), the at-most-once gate on the
hold, the estimate moved to committed spend (summed per shard), the debit beyond the hold only
down to minus the overdraft, soonest-expiring bucket first, one ledger row per bucket moved, the
usage event, the idempotency key answered or forgotten. Several holds of one wallet are debited
one after the other: a recursive step carries the wallet's balance from one hold to the next
(the overdraft limit depends on it), and since buckets drain in one fixed order the buckets a
hold takes are the difference of two running totals. Each hold answers with the wallet as its
own settle left it, exactly as the one-hold statements run in sequence would.

The caller sends each hold once and one ``p_month_end`` for the batch (the bucket order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Integer,
    LargeBinary,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    not_,
    select,
    union_all,
    update,
)
from sqlalchemy.sql import Select

from promptready.cloud import wallet
from promptready.cloud.holds import RESOLVED, HoldState
from promptready.cloud.hotpath import batch_locks
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

# One array per per-hold parameter of ``hotpath.settle_statement`` (same names, in ``args``).
ARRAYS: dict[str, Any] = {
    "p_holds": String(),  # the hold ids (also the batch's lock list)
    "p_committed": BigInteger(),
    "p_actual": BigInteger(),
    "p_reason": String(),
    "p_now_s": BigInteger(),
    "cohort": String(),
    "model": String(),
    "status": String(),
    "prompt_tokens": BigInteger(),
    "completion_tokens": BigInteger(),
    "latency_ms": BigInteger(),
    "p_answer": Boolean(),
    "p_status": Integer(),
    "p_body": LargeBinary(),
    "p_type": String(),
}


def batch_params(batch: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """The set statement's parameters for a batch of one-hold settle parameters."""
    first = batch[0]
    params: dict[str, object] = {
        name: [p["p_hold" if name == "p_holds" else name] for p in batch] for name in ARRAYS
    }
    for name in ("p_state", "p_overdraft", "p_month_end"):
        params[name] = first[name]
    return params


def settle_set_statement() -> Select[tuple[object, ...]]:
    """One row per hold that was open, in no particular order: the wallet after that hold's
    settle (device_id, balance, reserved, free, purchased, subscription, frozen, charged,
    cohort, plan, hold_id)."""
    unnested = func.unnest(
        *(bindparam(name, type_=ARRAY(kind)) for name, kind in ARRAYS.items())
    ).table_valued(*ARRAYS, with_ordinality="n")
    args = select(unnested.render_derived(name="a")).cte("args")
    # An uncorrelated condition is a one-time gate: every lock of the batch comes before the
    # first hold is touched, in the global order.
    hold = (
        update(holds)
        .where(
            holds.c.id == args.c.p_holds,
            holds.c.state == HoldState.OPEN.value,
            batch_locks().scalar_subquery() >= 0,
        )
        .values(state=bindparam("p_state", type_=String()))
        .returning(holds.c.id, *RESOLVED, args.c.n)
        .cte("hold")
    )
    per_shard = (
        select(
            hold.c.week,
            hold.c.shard,
            cast(func.sum(hold.c.cost_micro), BigInteger()).label("cost"),
            cast(func.sum(args.c.p_committed), BigInteger()).label("committed"),
        )
        .select_from(hold.join(args, args.c.n == hold.c.n))
        .group_by(hold.c.week, hold.c.shard)
        .cte("per_shard")
    )
    spend = (
        update(weekly_spend)
        .where(weekly_spend.c.week == per_shard.c.week, weekly_spend.c.shard == per_shard.c.shard)
        .values(
            reserved_micro=weekly_spend.c.reserved_micro - per_shard.c.cost,
            committed_micro=weekly_spend.c.committed_micro + per_shard.c.committed,
        )
        .returning(weekly_spend.c.week, weekly_spend.c.shard)
        .cte("spend")
    )
    # The holds whose shard took the settle, numbered per wallet in batch order.
    ordered = (
        select(
            hold.c.n,
            hold.c.device_id,
            hold.c.credits.label("held"),
            args.c.p_actual.label("actual"),
            func.row_number().over(partition_by=hold.c.device_id, order_by=hold.c.n).label("k"),
        )
        .select_from(
            hold.join(args, args.c.n == hold.c.n).join(
                spend, and_(spend.c.week == hold.c.week, spend.c.shard == hold.c.shard)
            )
        )
        .cte("ordered")
    )
    sub_first = and_(
        wallets.c.subscription_expires_at.is_not(None),
        wallets.c.subscription_expires_at < bindparam("p_month_end", type_=BigInteger()),
    )
    # Locked after the shards (every path takes the shards first, then the wallets).
    current = (
        select(
            wallets.c.device_id,
            wallets.c.balance,
            wallets.c.reserved,
            wallets.c.free,
            wallets.c.purchased,
            wallets.c.subscription,
            wallets.c.frozen,
            func.greatest(case((sub_first, wallets.c.subscription), else_=wallets.c.free), 0).label(
                "first_has"
            ),
            func.greatest(case((sub_first, wallets.c.free), else_=wallets.c.subscription), 0).label(
                "second_has"
            ),
            sub_first.label("sub_first"),
        )
        .where(wallets.c.device_id.in_(select(ordered.c.device_id)))
        .with_for_update(of=wallets)
        .cte("current")
    )
    overdraft = bindparam("p_overdraft", type_=BigInteger())

    def charge(actual: Any, held: Any, balance: Any) -> Any:
        # wallet.chargeable: all of it within the hold, beyond it only down to -overdraft.
        return case(
            (actual <= held, actual),
            else_=func.greatest(held, func.least(actual, balance + overdraft)),
        )

    # Each wallet's holds one after the other: the balance a hold sees is the one the previous
    # hold's debit left.
    start = (
        select(
            ordered.c.n,
            ordered.c.device_id,
            ordered.c.k,
            current.c.balance.label("before"),
            charge(ordered.c.actual, ordered.c.held, current.c.balance).label("charged"),
        )
        .select_from(ordered.join(current, current.c.device_id == ordered.c.device_id))
        .where(ordered.c.k == 1)
        .cte("chain", recursive=True)
    )
    before = start.c.before - start.c.charged
    chain = start.union_all(
        select(
            ordered.c.n,
            ordered.c.device_id,
            ordered.c.k,
            before,
            charge(ordered.c.actual, ordered.c.held, before),
        ).select_from(
            start.join(
                ordered,
                and_(ordered.c.device_id == start.c.device_id, ordered.c.k == start.c.k + 1),
            )
        )
    )
    running = func.sum(chain.c.charged).over(partition_by=chain.c.device_id, order_by=chain.c.k)
    held_so_far = func.sum(ordered.c.held).over(partition_by=chain.c.device_id, order_by=chain.c.k)
    totals = (
        select(
            chain.c.n,
            chain.c.device_id,
            chain.c.charged,
            cast(running, BigInteger()).label("upto"),
            cast(held_so_far, BigInteger()).label("held_upto"),
        )
        .select_from(chain.join(ordered, ordered.c.n == chain.c.n))
        .cte("totals")
    )
    # Buckets drain in one order, so what the first k holds took from a bucket is a running
    # total's share of it; a hold takes the difference from the previous one's.
    upto, before_k = totals.c.upto, totals.c.upto - totals.c.charged
    first_upto = func.least(upto, current.c.first_has)
    first_before = func.least(before_k, current.c.first_has)
    second_upto = func.least(upto - first_upto, current.c.second_has)
    second_before = func.least(before_k - first_before, current.c.second_has)
    taken = (
        select(
            totals.c.n,
            totals.c.device_id,
            totals.c.charged,
            totals.c.upto,
            totals.c.held_upto,
            current.c.sub_first,
            (first_upto - first_before).label("first"),
            (second_upto - second_before).label("second"),
            first_upto.label("first_upto"),
            second_upto.label("second_upto"),
        )
        .select_from(totals.join(current, current.c.device_id == totals.c.device_id))
        .cte("taken")
    )
    split = select(
        taken,
        case((taken.c.sub_first, taken.c.second), else_=taken.c.first).label("take_free"),
        case((taken.c.sub_first, taken.c.first), else_=taken.c.second).label("take_sub"),
        (taken.c.charged - taken.c.first - taken.c.second).label("take_purchased"),
        case((taken.c.sub_first, taken.c.second_upto), else_=taken.c.first_upto).label("free_upto"),
        case((taken.c.sub_first, taken.c.first_upto), else_=taken.c.second_upto).label("sub_upto"),
    ).cte("split")
    per_wallet = (
        select(
            split.c.device_id,
            cast(func.sum(split.c.take_free), BigInteger()).label("free"),
            cast(func.sum(split.c.take_sub), BigInteger()).label("sub"),
            cast(func.sum(split.c.take_purchased), BigInteger()).label("purchased"),
            cast(func.sum(split.c.charged), BigInteger()).label("charged"),
            cast(func.max(split.c.held_upto), BigInteger()).label("held"),
        )
        .group_by(split.c.device_id)
        .cte("per_wallet")
    )
    changed = (
        update(wallets)
        .where(wallets.c.device_id == per_wallet.c.device_id)
        .values(
            free=wallets.c.free - per_wallet.c.free,
            subscription=wallets.c.subscription - per_wallet.c.sub,
            purchased=wallets.c.purchased - per_wallet.c.purchased,
            balance=wallets.c.balance - per_wallet.c.charged,
            reserved=wallets.c.reserved - per_wallet.c.held,
        )
        .returning(wallets.c.device_id)
        .cte("changed")
    )
    mine = split.join(args, args.c.n == split.c.n)
    reason = args.c.p_reason + case(
        (
            split.c.charged < args.c.p_actual,
            literal(": charged ")
            + cast(split.c.charged, String())
            + literal(" of ")
            + cast(args.c.p_actual, String())
            + literal(wallet.OVERRUN),
        ),
        else_=literal(""),
    )
    buckets = (
        (wallet.Bucket.FREE, split.c.take_free),
        (wallet.Bucket.SUBSCRIPTION, split.c.take_sub),
        (wallet.Bucket.PURCHASED, split.c.take_purchased),
    )
    moves = union_all(
        *(
            select(
                split.c.device_id,
                literal(wallet.LedgerKind.DEBIT.value).label("kind"),
                literal(bucket.value).label("bucket"),
                (-amount).label("delta"),
                (
                    literal(f"{wallet.LedgerKind.DEBIT.value}:")
                    + args.c.p_holds
                    + literal(f":{bucket.value}")
                ).label("idem_key"),
                reason.label("reason"),
                args.c.p_now_s.label("created_at"),
                split.c.n,
                literal(order).label("o"),
            )
            .select_from(mine)
            .where(amount != 0)
            for order, (bucket, amount) in enumerate(buckets)
        )
    ).subquery("moves")
    # Ledger ids in batch order, each hold's buckets in the one-hold statement's order.
    columns = ["device_id", "kind", "bucket", "delta", "idem_key", "reason", "created_at"]
    appended = (
        insert(ledger)
        .from_select(
            columns,
            select(*(moves.c[name] for name in columns)).order_by(moves.c.n, moves.c.o),
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
                args.c.cohort,
                args.c.model,
                args.c.status,
                args.c.prompt_tokens,
                args.c.completion_tokens,
                args.c.p_committed,
                split.c.charged,
                args.c.latency_ms,
                args.c.p_now_s,
            )
            .select_from(hold.join(split, split.c.n == hold.c.n).join(args, args.c.n == hold.c.n))
            .order_by(hold.c.n),
        )
        .returning(usage_events.c.id)
        .cte("event")
    )
    # Every resolved hold answers or forgets its key (as the one-hold statement does), charged
    # or not.
    keyed = (
        select(hold.c.device_id, hold.c.idem_key, hold.c.id, args)
        .join(args, args.c.n == hold.c.n)
        .cte("keyed")
    )
    owned = and_(
        idempotency.c.device_id == keyed.c.device_id,
        idempotency.c.key == keyed.c.idem_key,
        idempotency.c.hold_id == keyed.c.id,
    )
    answered = (
        update(idempotency)
        .where(owned, keyed.c.p_answer)
        .values(status=keyed.c.p_status, body=keyed.c.p_body, content_type=keyed.c.p_type)
        .returning(idempotency.c.hold_id)
        .cte("answered")
    )
    forgotten = (
        idempotency.delete()
        .where(owned, not_(keyed.c.p_answer))
        .returning(idempotency.c.hold_id)
        .cte("forgotten")
    )
    return (
        select(
            split.c.device_id,
            (current.c.balance - split.c.upto).label("balance"),
            (current.c.reserved - split.c.held_upto).label("reserved"),
            (current.c.free - split.c.free_upto).label("free"),
            (current.c.purchased - (split.c.upto - split.c.free_upto - split.c.sub_upto)).label(
                "purchased"
            ),
            (current.c.subscription - split.c.sub_upto).label("subscription"),
            current.c.frozen,
            split.c.charged,
            devices.c.cohort,
            devices.c.plan,
            args.c.p_holds.label("hold_id"),
        )
        .select_from(
            split.join(current, current.c.device_id == split.c.device_id)
            .join(args, args.c.n == split.c.n)
            .join(devices, devices.c.id == split.c.device_id)
        )
        .add_cte(changed, appended, event, answered, forgotten)
    )
