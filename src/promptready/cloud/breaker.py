"""The global weekly budget breaker: committed spend plus open holds against the weekly cap.

The window is the ISO week (Monday 00:00 UTC), and it is part of every counter's key, so there
is no reset job and spend recorded just before the boundary stays in the old week. The counter
is split over ``shards`` rows per week and each row may hold only its share of the cap
(``cap // shards``, the remainder spread over the first rows): one conditional UPDATE per
request reserves on one row under that row's lock, and the shares sum to the cap, so concurrent
requests on any number of instances never push committed + reserved over it. A request that
finds its row full tries the row with the most room before the breaker reports open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, Integer, bindparam, case, cast, func, select, update
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import ColumnElement

from promptready.cloud.schema import WEEKLY_CAP_KEY, settings, weekly_spend

MICRO = Decimal("0.000001")


def to_micro(usd: Decimal) -> int:
    """USD as integer micro-dollars (half up, the rate card's rounding)."""
    return int((usd / MICRO).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_micro(micro: int) -> Decimal:
    """Integer micro-dollars as USD."""
    return (Decimal(micro) * MICRO).quantize(MICRO)


def week_key(at: datetime) -> str:
    """The ISO week of ``at`` in UTC, e.g. ``2026-W49``."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def week_resets_at(at: datetime) -> datetime:
    """The next Monday 00:00 UTC after ``at``: when this week's breaker closes."""
    day = at.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC) + timedelta(days=7)


@dataclass(frozen=True)
class Reservation:
    """Where an estimate was reserved, and the week's spend (all micro-dollars) when it was."""

    shard: int
    total_micro: int
    cap_micro: int


def degraded(reservation: Reservation, degrade_at: Decimal) -> bool:
    """Whether the week's spend is above ``degrade_at`` of the cap (send the cheap model)."""
    return Decimal(reservation.total_micro) > Decimal(reservation.cap_micro) * degrade_at


def _cap() -> ColumnElement[int]:
    stored = (
        select(cast(settings.c.value, BigInteger))
        .where(settings.c.key == WEEKLY_CAP_KEY)
        .scalar_subquery()
    )
    return func.coalesce(stored, bindparam("p_default_cap", type_=BigInteger()))


_WEEK = bindparam("p_week", type_=weekly_spend.c.week.type)
_COST = bindparam("p_cost", type_=BigInteger())
# The fit test uses at least one micro-dollar, so a free request is refused once the cap is
# reached instead of slipping through at exactly 100 %.
_NEED = bindparam("p_need", type_=BigInteger())


def _used(rows: FromClause) -> ColumnElement[int]:
    return rows.c.committed_micro + rows.c.reserved_micro


def _fits(rows: FromClause) -> ColumnElement[bool]:
    """SQL: the estimate fits in this row's share of the cap."""
    shards = bindparam("p_shards", type_=BigInteger())
    cap = _cap()
    share = cap // shards + case((rows.c.shard < cap % shards, 1), else_=0)
    return share >= _used(rows) + _NEED


_SHARD = bindparam("p_shard", type_=Integer())


def _total() -> ColumnElement[int]:
    """SQL for RETURNING: the week's spend including this reservation. The other shards are
    summed in a subquery and the updated row read directly, because a subquery sees the row
    before the update on PostgreSQL and after it on SQLite. Nothing in it refers to the
    updated table by name: SQLite's RETURNING drops table qualifiers."""
    rows = weekly_spend.alias("week_total")
    others = (
        select(func.coalesce(func.sum(_used(rows)), 0))
        .where(rows.c.week == _WEEK, rows.c.shard != _SHARD)
        .scalar_subquery()
    )
    return others + _used(weekly_spend)


# Reserve the estimate on shard p_shard (one statement; the hot path).
RESERVE_ON = (
    update(weekly_spend)
    .where(weekly_spend.c.week == _WEEK, weekly_spend.c.shard == _SHARD)
    .where(_fits(weekly_spend))
    .values(reserved_micro=weekly_spend.c.reserved_micro + _COST)
    .returning(weekly_spend.c.shard, _total().label("total"), _cap().label("cap"))
)

# The shard with the most room for the estimate, when the picked one was full (None: none).
_ROOM = weekly_spend.alias("room")
ROOMIEST = (
    select(_ROOM.c.shard).where(_ROOM.c.week == _WEEK, _fits(_ROOM)).order_by(_used(_ROOM)).limit(1)
)

# Move an estimate out of reserved, and the actual cost (0 for a release) into committed.
RESOLVE = (
    update(weekly_spend)
    .where(
        weekly_spend.c.week == bindparam("p_week"),
        weekly_spend.c.shard == bindparam("p_shard"),
    )
    .values(
        reserved_micro=weekly_spend.c.reserved_micro - bindparam("p_reserved", type_=BigInteger()),
        committed_micro=weekly_spend.c.committed_micro
        + bindparam("p_committed", type_=BigInteger()),
    )
)

TOTALS = select(
    func.coalesce(func.sum(weekly_spend.c.committed_micro), 0),
    func.coalesce(func.sum(weekly_spend.c.reserved_micro), 0),
    _cap(),
).where(weekly_spend.c.week == _WEEK)


def reserve_params(
    week: str, shard: int, cost_micro: int, cap_micro: int, shards: int
) -> dict[str, object]:
    """The bound values for ``RESERVE_ON`` and ``ROOMIEST``."""
    return {
        "p_week": week,
        "p_shard": shard,
        "p_cost": cost_micro,
        "p_need": max(cost_micro, 1),
        "p_default_cap": cap_micro,
        "p_shards": shards,
    }


def week_rows(week: str, shards: int) -> list[dict[str, object]]:
    """The zeroed counter rows of a week, inserted the first time the week is seen."""
    return [
        {"week": week, "shard": s, "committed_micro": 0, "reserved_micro": 0} for s in range(shards)
    ]
