"""The usage window reads the ledger: month spend, charts, a sortable table, CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from promptready.ledger.records import UsageRecord
from promptready.pricing import load_rate_card
from promptready.ui.context import DesktopContext
from promptready.ui.usage.window import UsageWindow

NOW = datetime.now(UTC).replace(hour=12)


def call(model: str, cost: str, app: str | None = None, days_ago: int = 0) -> UsageRecord:
    return UsageRecord(
        source="gateway" if app else "popup",
        mode="byok",
        app=app,
        provider="openai",
        model=model,
        prompt_tokens=100,
        completion_tokens=50,
        cost_usd=Decimal(cost),
        latency_ms=420.0,
        timestamp=NOW - timedelta(days=days_ago),
    )


@pytest.fixture
def window(context: DesktopContext) -> Iterator[UsageWindow]:
    context.ledger.write(
        [
            call("gpt-4o-mini", "0.010000", "editor"),
            call("gpt-4o", "0.250000", "agent"),
            call("gpt-4o-mini", "0.005000"),
            call("gpt-4o", "9.000000", "agent", days_ago=40),  # last month or earlier
        ]
    )
    window = UsageWindow(context)
    window.refresh(NOW.date())
    yield window
    window.deleteLater()


def test_this_months_spend_is_shown(window: UsageWindow) -> None:
    assert window.spend.text() == "$0.27 this month"
    assert "3 enhancements" in window.summary.text()


def show(window: UsageWindow, name: str) -> None:
    window.measure.setCurrentIndex(window.measure.findText(name))


def test_charts_hold_spend_by_day_model_and_app(window: UsageWindow) -> None:
    show(window, "Money")
    assert len(window.daily.bars) == NOW.day
    assert window.daily.bars[-1].value == Decimal("0.265")
    assert {b.label: b.value for b in window.by_model.bars} == {
        "gpt-4o": Decimal("0.25"),
        "gpt-4o-mini": Decimal("0.015"),
    }
    assert {b.label for b in window.by_app.bars} == {"agent", "editor", "(popup and CLI)"}
    assert not window.daily.grab().isNull()


def test_table_lists_the_last_calls_newest_first(window: UsageWindow) -> None:
    model = window.model
    assert model.rowCount() == 4
    assert model.data(model.index(3, 7)) == "$9.00"  # the oldest call is last


def test_table_sorts_by_cost(window: UsageWindow) -> None:
    window.table.sortByColumn(7, Qt.SortOrder.AscendingOrder)
    costs = [window.model.data(window.model.index(r, 7)) for r in range(4)]
    assert costs == ["< $0.01", "$0.01", "$0.25", "$9.00"]  # sorted by the exact amount


def test_csv_export_has_every_row(window: UsageWindow, tmp_path: Path) -> None:
    target = tmp_path / "usage.csv"
    assert window.export_csv(target) == 4
    rows = list(csv.DictReader(target.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 4 and {r["model"] for r in rows} == {"gpt-4o", "gpt-4o-mini"}
    assert "Exported 4 calls" in window.message.text()


def test_export_to_an_unwritable_place_says_so(window: UsageWindow, tmp_path: Path) -> None:
    assert window.export_csv(tmp_path / "missing" / "usage.csv") == 0
    assert window.message.text().startswith("Could not export")


def test_an_empty_ledger_shows_no_spend(context: DesktopContext) -> None:
    window = UsageWindow(context)
    window.refresh()
    assert window.spend.text() == "$0.00 this month" and window.model.rowCount() == 0
    assert not window.by_model.grab().isNull()
    window.deleteLater()


def test_charts_open_on_enhancements_counting_offline_ones(context: DesktopContext) -> None:
    offline = [UsageRecord(source="popup", mode="offline", timestamp=NOW) for _ in range(2)]
    context.ledger.write([*offline, call("gpt-4o-mini", "0.010000")])
    window = UsageWindow(context)
    window.refresh(NOW.date())
    assert window.shown.name == "Enhancements"
    assert window.daily.bars[-1].value == 3
    assert {b.label: b.value for b in window.by_model.bars} == {
        "(offline)": 2,
        "gpt-4o-mini": 1,
    }
    assert window.daily.label(Decimal(3)) == "3 enhancements"
    window.deleteLater()


def test_tokens_chart_adds_prompt_and_answer_tokens(window: UsageWindow) -> None:
    show(window, "Tokens")
    assert window.daily.bars[-1].value == 3 * 150
    assert window.daily.label(Decimal(450)) == "450 tokens"
    assert window.daily.label(Decimal(12_345)) == "12k tokens"
    assert not window.daily.grab().isNull()


def paid_in_credits(credits: int) -> UsageRecord:
    """A credits call as the meter writes it: its dollars are what app budgets count it as."""
    return UsageRecord(
        source="popup",
        mode="credits",
        provider="credits",
        model="credits/default",
        prompt_tokens=300,
        completion_tokens=100,
        credits=credits,
        cost_usd=load_rate_card().credits_usd(credits),
        timestamp=NOW,
    )


def test_credits_are_charted_per_day_and_named_in_the_summary(context: DesktopContext) -> None:
    context.ledger.write([paid_in_credits(2), paid_in_credits(3), call("gpt-4o", "0.25")])
    window = UsageWindow(context)
    window.refresh(NOW.date())
    show(window, "Credits")
    assert window.daily.bars[-1].value == 5
    assert window.daily.label(Decimal(5)) == "5 credits"
    assert "5 credits" in window.summary.text()
    window.deleteLater()


def test_money_shown_leaves_out_calls_paid_in_credits(context: DesktopContext) -> None:
    context.ledger.write([paid_in_credits(25), call("gpt-4o", "0.25", "agent")])
    window = UsageWindow(context)
    window.refresh(NOW.date())
    show(window, "Money")
    assert window.spend.text() == "$0.25 this month"
    assert window.daily.bars[-1].value == Decimal("0.25")
    assert {b.label: b.value for b in window.by_model.bars} == {
        "credits/default": Decimal(0),
        "gpt-4o": Decimal("0.25"),
    }
    window.deleteLater()


def test_a_credits_row_shows_its_credits_as_its_cost(context: DesktopContext) -> None:
    context.ledger.write([paid_in_credits(1)])
    window = UsageWindow(context)
    window.refresh(NOW.date())
    cost = next(
        c
        for c in range(window.model.columnCount())
        if window.model.headerData(c, Qt.Orientation.Horizontal) == "Cost"
    )
    assert window.model.data(window.model.index(0, cost)) == "1 credit"
    window.deleteLater()


def test_an_empty_chart_says_what_it_would_show(context: DesktopContext) -> None:
    window = UsageWindow(context)
    window.refresh(NOW.date())
    assert window.daily.empty == "No enhancements yet"
    show(window, "Credits")
    assert window.daily.empty == "No credits spent"
    window.deleteLater()
