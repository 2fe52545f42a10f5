"""The ledger file: rows and rollups written together, queries over a period, prune, bad paths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promptready.errors import ConfigError
from promptready.ledger.store import Ledger
from tests.ledger.makers import DAY, record, recount, rollups


def test_rollups_equal_a_recount_of_the_rows(ledger: Ledger) -> None:
    ledger.write([record(), record(model="gpt-4o", cost_usd=Decimal("0.01")), record(app=None)])
    assert rollups(ledger) == recount(ledger)


def test_a_retried_row_leaves_the_rollups_as_they_were(ledger: Ledger) -> None:
    once = record()
    ledger.write([once])
    before = rollups(ledger)
    assert ledger.write([once]) == 0
    assert ledger.write([once, once]) == 0
    assert rollups(ledger) == before == recount(ledger)


def test_a_batch_mixing_new_and_retried_rows_counts_only_the_new(ledger: Ledger) -> None:
    seen = [record(), record(app="x")]
    ledger.write(seen)
    assert ledger.write([*seen, record(), record(app="x", credits=2)]) == 2
    assert rollups(ledger) == recount(ledger)
    assert ledger.totals("app")[1].calls == 2


def test_a_batch_longer_than_one_statement_is_written_whole_with_its_rollups(
    ledger: Ledger,
) -> None:
    seen = record()
    ledger.write([seen])
    batch = [record(model=f"m{i % 3}", prompt_tokens=i) for i in range(120)]
    assert ledger.write([*batch[:60], seen, *batch[60:]]) == 120
    assert rollups(ledger) == recount(ledger)


def test_an_empty_batch_writes_nothing(ledger: Ledger) -> None:
    assert ledger.write([]) == 0
    assert rollups(ledger) == []


def test_sums_of_many_small_costs_are_exact(ledger: Ledger) -> None:
    ledger.write([record(cost_usd=Decimal("0.000001")) for _ in range(3)])
    ledger.write([record(cost_usd=Decimal("0.1")) for _ in range(3)])
    assert ledger.spend(DAY.date()) == Decimal("0.300003")


def test_costs_are_stored_to_the_micro_dollar(ledger: Ledger) -> None:
    ledger.write([record(cost_usd=Decimal("0.0000014")), record(cost_usd=Decimal("0.0000016"))])
    assert ledger.spend(DAY.date()) == Decimal("0.000003")


def test_the_same_record_written_twice_counts_once(ledger: Ledger) -> None:
    once = record()
    assert ledger.write([once]) == 1
    assert ledger.write([once, record()]) == 1
    assert ledger.totals("day")[0].calls == 2


def test_totals_by_model(ledger: Ledger) -> None:
    ledger.write([record(), record(model="gpt-4o", cost_usd=Decimal("1")), record()])
    by_model = {t.key: (t.calls, t.cost_usd) for t in ledger.totals("model")}
    assert by_model == {"gpt-4o": (1, Decimal("1")), "gpt-4o-mini": (2, Decimal("0.000054"))}


def test_totals_by_app_show_calls_without_an_app_as_a_dash(ledger: Ledger) -> None:
    ledger.write([record(), record(app=None, source="cli")])
    assert [t.key for t in ledger.totals("app")] == ["-", "editor"]


def test_totals_by_mode_add_tokens_and_credits(ledger: Ledger) -> None:
    ledger.write([record(mode="credits", credits=3), record(mode="credits", credits=4), record()])
    credits = ledger.totals("mode")[1]
    assert (credits.key, credits.credits, credits.prompt_tokens) == ("credits", 7, 200)


def test_totals_by_day_over_a_period_include_both_ends(ledger: Ledger) -> None:
    ledger.write([record(timestamp=DAY - timedelta(days=d)) for d in range(5)])
    days = ledger.totals("day", since=date(2026, 11, 17), until=date(2026, 11, 19))
    assert [t.key for t in days] == ["2026-11-17", "2026-11-18", "2026-11-19"]


def test_days_are_utc_days(ledger: Ledger) -> None:
    evening_in_new_york = datetime(2026, 11, 20, 17, 0, tzinfo=ZoneInfo("America/New_York"))
    ledger.write([record(timestamp=evening_in_new_york)])
    assert ledger.totals("day")[0].key == "2026-11-20"


def test_grouping_by_an_unknown_column_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ConfigError, match="Cannot group by 'colour'"):
        ledger.totals("colour")


def test_month_spend_counts_this_month_only(ledger: Ledger) -> None:
    ledger.write([record(cost_usd=Decimal("1.5")), record(app="x", cost_usd=Decimal("2"))])
    ledger.write([record(cost_usd=Decimal("9"), timestamp=DAY - timedelta(days=30))])
    assert ledger.month_spend(DAY.date()) == Decimal("3.5")


def test_budget_spent_is_one_apps_day_and_month(ledger: Ledger) -> None:
    ledger.write(
        [
            record(cost_usd=Decimal("1")),
            record(cost_usd=Decimal("2"), timestamp=DAY - timedelta(days=1)),
            record(app="other", cost_usd=Decimal("5")),
        ]
    )
    assert ledger.budget_spent("editor", DAY.date()) == (Decimal("1"), Decimal("3"))


def test_last_calls_come_newest_first(ledger: Ledger) -> None:
    ledger.write([record(request_id=f"r{h}", timestamp=DAY + timedelta(hours=h)) for h in range(3)])
    assert [row["request_id"] for row in ledger.last(2)] == ["r2", "r1"]


def test_prompt_text_is_dropped_unless_the_user_opted_in(
    open_ledger: Callable[..., Ledger], tmp_path: Path
) -> None:
    plain = open_ledger(tmp_path / "a.db")
    plain.write([record(prompt_text="secret plan")])
    opted = open_ledger(tmp_path / "b.db", store_prompts=True)
    opted.write([record(prompt_text="secret plan")])
    assert plain.last(1)[0]["prompt_text"] is None
    assert opted.last(1)[0]["prompt_text"] == "secret plan"


def test_latencies_average_successful_byok_calls_per_model(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    ledger.write(
        [
            record(latency_ms=100.0, timestamp=now),
            record(latency_ms=300.0, timestamp=now),
            record(latency_ms=9000.0, status="error", timestamp=now),
        ]
    )
    assert ledger.latencies() == {"openai/gpt-4o-mini": 200.0}


def test_prune_deletes_old_rows_and_their_rollups(ledger: Ledger) -> None:
    ledger.write([record(), record(timestamp=DAY - timedelta(days=40))])
    assert ledger.prune(30, today=DAY.date()) == 1
    assert rollups(ledger) == recount(ledger)
    assert [t.key for t in ledger.totals("day")] == ["2026-11-20"]


def test_a_path_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="could not be opened"):
        Ledger(tmp_path / "file" / "l.db")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "l.db").write_bytes(b"this is not SQLite, just text " * 100)
    with pytest.raises(ConfigError, match="move the file aside"):
        Ledger(tmp_path / "l.db")
