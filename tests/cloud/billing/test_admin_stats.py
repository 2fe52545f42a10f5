"""``promptready-cloud admin stats`` prints each recent week's revenue, COGS and gross margin
next to the store's totals, from the same rows ``/metrics`` reads."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from promptready.cloud.cli import main
from tests.cloud.billing.conftest import JWT_SECRET, Api
from tests.cloud.billing.scenario import COGS, REVENUE, scripted_history


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, migrated_url: str) -> None:
    """Point the CLI at the test's database (the one ``api`` uses)."""
    monkeypatch.setenv("PROMPTREADY_CLOUD_DATABASE_URL", migrated_url)
    monkeypatch.setenv("PROMPTREADY_CLOUD_JWT_SECRET", JWT_SECRET)


async def stats(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["admin", "stats", *args]) == 0
    return capsys.readouterr().out


async def test_stats_print_the_scripted_months_revenue_cogs_and_margin(
    api: Api, cli_database: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await scripted_history(api)
    margin = (REVENUE - COGS) / REVENUE
    text = await stats(capsys)
    assert f"revenue {REVENUE} USD, COGS {COGS:.6f} USD, gross margin {margin:.1%}" in text
    assert "devices" in text.splitlines()[0]
    [week] = json.loads(await stats(capsys, "--json"))["money"]
    assert Decimal(week["revenue_usd"]) == REVENUE
    assert Decimal(week["cogs_usd"]) == COGS
    assert Decimal(week["gross_margin"]) == margin.quantize(Decimal("0.000001"))


async def test_stats_say_so_when_nothing_was_sold_or_spent(
    api: Api, cli_database: None, capsys: pytest.CaptureFixture[str]
) -> None:
    text = await stats(capsys)
    assert text.rstrip().endswith("no revenue or COGS yet")
    assert json.loads(await stats(capsys, "--json"))["money"] == []
