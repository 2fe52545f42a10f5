"""The meter: holds that settle themselves into one committed row with the caller on it, budgets
checked with what is in flight, unpriced models refused under a budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.errors import ConfigError
from promptready.ledger.meter import (
    BudgetError,
    Caller,
    Meter,
    TokenBound,
    UnpricedModelError,
    parse_cap,
    process_meter,
)
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from promptready.pricing import ModelPrice, load_rate_card
from promptready.providers.presets import ProviderConfig
from promptready.providers.routing import Route
from promptready.providers.wire import Usage
from promptready.settings import PricingSettings, PrivacySettings, Settings

BUDGETED = Caller("gateway", "editor", budget_usd_day=Decimal("0.001"))


class Named:
    """Just enough of a provider for a route: a name and a config."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.config = ProviderConfig(name=name, title=name, base_url="http://127.0.0.1:9/v1")


def route(label: str) -> Route:
    provider, _, model = label.partition("/")
    return Route(Named(provider), model)  # type: ignore[arg-type]


@pytest.fixture
def meter(tmp_path: Path) -> Iterator[Meter]:
    found = Meter(BatchWriter(tmp_path / "l.db"), load_rate_card())
    yield found
    found.close()


def rows(meter: Meter) -> list[dict[str, object]]:
    return list(Ledger(meter.writer.path).rows())


async def test_a_settled_hold_is_one_committed_row_with_its_caller(meter: Meter) -> None:
    async with meter.hold(BUDGETED, [route("openai/gpt-4o-mini")], TokenBound(10, 10)) as hold:
        hold.answered_by(route("openai/gpt-4o-mini"))
        hold.usage = Usage(1000, 500)
        await hold.settle()
        (row,) = rows(meter)  # committed before the caller goes on
    assert (row["source"], row["app"], row["mode"], row["status"]) == (
        "gateway",
        "editor",
        "byok",
        "ok",
    )
    assert row["cost_usd"] == "0.000450" and not row["unpriced"]
    assert meter.held_micro("editor") == 0


async def settled_cost(meter: Meter, label: str, usage: Usage) -> tuple[object, object]:
    """The cost and the unpriced flag of one settled call on ``label`` with ``usage``."""
    async with meter.hold(Caller("cli"), [route(label)], TokenBound(10, 10)) as hold:
        hold.answered_by(route(label))
        hold.usage = usage
        await hold.settle()
    (row,) = rows(meter)
    return row["cost_usd"], row["unpriced"]


async def test_the_providers_own_cost_beats_the_rate_card(meter: Meter) -> None:
    reported = Usage(1000, 500, cost_usd=Decimal("0.0123"))
    assert await settled_cost(meter, "openrouter/gpt-4o-mini", reported) == ("0.012300", False)


async def test_a_model_off_the_card_with_a_reported_cost_is_priced(meter: Meter) -> None:
    reported = Usage(1000, 500, cost_usd=Decimal("0.002"))
    assert await settled_cost(meter, "openrouter/nosuch-model", reported) == ("0.002000", False)


async def test_the_users_own_price_beats_the_providers_cost(tmp_path: Path) -> None:
    mine = ModelPrice(Decimal("1"), Decimal("2"))  # USD per 1M tokens: 1000 + 500 -> $0.002
    card = load_rate_card().with_overrides({"openrouter/gpt-4o-mini": mine})
    meter = Meter(BatchWriter(tmp_path / "l.db"), card)
    try:
        reported = Usage(1000, 500, cost_usd=Decimal("0.0123"))
        assert await settled_cost(meter, "openrouter/gpt-4o-mini", reported) == ("0.002000", False)
    finally:
        meter.close()


async def test_a_hold_left_by_an_error_settles_itself_as_an_error(meter: Meter) -> None:
    with pytest.raises(RuntimeError):
        async with meter.hold(Caller("cli")):
            raise RuntimeError("boom")
    assert [r["status"] for r in rows(meter)] == ["error"]


async def test_a_hold_left_by_a_cancellation_settles_itself_as_cancelled(meter: Meter) -> None:
    async def call() -> None:
        async with meter.hold(Caller("popup")):
            await asyncio.sleep(10)

    task = asyncio.create_task(call())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [r["status"] for r in rows(meter)] == ["cancelled"]


