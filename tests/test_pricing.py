"""The rate card: Decimal money, integer credits, packs, plans, thresholds, overrides, bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from promptready.errors import ConfigError
from promptready.pricing import (
    ModelPrice,
    cost_usd,
    load_rate_card,
    parse_price_overrides,
)

CARD = load_rate_card()
SHIPPED = Path(__file__).resolve().parent.parent / "resources" / "pricing.toml"


def test_known_model_prices() -> None:
    assert CARD.price("openai/gpt-4o") == ModelPrice(Decimal("2.50"), Decimal("10.00"))
    assert CARD.price("gpt-4o-mini") == ModelPrice(Decimal("0.15"), Decimal("0.60"))


def test_dated_snapshot_takes_its_base_price() -> None:
    assert CARD.price("gpt-4o-2024-08-06") == CARD.price("openai/gpt-4o")
    assert CARD.price("openai/gpt-4o-mini-2024-07-18") == CARD.price("openai/gpt-4o-mini")


def test_local_providers_are_free_and_unknown_models_unpriced() -> None:
    assert CARD.price("ollama/llama3.2") == ModelPrice(Decimal(0), Decimal(0))
    assert CARD.price("nobody/mystery") is None


def test_cost_is_exact_decimal() -> None:
    assert cost_usd(CARD.price("openai/gpt-4o"), 1000, 500) == Decimal("0.007500")  # type: ignore[arg-type]


def test_cost_rounds_half_up_to_a_millionth() -> None:
    price = ModelPrice(Decimal("0.15"), Decimal("0"))
    assert cost_usd(price, 10, 0) == Decimal("0.000002")  # 0.0000015 -> up
    assert cost_usd(price, 3, 0) == Decimal("0.000000")  # 0.00000045 -> down


def test_chat_credits_round_up_with_a_minimum_of_one() -> None:
    assert CARD.credits_for_chat(1, "openai/gpt-4o-mini") == 1
    assert CARD.credits_for_chat(1000, "openai/gpt-4o-mini") == 1
    assert CARD.credits_for_chat(1001, "openai/gpt-4o-mini") == 2
    assert CARD.credits_for_chat(1001, "openai/gpt-4o") == 5  # multiplier 4: ceil(4.004)
    assert CARD.per_enhancement == 1


def test_micro_pack_only_at_zero_balance() -> None:
    assert [p.name for p in CARD.packs_for_balance(0)] == ["Micro", "Starter", "Bulk", "Mega"]
    assert [p.name for p in CARD.packs_for_balance(1)] == ["Starter", "Bulk", "Mega"]
    assert CARD.packs[1].price_usd == Decimal("5.00") and CARD.packs[1].credits == 250


@pytest.mark.parametrize(
    ("balance", "level"),
    [(251, "green"), (250, "orange"), (100, "orange"), (99, "red"), (0, "red")],
)
def test_balance_levels_at_their_boundaries(balance: int, level: str) -> None:
    assert CARD.balance_level(balance) == level


def test_plans_and_reload_thresholds() -> None:
    assert CARD.plans["free"].credits_month == 25
    assert CARD.plans["pro"].price_usd_month == Decimal("9.00")
    assert CARD.plans["pro"].rollover_months == 3
    assert CARD.balance.low_warning_at == 100 and CARD.balance.auto_reload_below == 50


def test_user_overrides_take_precedence() -> None:
    overrides = parse_price_overrides(
        "pricing.models", {"openai/gpt-4o": {"input": "1", "output": "2"}}
    )
    card = CARD.with_overrides(overrides)
    assert card.price("gpt-4o") == ModelPrice(Decimal(1), Decimal(2))


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"m": {"input": 2.5, "output": "1"}}, "pricing.models.m.input"),
        ({"m": {"input": "abc", "output": "1"}}, "pricing.models.m.input"),
        ({"m": {"input": "-1", "output": "1"}}, "pricing.models.m.input"),
        ({"m": {"input": "1"}}, "pricing.models.m.output"),
        ({"m": "cheap"}, "pricing.models.m"),
    ],
)
def test_bad_overrides_name_the_key(raw: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_price_overrides("pricing.models", raw)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('input = "2.50"', "input = 2.50", 1), "must be an amount in quotes"),
        (lambda t: t.replace('input = "2.50"', 'input = "-2"', 1), "must be zero or more"),
        (lambda t: t.replace("tokens_per_credit = 1000", ""), "tokens_per_credit"),
        (lambda t: t + "\n[surprise]\nx = 1\n", "unknown table"),
        (lambda t: t.replace("credits = 250\n", 'credits = "lots"\n', 1), "packs.Starter.credits"),
        (lambda t: "[[[", "could not be read"),
    ],
)
def test_bad_rate_card_files_are_clear_errors(tmp_path: Path, edit: object, message: str) -> None:
    path = tmp_path / "pricing.toml"
    path.write_text(edit(SHIPPED.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        load_rate_card(path)
