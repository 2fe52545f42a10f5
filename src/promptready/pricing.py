"""The rate card as data (resources/pricing.toml): USD prices per model, credit rules, packs,
plans and balance levels. Pure: ``Decimal`` for money, ``int`` for credits.

Rounding: a call's cost is quantized to 0.000001 USD, half up; credits are rounded up (ceil).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from promptready.errors import ConfigError

MICRO_USD = Decimal("0.000001")
PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M input and output tokens."""

    input: Decimal
    output: Decimal


@dataclass(frozen=True)
class CreditPack:
    name: str
    price_usd: Decimal
    credits: int
    only_at_zero_balance: bool = False


@dataclass(frozen=True)
class Plan:
    name: str
    price_usd_month: Decimal
    credits_month: int
    rollover_months: int


@dataclass(frozen=True)
class BalanceRules:
    green_above: int
    red_below: int
    low_warning_at: int
    auto_reload_below: int


@dataclass(frozen=True)
class RateCard:
    """Everything that prices a call."""

    models: dict[str, ModelPrice]
    free_providers: frozenset[str]
    per_enhancement: int
    tokens_per_credit: int
    multipliers: dict[str, Decimal]
    packs: tuple[CreditPack, ...]
    plans: dict[str, Plan]
    balance: BalanceRules

    def price(self, model: str, provider: str | None = None) -> ModelPrice | None:
        """The price of ``provider/model`` (or a bare model); a dated snapshot such as
        ``gpt-4o-2024-08-06`` takes the price of the longest entry it starts with."""
        if provider is None and "/" in model:
            provider, _, model = model.partition("/")
        if provider in self.free_providers:
            return ModelPrice(Decimal(0), Decimal(0))
        found = self._lookup(model, provider)
        # A custom or aggregator provider serving a known model: the model's list price applies.
        return found if found is not None or provider is None else self._lookup(model, None)

    def _lookup(self, model: str, provider: str | None) -> ModelPrice | None:
        best: str | None = None
        for key in self.models:
            key_provider, _, base = key.rpartition("/")
            if provider and key_provider and key_provider != provider:
                continue
            if model == base:
                return self.models[key]
            if model.startswith(base) and (
                best is None or len(base) > len(best.rpartition("/")[2])
            ):
                best = key
        return self.models[best] if best is not None else None

    def with_overrides(self, overrides: dict[str, ModelPrice]) -> RateCard:
        """This card with the user's prices taking precedence."""
        return RateCard(**{**self.__dict__, "models": {**self.models, **overrides}})

    def credits_for_chat(self, total_tokens: int, model: str) -> int:
        """ceil(total_tokens / tokens_per_credit * multiplier), at least 1."""
        multiplier = self.multipliers.get(model, Decimal(1))
        raw = Decimal(total_tokens) / Decimal(self.tokens_per_credit) * multiplier
        return max(1, math.ceil(raw))

    def packs_for_balance(self, balance: int) -> list[CreditPack]:
        """Packs to offer: Micro only when the balance is zero."""
        return [p for p in self.packs if not p.only_at_zero_balance or balance <= 0]

    def balance_level(self, balance: int) -> str:
        """``green`` above the green line, ``red`` below the red line, ``orange`` between."""
        if balance > self.balance.green_above:
            return "green"
        if balance < self.balance.red_below:
            return "red"
        return "orange"


def cost_usd(price: ModelPrice, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """USD for one call, quantized to a millionth of a dollar (half up)."""
    total = (price.input * prompt_tokens + price.output * completion_tokens) / PER_MILLION
    return total.quantize(MICRO_USD, rounding=ROUND_HALF_UP)


def _money(key: str, raw: object) -> Decimal:
    if not isinstance(raw, str):
        raise ConfigError(f'{key} must be an amount in quotes, like "2.50" (not {raw!r})')
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigError(f"{key} must be a decimal number, not {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ConfigError(f"{key} must be zero or more, not {raw!r}")
    return value


def _count(key: str, raw: object, minimum: int = 0) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise ConfigError(f"{key} must be a whole number of at least {minimum}, not {raw!r}")
    return raw


def parse_price_overrides(key: str, raw: object) -> dict[str, ModelPrice]:
    """``{"openai/gpt-4o" = {input = "2.5", output = "10"}}`` from settings, validated by key."""
    if not isinstance(raw, dict):
        raise ConfigError(f'{key} must be a table of model = {{input = "..", output = ".."}}')
    found: dict[str, ModelPrice] = {}
    for model, entry in raw.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{key}.{model} must be a table with input and output prices")
        found[model] = ModelPrice(
            _money(f"{key}.{model}.input", entry.get("input")),
            _money(f"{key}.{model}.output", entry.get("output")),
        )
    return found


_TABLES = {"models", "free", "credits", "packs", "plans", "balance"}


def parse_rate_card(raw: dict[str, Any]) -> RateCard:
    """Validate a parsed rate card; ConfigError names the table and key at fault."""
    unknown = set(raw) - _TABLES
    if unknown:
        raise ConfigError(f"unknown table [{sorted(unknown)[0]}]")
    try:
        credits, balance = raw["credits"], raw["balance"]
        return RateCard(
            models=parse_price_overrides("models", raw["models"]),
            free_providers=frozenset(raw.get("free", {}).get("providers", [])),
            per_enhancement=_count("credits.per_enhancement", credits["per_enhancement"], 1),
            tokens_per_credit=_count("credits.tokens_per_credit", credits["tokens_per_credit"], 1),
            multipliers={
                m: _money(f"credits.multipliers.{m}", v)
                for m, v in credits.get("multipliers", {}).items()
            },
            packs=tuple(
                CreditPack(
                    name=str(p["name"]),
                    price_usd=_money(f"packs.{p['name']}.price_usd", p["price_usd"]),
                    credits=_count(f"packs.{p['name']}.credits", p["credits"], 1),
                    only_at_zero_balance=bool(p.get("only_at_zero_balance", False)),
                )
                for p in raw["packs"]
            ),
            plans={
                name: Plan(
                    name,
                    _money(f"plans.{name}.price_usd_month", p["price_usd_month"]),
                    _count(f"plans.{name}.credits_month", p["credits_month"]),
                    _count(f"plans.{name}.rollover_months", p["rollover_months"]),
                )
                for name, p in raw["plans"].items()
            },
            balance=BalanceRules(
                **{k: _count(f"balance.{k}", balance[k]) for k in BalanceRules.__dataclass_fields__}
            ),
        )
    except KeyError as exc:
        raise ConfigError(f"missing key {exc.args[0]!r}") from None
    except (TypeError, AttributeError) as exc:
        raise ConfigError(f"a table has the wrong shape ({exc})") from None


def load_rate_card(path: Path | None = None) -> RateCard:
    """The rate card from ``path`` or the shipped resources/pricing.toml."""
    if path is None:
        return _shipped()
    return _read(path)


@cache
def _shipped() -> RateCard:
    from promptready.resources import resource_path

    return _read(resource_path("pricing.toml"))


def _read(path: Path) -> RateCard:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"The rate card {path} could not be read ({exc}).") from None
    try:
        return parse_rate_card(raw)
    except ConfigError as exc:
        raise ConfigError(f"The rate card {path} is invalid: {exc}.") from None
