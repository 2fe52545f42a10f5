"""A call paid in credits is shown as credits, never as money: money totals, the month's spend,
``promptready usage``, exports and the self-test's ledger line leave it out. Its dollar value (its credits
at the dearest pack's price, as the meter writes it) still counts against the app's budgets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.ledger.meter import BudgetError, Caller, Meter
from promptready.ledger.records import UsageRecord
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from promptready.paths import app_paths
from promptready.pricing import load_rate_card
from promptready.selftest import check_ledger
from tests.ledger.makers import DAY, record, usage_cli

CARD = load_rate_card()


def paid_in_credits(credits: int, **overrides: object) -> UsageRecord:
    """A credits call by 'editor', with the dollars the meter writes on it for budgets."""
    fields: dict[str, object] = {
        "mode": "credits", "provider": "credits", "model": "default", "credits": credits,
        "cost_usd": CARD.credits_usd(credits),
    }  # fmt: skip
    fields.update(overrides)
    return record(**fields)


def test_money_totals_leave_out_calls_paid_in_credits(ledger: Ledger) -> None:
    ledger.write([paid_in_credits(3), record(cost_usd=Decimal("0.25"))])
    (day,) = ledger.totals("day")
    assert (day.cost_usd, day.credits, day.calls) == (Decimal("0.25"), 3, 2)


def test_the_credits_mode_total_is_credits_and_no_money(ledger: Ledger) -> None:
    ledger.write([paid_in_credits(3), paid_in_credits(4)])
    (credits,) = ledger.totals("mode")
    assert (credits.key, credits.cost_usd, credits.credits) == ("credits", Decimal(0), 7)


def test_the_months_spend_leaves_out_calls_paid_in_credits(ledger: Ledger) -> None:
    ledger.write([paid_in_credits(25), record(cost_usd=Decimal("0.000027"))])
    assert ledger.month_spend(DAY.date()) == Decimal("0.000027")


def test_an_apps_budget_reads_still_count_its_credits_calls(ledger: Ledger) -> None:
    ledger.write([paid_in_credits(2), record(cost_usd=Decimal("0.01"))])
    assert ledger.budget_spent("editor", DAY.date()) == (Decimal("0.07"), Decimal("0.07"))


def test_credits_calls_written_earlier_count_against_an_apps_budget(tmp_path: Path) -> None:
    today = datetime.now(UTC)
    seeded = Ledger(tmp_path / "l.db")
    seeded.write([paid_in_credits(2, timestamp=today)])  # $0.06 at $0.03 a credit
    seeded.close()
    meter = Meter(BatchWriter(tmp_path / "l.db"), CARD)
    try:
        with pytest.raises(BudgetError, match=r"spent \$0\.060000 of its"):
            meter.hold(Caller("gateway", "editor", budget_usd_day=Decimal("0.06")))
    finally:
        meter.close()


def write_to_the_users_ledger(records: list[UsageRecord]) -> None:
    ledger = Ledger(app_paths().ledger_file)
    ledger.write(records)
    ledger.close()


def test_usage_prints_credits_calls_as_credits_and_no_dollars(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_to_the_users_ledger([paid_in_credits(3), record(cost_usd=Decimal("0.5"))])
    assert usage_cli(["usage", "--by", "mode"]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert lines["credits"][-2:] == ["$0.000000", "3"]
    assert lines["total"][-2:] == ["$0.500000", "3"]


def test_usage_json_gives_credits_calls_no_cost(capsys: pytest.CaptureFixture[str]) -> None:
    write_to_the_users_ledger([paid_in_credits(3)])
    assert usage_cli(["usage", "--by", "mode", "--json"]) == 0
    (credits,) = json.loads(capsys.readouterr().out)
    assert (credits["cost_usd"], credits["credits"]) == ("0", 3)


def test_the_self_tests_ledger_line_spends_no_money_for_credits() -> None:
    write_to_the_users_ledger([paid_in_credits(25, timestamp=datetime.now(UTC))])
    assert check_ledger().endswith("; $0 spent this month")


def test_an_export_gives_a_credits_call_its_credits_and_no_cost(ledger: Ledger) -> None:
    ledger.write([paid_in_credits(3), record(cost_usd=Decimal("0.25"))])
    exported = {row["mode"]: row for row in json.loads(ledger.export("json"))}
    assert (exported["credits"]["cost_usd"], exported["credits"]["credits"]) == ("0", 3)
    assert exported["byok"]["cost_usd"] == "0.250000"
