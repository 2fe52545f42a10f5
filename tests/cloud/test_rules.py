"""The store's pure rules: ISO-week keys and resets, micro-dollars, cohort assignment, the
spending order of buckets, the monthly refresh, the overdraft bound and the rate limiter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from promptready.cloud.breaker import from_micro, to_micro, week_key, week_resets_at
from promptready.cloud.cohorts import DEFAULT_COHORTS, Cohort, assign_cohort
from promptready.cloud.ratelimit import Gcra
from promptready.cloud.wallet import (
    Bucket,
    LedgerKind,
    WalletState,
    chargeable,
    month_end,
    refresh,
    split_debit,
)

DEC = datetime(2026, 12, 9, tzinfo=UTC)


def _state(
    free: int = 0, purchased: int = 0, sub: int = 0, sub_ends: int | None = None
) -> WalletState:
    return WalletState(free, purchased, sub, sub_ends, "2026-12")


@pytest.mark.parametrize(
    ("at", "week"),
    [
        (datetime(2026, 12, 13, 23, 59, 59, tzinfo=UTC), "2026-W50"),
        (datetime(2026, 12, 14, 0, 0, tzinfo=UTC), "2026-W51"),
        (datetime(2027, 1, 1, tzinfo=UTC), "2026-W53"),
        (datetime(2027, 1, 4, tzinfo=UTC), "2027-W01"),
    ],
)
def test_the_week_key_is_the_iso_week_in_utc(at: datetime, week: str) -> None:
    assert week_key(at) == week


def test_the_week_resets_at_the_next_monday_midnight_utc() -> None:
    assert week_resets_at(datetime(2026, 12, 14, 0, 0, tzinfo=UTC)) == datetime(
        2026, 12, 21, tzinfo=UTC
    )
    assert week_resets_at(datetime(2026, 12, 13, 23, 59, tzinfo=UTC)) == datetime(
        2026, 12, 14, tzinfo=UTC
    )


def test_micro_dollars_are_exact_and_round_half_up() -> None:
    assert to_micro(Decimal("0.0000005")) == 1
    assert to_micro(Decimal("0.0000004")) == 0
    assert sum(to_micro(Decimal("0.000013")) for _ in range(10_000)) == to_micro(Decimal("0.13"))
    assert from_micro(1_500_000) == Decimal("1.5")


def test_the_cohort_split_is_within_2_percent_of_70_20_10() -> None:
    counts = {"A": 0, "B": 0, "C": 0}
    for i in range(10_000):
        counts[assign_cohort(uuid.uuid5(uuid.NAMESPACE_OID, str(i)), DEFAULT_COHORTS).name] += 1
    assert abs(counts["A"] - 7000) <= 200
    assert abs(counts["B"] - 2000) <= 200
    assert abs(counts["C"] - 1000) <= 200


def test_cohort_assignment_is_a_fixed_function_of_the_device_id() -> None:
    # Pinned values: if this changes, every existing device would silently switch cohort.
    pinned = {10: "A", 11: "B", 13: "B", 14: "C", 20: "C", 22: "B"}
    for n, name in pinned.items():
        assert assign_cohort(uuid.UUID(int=n), DEFAULT_COHORTS).name == name


@pytest.mark.parametrize(
    "cohorts", [(), (Cohort("A", 0, "m"),), (Cohort("A", -1, "m"), Cohort("B", 5, "m"))]
)
def test_cohorts_need_positive_total_weight(cohorts: tuple[Cohort, ...]) -> None:
    with pytest.raises(ValueError, match="weights"):
        assign_cohort(uuid.uuid4(), cohorts)


def test_a_cohorts_repr_hides_its_key() -> None:
    assert "sk-secret" not in repr(Cohort("A", 1, "m", "http://x", "sk-secret"))


def test_free_credits_go_first_then_subscription_then_purchased() -> None:
    taken = split_debit(_state(free=5, purchased=10, sub=3), 12, DEC)
    assert taken == {Bucket.FREE: 5, Bucket.SUBSCRIPTION: 3, Bucket.PURCHASED: 4}


def test_subscription_credits_expiring_first_go_before_free_ones() -> None:
    ends = int(datetime(2026, 12, 20, tzinfo=UTC).timestamp())
    taken = split_debit(_state(free=5, sub=3, sub_ends=ends), 4, DEC)
    assert taken == {Bucket.SUBSCRIPTION: 3, Bucket.FREE: 1, Bucket.PURCHASED: 0}


def test_what_no_bucket_covers_is_a_debt_in_purchased() -> None:
    assert split_debit(_state(free=2), 5, DEC)[Bucket.PURCHASED] == 3


def test_the_month_ends_at_the_first_of_the_next_month() -> None:
    assert month_end(datetime(2026, 12, 31, 23, tzinfo=UTC)) == int(
        datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    )


def test_the_monthly_refresh_tops_free_up_to_the_allowance_without_adding() -> None:
    state = WalletState(7, 0, 0, None, "2026-11")
    after, moves = refresh(state, DEC, plan="free", free_month_credits=25)
    assert (after.free, after.free_month) == (25, "2026-12")
    assert [(m.kind, m.delta) for m in moves] == [(LedgerKind.GRANT, 18)]
    again, none = refresh(after, DEC, plan="free", free_month_credits=25)
    assert (again, none) == (after, [])


def test_a_pro_plan_gets_no_free_top_up_but_its_month_is_marked() -> None:
    after, moves = refresh(WalletState(0, 0, 0, None, ""), DEC, plan="pro", free_month_credits=25)
    assert (after.free, after.free_month, moves) == (0, "2026-12", [])


@pytest.mark.parametrize(
    ("actual", "held", "balance", "overdraft", "charged"),
    [(3, 5, 10, 0, 3), (8, 5, 10, 0, 8), (20, 5, 10, 0, 10), (20, 5, 10, 4, 14), (20, 5, 2, 0, 5)],
)
def test_a_settle_charges_beyond_the_hold_only_down_to_minus_the_overdraft(
    actual: int, held: int, balance: int, overdraft: int, charged: int
) -> None:
    assert chargeable(actual, held, balance, overdraft) == charged


def test_the_rate_limiter_allows_one_per_interval() -> None:
    rate = Gcra.per_second(2.0)
    assert rate is not None
    assert rate.interval_us == 500_000 and rate.tolerance_us == 0
    assert rate.retry_after_s(tat_us=1_500_000, now_us=1_000_000) == 0.5


def test_a_rate_of_zero_is_off_and_negative_is_an_error() -> None:
    assert Gcra.per_second(0) is None
    assert Gcra.per_hour(0) is None
    with pytest.raises(ValueError):
        Gcra.per_second(-1)


def test_an_hourly_limit_allows_its_whole_burst() -> None:
    rate = Gcra.per_hour(10)
    assert rate is not None
    assert rate.tolerance_us == 9 * rate.interval_us