async def test_settling_twice_writes_one_row(meter: Meter) -> None:
    hold = meter.hold(Caller("cli"))
    await hold.settle()
    await hold.settle()
    hold.settle_now()
    assert len(rows(meter)) == 1


def test_holds_in_flight_count_against_the_budget(meter: Meter) -> None:
    routes, tokens = [route("openai/gpt-4o-mini")], TokenBound(2000, 1000)  # $0.0009 each
    first = meter.hold(BUDGETED, routes, tokens)
    with pytest.raises(BudgetError, match="requests in flight count"):
        meter.hold(BUDGETED, routes, tokens)
    first.settle_now()  # its actual cost (none here) replaces its hold
    meter.hold(BUDGETED, routes, tokens).settle_now()


def test_an_unpriced_route_is_refused_only_under_a_budget(meter: Meter) -> None:
    routes = [route("openai/gpt-4o-mini"), route("openai/ft:gpt-4o:acme")]
    with pytest.raises(UnpricedModelError, match=r"openai/ft:gpt-4o:acme has no price.*pricing"):
        meter.hold(BUDGETED, routes, TokenBound(1, 1))
    hold = meter.hold(Caller("cli"), routes, TokenBound(1, 1))
    hold.answered_by(routes[1])
    hold.usage = Usage(5, 5)
    hold.settle_now()
    statuses = [(r["status"], r["error_code"], r["unpriced"]) for r in rows(meter)]
    assert statuses == [("blocked", "model_unpriced", False), ("ok", None, True)]


def test_a_local_provider_is_free_not_unpriced(meter: Meter) -> None:
    hold = meter.hold(BUDGETED, [route("ollama/llama3.2")], TokenBound(10**6, 10**6))
    hold.answered_by(route("ollama/llama3.2"))
    hold.usage = Usage(10, 10)
    hold.settle_now()
    (row,) = rows(meter)
    assert row["cost_usd"] == "0" and not row["unpriced"]


def test_a_route_of_the_credit_proxy_carries_its_ledger_mode(meter: Meter) -> None:
    proxy = route("credits/gpt-4o-mini")
    proxy.provider.config = ProviderConfig(
        name="credits", title="Credits", base_url="http://127.0.0.1:9/v1", ledger_mode="credits"
    )
    hold = meter.hold(Caller("popup"), [proxy], TokenBound(1, 1))
    hold.answered_by(proxy)
    hold.credits = 3
    hold.settle_now()
    (row,) = rows(meter)
    assert (row["mode"], row["credits"]) == ("credits", 3)


def test_the_shared_meter_follows_changed_prices_and_privacy(tmp_path: Path) -> None:
    mine = ModelPrice(Decimal("1"), Decimal("2"))
    meter = process_meter(tmp_path / "c.db", Settings())
    changed = Settings(
        pricing=PricingSettings(models={"openai/o3": mine}),
        privacy=PrivacySettings(store_prompts=True),
    )
    assert process_meter(tmp_path / "c.db", changed) is meter
    assert meter.price("o3", "openai") == mine and meter.writer.store_prompts
    meter.close()


def test_one_meter_per_ledger_file_in_a_process(tmp_path: Path) -> None:
    first = process_meter(tmp_path / "a.db", Settings())
    other = process_meter(tmp_path / "b.db", Settings())
    assert process_meter(tmp_path / "a.db", Settings()) is first and other is not first
    first.close()
    again = process_meter(tmp_path / "a.db", Settings())
    assert again is not first  # a closed one is replaced
    for meter in (other, again):
        meter.close()


@pytest.mark.parametrize("raw", ["lots", "-1", "NaN", "Infinity"])
def test_a_bad_monthly_cap_is_a_clear_error(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"gateway\.monthly_cap_usd"):
        parse_cap(raw)


def test_an_empty_monthly_cap_is_none_and_an_amount_is_exact() -> None:
    assert parse_cap("  ") is None
    assert parse_cap("20.50") == Decimal("20.50")
