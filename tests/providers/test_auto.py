"""``model: "auto"``: cheapest, fastest or balanced among the models the user has keys for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from keyrings.alt.file import PlaintextKeyring

from promptready.errors import NotConfiguredError
from promptready.pricing import ModelPrice
from promptready.providers.auto import rank
from promptready.providers.registry import ProviderRegistry
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import AISettings

PRICES = {
    "a/cheap": Decimal("0.2"),
    "b/fast": Decimal("5"),
    "c/mid": Decimal("1"),
    "d/unknown": None,
}
LATENCY = {"a/cheap": 900.0, "b/fast": 100.0, "c/mid": 300.0}
MODELS = list(PRICES)


def test_cheapest_orders_by_price_unknown_last() -> None:
    assert rank(MODELS, PRICES, LATENCY, "cheapest") == ["a/cheap", "c/mid", "b/fast", "d/unknown"]


def test_fastest_orders_by_measured_latency_unmeasured_last() -> None:
    assert rank(MODELS, PRICES, LATENCY, "fastest") == ["b/fast", "c/mid", "a/cheap", "d/unknown"]


def test_balanced_sums_both_ranks() -> None:
    latency = {"a/cheap": 900.0, "b/fast": 100.0, "c/mid": 50.0}
    # price ranks: cheap 0, mid 1, fast 2; speed ranks: mid 0, fast 1, cheap 2
    assert rank(MODELS, PRICES, latency, "balanced") == ["c/mid", "a/cheap", "b/fast", "d/unknown"]


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="policy"):
        rank(MODELS, PRICES, LATENCY, "random")


def registry(
    keys: tuple[str, ...], routing: str, latency: dict[str, float] | None = None
) -> ProviderRegistry:
    store = SecretStore(PlaintextKeyring())
    for name in keys:
        store.set_key(name, ApiKey(f"sk-{name}-0123456789"))
    return ProviderRegistry(
        AISettings(routing=routing), store, latency_source=lambda: latency or {}
    )


def test_auto_picks_among_providers_with_keys_by_price() -> None:
    routes = registry(("openai", "groq"), "cheapest").routes("auto")
    assert [r.label for r in routes] == ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]


def test_auto_fastest_uses_measured_latency() -> None:
    latency = {"openai/gpt-4o-mini": 200.0, "groq/llama-3.1-8b-instant": 900.0}
    reg = registry(("openai", "groq"), "fastest", latency)
    assert reg.resolve("auto").label == "openai/gpt-4o-mini"


def test_auto_without_keys_says_how_to_add_one() -> None:
    with pytest.raises(NotConfiguredError, match="keys set"):
        registry((), "cheapest").routes("auto")


def test_auto_cheapest_ranks_by_the_users_own_prices() -> None:
    store = SecretStore(PlaintextKeyring())
    for name in ("openai", "groq"):
        store.set_key(name, ApiKey(f"sk-{name}-0123456789"))
    mine = {"openai/gpt-4o-mini": ModelPrice(input=Decimal("0"), output=Decimal("0"))}
    reg = ProviderRegistry(AISettings(routing="cheapest"), store, price_overrides=mine)
    assert reg.resolve("auto").label == "openai/gpt-4o-mini"
