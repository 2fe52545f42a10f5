"""The rate card: Decimal money, integer credits, packs, plans, thresholds, overrides, bad files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.errors import ConfigError
from promptready.pricing import (
    FREE,
    LongContext,
    ModelPrice,
    cost_usd,
    load_rate_card,
    parse_price_overrides,
)

CARD = load_rate_card()
SHIPPED = Path(__file__).resolve().parent.parent / "resources" / "pricing.toml"
GPT_4O = ModelPrice(Decimal("2.50"), Decimal("10.00"), cached_input=Decimal("1.25"))
# Gemini 2.5 Pro's rates: prompts over 200k tokens cost more, input and output alike.
TIERED = ModelPrice(
    Decimal("1.25"), Decimal("10.00"), None, LongContext(200_000, Decimal("2.50"), Decimal("15.00"))
)


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("openai/gpt-4o", None),
        ("gpt-4o", None),
        ("gpt-4o", "openai"),
        ("GPT-4o", "OpenAI"),
        ("gpt-4o", "my-proxy"),  # a custom endpoint serving a known model: its list price
        ("openai/gpt-4o", "openrouter"),  # an aggregator's provider-prefixed name
    ],
)
def test_a_model_is_found_by_provider_slash_model_or_bare(model: str, provider: str | None) -> None:
    assert CARD.price(model, provider) == GPT_4O


@pytest.mark.parametrize(
    ("snapshot", "base"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("mistral-large-latest", "mistral-large"),
        ("mistral-small-2506", "mistral-small"),
    ],
)
def test_a_dated_snapshot_takes_its_base_price(snapshot: str, base: str) -> None:
    assert CARD.price(snapshot) == CARD.price(base) is not None


def test_a_variant_that_is_not_a_snapshot_is_not_priced_as_its_base() -> None:
    assert CARD.price("gpt-4o-audio-preview") is None


@pytest.mark.parametrize(
    "model", ["ollama/llama3.2", "lmstudio/qwen2.5-7b-instruct", "ollama/gpt-4o"]
)
def test_local_providers_are_free(model: str) -> None:
    assert CARD.price(model) == FREE


def test_an_unknown_model_has_no_price() -> None:
    assert CARD.price("nobody/mystery") is None


def test_cost_is_exact_decimal() -> None:
    assert cost_usd(GPT_4O, 1000, 500) == Decimal("0.007500")


def test_cost_rounds_half_up_at_a_millionth_of_a_dollar() -> None:
    price = ModelPrice(Decimal("0.15"), Decimal("0"))
    assert cost_usd(price, 10, 0) == Decimal("0.000002")  # 0.0000015: the half goes up
    assert cost_usd(price, 3, 0) == Decimal("0.000000")  # 0.00000045: down


def test_cost_of_no_tokens_is_zero() -> None:
    assert cost_usd(GPT_4O, 0, 0) == Decimal("0.000000")


def test_cached_prompt_tokens_cost_the_cached_price() -> None:
    # 200 fresh at $2.50 + 800 cached at $1.25 + 500 out at $10, per 1M.
    assert cost_usd(GPT_4O, 1000, 500, cached_tokens=800) == Decimal("0.006500")


def test_cached_tokens_make_a_call_cheaper_than_the_same_call_without() -> None:
    assert cost_usd(GPT_4O, 1000, 500, cached_tokens=800) < cost_usd(GPT_4O, 1000, 500)


def test_without_a_cached_price_cached_tokens_cost_the_input_price() -> None:
    plain = ModelPrice(Decimal("2.50"), Decimal("10.00"))
    assert cost_usd(plain, 1000, 500, cached_tokens=800) == cost_usd(plain, 1000, 500)


@pytest.mark.parametrize("cached", [-5, 1001, 10**9])
def test_a_cached_count_outside_the_prompt_is_clamped_to_it(cached: int) -> None:
    clamped = min(max(cached, 0), 1000)
    assert cost_usd(GPT_4O, 1000, 500, cached) == cost_usd(GPT_4O, 1000, 500, clamped)


def test_a_prompt_at_the_long_context_threshold_costs_the_base_rates() -> None:
    assert cost_usd(TIERED, 200_000, 1000) == Decimal("0.260000")  # 200k x 1.25 + 1k x 10


def test_a_prompt_over_the_threshold_costs_the_tier_rates_for_the_whole_call() -> None:
    assert cost_usd(TIERED, 200_001, 1000) == Decimal("0.515003")  # 200,001 x 2.50 + 1k x 15


def test_a_tier_prices_its_own_cached_tokens() -> None:
    tier = LongContext(100, Decimal("4"), Decimal("8"), cached_input=Decimal("1"))
    price = ModelPrice(Decimal("2"), Decimal("4"), Decimal("0.5"), tier)
    assert cost_usd(price, 1000, 0, cached_tokens=1000) == Decimal("0.001000")  # 1000 x $1


def test_a_tier_without_a_cached_price_charges_cached_tokens_its_input_price() -> None:
    tier = LongContext(100, Decimal("4"), Decimal("8"))
    price = ModelPrice(Decimal("2"), Decimal("4"), Decimal("0.5"), tier)
    assert cost_usd(price, 1000, 0, cached_tokens=1000) == Decimal("0.004000")


def test_the_card_prices_openai_cache_reads() -> None:
    mini = CARD.price("gpt-4o-mini")
    assert mini is not None and mini.cached_input == mini.input / 2
    assert CARD.price("gpt-4o") == GPT_4O


def test_the_card_prices_gemini_long_prompts() -> None:
    assert CARD.price("gemini-2.5-pro") == TIERED
    old = CARD.price("gemini/gemini-1.5-pro")
    assert old is not None and old.long_context is not None
    assert (old.long_context.above, old.long_context.input) == (128_000, Decimal("2.50"))


def test_no_cached_price_on_the_card_is_above_its_input_price() -> None:
    for key, price in CARD.models.items():
        for rates in (price, price.long_context):
            if rates is not None and rates.cached_input is not None:
                assert rates.cached_input <= rates.input, key


def test_an_enhancement_costs_one_credit() -> None:
    assert CARD.credits_for_enhancement() == 1


@pytest.mark.parametrize(
    ("tokens", "model", "credits"),
    [
        (0, "gpt-4o-mini", 1),  # minimum one
        (1, "gpt-4o-mini", 1),
        (1000, "gpt-4o-mini", 1),
        (1001, "gpt-4o-mini", 2),  # ceil
        (1000, "gpt-4o", 2),  # multiplier 2
        (1001, "openai/gpt-4o-2024-08-06", 3),  # snapshots share the multiplier: ceil(2.002)
    ],
)
def test_chat_credits_round_up_with_a_minimum_of_one(tokens: int, model: str, credits: int) -> None:
    assert CARD.credits_for_chat(tokens, model) == credits


@pytest.mark.parametrize(("tokens", "credits"), [(0, 1), (1000, 2), (1001, 3), (10_000, 20)])
def test_the_most_a_chat_can_cost_is_at_the_dearest_multiplier(tokens: int, credits: int) -> None:
    assert CARD.most_credits_for_chat(tokens) == credits
    assert all(CARD.credits_for_chat(tokens, model) <= credits for model in CARD.models)


def test_the_most_a_chat_can_cost_on_a_card_without_multipliers_is_at_one() -> None:
    assert replace(CARD, multipliers={}).most_credits_for_chat(1500) == 2


def test_no_priced_model_sells_tokens_below_cost() -> None:
    paid = [p.price_usd / p.credits for p in CARD.packs]
    paid += [p.price_usd_month / p.credits_month for p in CARD.plans.values() if p.price_usd_month]
    cheapest_credit = min(paid)
    for key, price in CARD.models.items():
        rates = [price.input, price.output]
        if price.long_context is not None:
            rates += [price.long_context.input, price.long_context.output]
        worst = max(rates) * CARD.tokens_per_credit / 1_000_000
        multiplier = CARD.multipliers.get(key, Decimal(1))
        assert worst <= cheapest_credit * multiplier, key


def test_the_micro_pack_is_offered_only_at_zero_balance() -> None:
    assert [p.name for p in CARD.packs_for_balance(0)] == ["Micro", "Starter", "Bulk", "Mega"]
    assert [p.name for p in CARD.packs_for_balance(1)] == ["Starter", "Bulk", "Mega"]


def test_packs_have_their_list_prices() -> None:
    assert [(p.price_usd, p.credits) for p in CARD.packs] == [
        (Decimal("3.00"), 100),
        (Decimal("5.00"), 250),
        (Decimal("15.00"), 1000),
        (Decimal("30.00"), 2500),
    ]


def test_plans_free_and_pro() -> None:
    free, pro = CARD.plans["free"], CARD.plans["pro"]
    assert (free.price_usd_month, free.credits_month, free.rollover_months) == (Decimal(0), 25, 0)
    assert (pro.price_usd_month, pro.credits_month, pro.rollover_months) == (
        Decimal("9.00"),
        1000,
        3,
    )


@pytest.mark.parametrize(
    ("balance", "level"),
    [(251, "green"), (250, "orange"), (249, "orange"), (100, "orange"), (99, "red"), (0, "red")],
)
def test_balance_levels_at_their_boundaries(balance: int, level: str) -> None:
    assert CARD.balance_level(balance) == level


@pytest.mark.parametrize(("balance", "warn"), [(101, False), (100, True), (99, True)])
def test_the_low_balance_warning_starts_at_100(balance: int, warn: bool) -> None:
    assert CARD.low_balance(balance) is warn


@pytest.mark.parametrize(("balance", "reload"), [(50, False), (49, True), (0, True)])
def test_auto_reload_is_due_below_50(balance: int, reload: bool) -> None:
    assert CARD.auto_reload_due(balance) is reload


def test_user_overrides_win_over_the_card() -> None:
    overrides = parse_price_overrides("pricing.models", {"gpt-4o": {"input": "1", "output": "2"}})
    card = CARD.with_overrides(overrides)
    assert card.price("gpt-4o", "openai") == ModelPrice(Decimal(1), Decimal(2))
    assert card.price("gpt-4o-2024-08-06") == ModelPrice(Decimal(1), Decimal(2))


def test_an_override_can_price_a_local_model() -> None:
    overrides = parse_price_overrides("p", {"ollama/llama3.2": {"input": "0.01", "output": "0.01"}})
    assert CARD.with_overrides(overrides).price("ollama/llama3.2") != FREE


def test_overrides_leave_the_shipped_card_untouched() -> None:
    CARD.with_overrides(parse_price_overrides("p", {"gpt-4o": {"input": "1", "output": "2"}}))
    assert CARD.price("gpt-4o") == GPT_4O


TIER = {"above": 1000, "input": "2", "output": "4"}


def test_an_override_can_price_cache_reads_and_long_prompts() -> None:
    raw = {"g": {"input": "1", "output": "2", "cached_input": "0.25", "long_context": TIER}}
    assert parse_price_overrides("p", raw)["g"] == ModelPrice(
        Decimal(1), Decimal(2), Decimal("0.25"), LongContext(1000, Decimal(2), Decimal(4))
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"gpt-4o": {"input": 2.5, "output": "1"}},
            "pricing.models.gpt-4o.input must be a decimal",
        ),
        (
            {"gpt-4o": {"input": "abc", "output": "1"}},
            "pricing.models.gpt-4o.input must be a decimal",
        ),
        ({"gpt-4o": {"input": "-1", "output": "1"}}, "pricing.models.gpt-4o.input must be zero or"),
        (
            {"gpt-4o": {"input": "NaN", "output": "1"}},
            "pricing.models.gpt-4o.input must be zero or",
        ),
        ({"gpt-4o": {"input": "1"}}, "pricing.models.gpt-4o.output is missing"),
        ({"gpt-4o": {"input": "1", "output": "1", "inptu": "1"}}, "pricing.models.gpt-4o.inptu is"),
        ({"gpt-4o": "cheap"}, "pricing.models.gpt-4o must be a table"),
        (
            {"gpt-4o": {"input": "1", "output": "1", "cached_input": 0.5}},
            "pricing.models.gpt-4o.cached_input must be a decimal",
        ),
        (
            {"gpt-4o": {"input": "1", "output": "1", "cached_input": "-0.5"}},
            "pricing.models.gpt-4o.cached_input must be zero or",
        ),
        (
            {"gpt-4o": {"input": "1", "output": "1", "cached_input": "2"}},
            "pricing.models.gpt-4o.cached_input must not be more than pricing.models.gpt-4o.input",
        ),
        (
            {"gpt-4o": {"input": "1", "output": "1", "long_context": "yes"}},
            "pricing.models.gpt-4o.long_context must be a table",
        ),
        (
            {
                "gpt-4o": {
                    "input": "1",
                    "output": "1",
                    "long_context": {"input": "2", "output": "2"},
                }
            },
            "pricing.models.gpt-4o.long_context.above is missing",
        ),
        (
            {"g": {"input": "1", "output": "1", "long_context": {**TIER, "above": 0}}},
            "pricing.models.g.long_context.above must be a whole number of at least 1",
        ),
        (
            {"g": {"input": "1", "output": "1", "long_context": {**TIER, "above": "128k"}}},
            "pricing.models.g.long_context.above must be a whole number",
        ),
        (
            {"g": {"input": "1", "output": "1", "long_context": {**TIER, "output": "lots"}}},
            "pricing.models.g.long_context.output must be a decimal",
        ),
        (
            {"g": {"input": "1", "output": "1", "long_context": {**TIER, "cached_input": "3"}}},
            "pricing.models.g.long_context.cached_input must not be more than",
        ),
        (
            {"g": {"input": "1", "output": "1", "long_context": {**TIER, "abvoe": 1}}},
            "pricing.models.g.long_context.abvoe is not a known key",
        ),
        ("cheap", "pricing.models must be a table"),
    ],
)
def test_a_bad_override_names_its_key(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_price_overrides("pricing.models", raw)


def _edit(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_edit('input = "2.50"', "input = 2.50"), r'models\.openai/gpt-4o\.input .* like "2\.50"'),
        (_edit('input = "2.50"', 'input = "-2"'), r"models\.openai/gpt-4o\.input must be zero or"),
        (_edit('input = "2.50"', 'input = "cheap"'), r"openai/gpt-4o\.input must be a decimal"),
        (_edit('output = "10.00"\n', ""), r"models\.openai/gpt-4o\.output is missing"),
        (
            _edit('cached_input = "1.25"', 'cached_input = "12.5"'),
            r"models\.openai/gpt-4o\.cached_input must not be more than",
        ),
        (_edit("above = 200_000", "above = -1"), r"gemini-2\.5-pro\.long_context\.above must"),
        (_edit('output = "15.00"\n', ""), r"gemini-2\.5-pro\.long_context\.output is missing"),
        (_edit("tokens_per_credit = 1000", ""), r"credits\.tokens_per_credit is missing"),
        (_edit("tokens_per_credit = 1000", "tokens_per_credit = 0"), r"tokens_per_credit must"),
        (_edit('"openai/gpt-4o" = "2"', '"openai/gpt-4o" = 2.0'), r"multipliers\.openai/gpt-4o"),
        (_edit("credits = 250\n", 'credits = "lots"\n'), r"packs\.Starter\.credits must be"),
        (_edit("[balance]", "[balance]\nyellow_above = 500"), r"balance\.yellow_above is not"),
        (_edit("[free]", "[surprise]\nx = 1\n[free]"), r"\[surprise\] is not a known table"),
        (_edit("[balance]", "[balances]"), r"the table \[balance\] is missing"),
        (lambda text: "[[[", "could not be read"),
    ],
)
def test_a_bad_rate_card_is_a_clear_error(
    tmp_path: Path, edit: Callable[[str], str], message: str
) -> None:
    path = tmp_path / "pricing.toml"
    path.write_text(edit(SHIPPED.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_rate_card(path)


def test_a_bad_rate_card_error_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "pricing.toml"
    path.write_text(SHIPPED.read_text(encoding="utf-8").replace("[free]", "[freebies]"), "utf-8")
    with pytest.raises(ConfigError, match=r"^The rate card .* fix it or reinstall PromptReady\.$"):
        load_rate_card(path)


def test_a_rate_card_loads_from_a_given_path(tmp_path: Path) -> None:
    path = tmp_path / "pricing.toml"
    path.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_rate_card(path) == CARD


def test_a_credit_in_usd_is_the_dearest_packs_price_per_credit() -> None:
    assert CARD.credit_usd() == Decimal("0.03")  # Micro: $3 for 100
    assert CARD.credits_usd(7) == Decimal("0.21")
    assert CARD.credits_usd(0) == Decimal(0)
