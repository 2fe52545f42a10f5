"""The rate card (resources/pricing.toml): USD per 1M tokens by model, credit rules, packs, plans
and balance levels. Pure, and shared with the hosted credit proxy.

Money is ``Decimal`` parsed from TOML strings, so no float ever touches it; credits are ``int``.
Rounding: a call's cost is quantized to 0.000001 USD, half up; credits are rounded up (ceil).
A model may price prompt tokens read from the provider's cache (``cached_input``) and a long
prompt (``long_context``: above a prompt size the whole call is billed at other rates).
Model lookup: ``provider/model`` or a bare model; a snapshot (``gpt-4o-2024-08-06``,
``gpt-3.5-turbo-0125``, ``gemini-2.0-flash-001``, ``mistral-large-latest``) takes its base's price.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from promptready.errors import ConfigError

MICRO_USD = Decimal("0.000001")
PER_MILLION = Decimal(1_000_000)
_SNAPSHOT = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{3,4}|latest)$")
_T = TypeVar("_T")
Level = Literal["green", "orange", "red"]


@dataclass(frozen=True)
class LongContext:
    """The rates of a call whose prompt is over ``above`` tokens: the whole call is billed at
    them, as Gemini and Claude bill long prompts (USD per 1M tokens, like ``ModelPrice``)."""

    above: int
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None  # None: cached tokens cost this tier's input price


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M input (prompt) and output (completion) tokens; ``cached_input`` prices the
    prompt tokens read from the provider's cache (None: they cost the input price)."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    long_context: LongContext | None = None


FREE = ModelPrice(Decimal(0), Decimal(0))


@dataclass(frozen=True)
class CreditPack:
    """A one-off credit purchase; some are offered only to users who have run out."""

    name: str
    price_usd: Decimal
    credits: int
    only_at_zero_balance: bool = False


@dataclass(frozen=True)
class Plan:
    """A monthly plan; unused credits carry over ``rollover_months`` (0: topped up, not added)."""

    name: str
    price_usd_month: Decimal
    credits_month: int
    rollover_months: int


@dataclass(frozen=True)
class BalanceRules:
    """Credit balance thresholds: colour levels, the low-balance warning and auto-reload."""

    green_above: int
    red_below: int
    low_warning_at: int
    auto_reload_below: int


@dataclass(frozen=True)
class RateCard:
    """Everything that prices a call; ``overrides`` are the user's prices and win every lookup."""

    models: Mapping[str, ModelPrice]
    free_providers: frozenset[str]
    per_enhancement: int
    tokens_per_credit: int
    multipliers: Mapping[str, Decimal]
    packs: tuple[CreditPack, ...]
    plans: Mapping[str, Plan]
    balance: BalanceRules
    overrides: Mapping[str, ModelPrice] = field(default_factory=dict)

    def price(self, model: str, provider: str | None = None) -> ModelPrice | None:
        """The price of ``model`` as served by ``provider`` (or named ``provider/model``), None
        when unknown. A model served by a provider the card lacks costs its list price."""
        if provider is None and "/" in model:
            provider, _, model = model.partition("/")
        found = _find(self.overrides, model, provider)
        if found is None and (provider or "").lower() in self.free_providers:
            return FREE
        return found if found is not None else _find(self.models, model, provider)

    def is_overridden(self, model: str, provider: str | None = None) -> bool:
        """Whether the user priced ``model`` themselves (their price beats any other figure)."""
        if provider is None and "/" in model:
            provider, _, model = model.partition("/")
        return _find(self.overrides, model, provider) is not None

    def with_overrides(self, overrides: Mapping[str, ModelPrice]) -> RateCard:
        """This card with the user's prices (keyed ``provider/model`` or bare) taking precedence."""
        return replace(self, overrides={**self.overrides, **overrides})

    def credits_for_enhancement(self) -> int:
        """Credits one enhancement costs on the hosted proxy."""
        return self.per_enhancement

    def credits_for_chat(self, total_tokens: int, model: str, provider: str | None = None) -> int:
        """ceil(total_tokens / tokens_per_credit * the model's multiplier), at least 1."""
        if provider is None and "/" in model:
            provider, _, model = model.partition("/")
        return self._credits(total_tokens, _find(self.multipliers, model, provider) or Decimal(1))

    def most_credits_for_chat(self, total_tokens: int) -> int:
        """``credits_for_chat`` at the dearest multiplier on the card (unlisted models are 1):
        the most a call can be charged by a service that picks the model itself, as the credit
        proxy does (a device's cohort model answers whatever model is named)."""
        return self._credits(total_tokens, max([Decimal(1), *self.multipliers.values()]))

    def _credits(self, total_tokens: int, multiplier: Decimal) -> int:
        raw = Decimal(total_tokens) / Decimal(self.tokens_per_credit) * multiplier
        return max(1, math.ceil(raw))

    def credit_usd(self) -> Decimal:
        """What one credit can have cost: the dearest pack's price per credit. Budgets in USD
        count a ``credits/...`` call at this rate, so they bound the most it can have cost."""
        return max((p.price_usd / p.credits for p in self.packs), default=Decimal(0))

    def credits_usd(self, credits: int) -> Decimal:
        """``credits`` in USD at ``credit_usd`` (rounded up to 0.000001: a budget is a bound)."""
        return (self.credit_usd() * credits).quantize(MICRO_USD, rounding=ROUND_CEILING)

    def packs_for_balance(self, balance: int) -> list[CreditPack]:
        """Packs to offer at ``balance``: zero-balance packs (Micro) only when it is zero."""
        return [p for p in self.packs if not p.only_at_zero_balance or balance <= 0]

    def balance_level(self, balance: int) -> Level:
        """Green above ``green_above``, red below ``red_below``, orange from one to the other."""
        if balance > self.balance.green_above:
            return "green"
        if balance < self.balance.red_below:
            return "red"
        return "orange"

    def low_balance(self, balance: int) -> bool:
        """Whether to warn: the balance has come down to ``low_warning_at``."""
        return balance <= self.balance.low_warning_at

    def auto_reload_due(self, balance: int) -> bool:
        """Whether auto-reload (where the user enabled it) should buy credits now."""
        return balance < self.balance.auto_reload_below


def cost_usd(
    price: ModelPrice, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
) -> Decimal:
    """USD for one call, quantized to a millionth of a dollar (half up). ``cached_tokens`` are
    the part of ``prompt_tokens`` read from the cache (clamped to the prompt)."""
    tier = price.long_context
    rates: ModelPrice | LongContext = (
        tier if tier is not None and prompt_tokens > tier.above else price
    )
    cached = min(max(cached_tokens, 0), prompt_tokens)
    cached_rate = rates.input if rates.cached_input is None else rates.cached_input
    total = (
        rates.input * (prompt_tokens - cached)
        + cached_rate * cached
        + rates.output * completion_tokens
    ) / PER_MILLION
    return total.quantize(MICRO_USD, rounding=ROUND_HALF_UP)


def _find(table: Mapping[str, _T], model: str, provider: str | None) -> _T | None:
    """``provider/model``, then a bare ``model`` key, then ``model`` under any provider; each
    tried with the exact name first, then its snapshot base."""
    pairs = [(provider.lower() if provider else None, model)]
    if "/" in model:  # an aggregator's name such as openrouter's "openai/gpt-4o"
        inner, _, bare = model.partition("/")
        pairs.append((inner.lower(), bare))
    names = [(p, n.lower()) for p, n in pairs]
    names += [(p, _SNAPSHOT.sub("", n)) for p, n in names if _SNAPSHOT.search(n)]
    for p, name in names:
        if p and f"{p}/{name}" in table:
            return table[f"{p}/{name}"]
    for _, name in names:
        if name in table:
            return table[name]
    for _, name in names:
        for key, value in table.items():
            if key.rpartition("/")[2] == name:
                return value
    return None


# Parsing: every error names the table and key at fault.


def _money(key: str, raw: object) -> Decimal:
    if isinstance(raw, float | int) and not isinstance(raw, bool):
        raise ConfigError(f'{key} must be a decimal number in quotes, like "2.50", not {raw!r}')
    if not isinstance(raw, str):
        raise ConfigError(f"{key} must be a decimal number, not {raw!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigError(f"{key} must be a decimal number, not {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ConfigError(f"{key} must be zero or more, not {raw!r}")
    return value


def _whole(key: str, raw: object, minimum: int = 0) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise ConfigError(f"{key} must be a whole number of at least {minimum}, not {raw!r}")
    return raw


def _table(
    key: str, raw: object, required: set[str] | None = None, optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """``raw`` as a table holding every ``required`` key and nothing unknown (when given)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{key} must be a table, not {raw!r}")
    if required is not None:
        if missing := sorted(required - set(raw)):
            raise ConfigError(f"{key}.{missing[0]} is missing")
        known = required | optional
        if unknown := sorted(set(raw) - known):
            raise ConfigError(f"{key}.{unknown[0]} is not a known key ({', '.join(sorted(known))})")
    return raw


def parse_price_overrides(key: str, raw: object) -> dict[str, ModelPrice]:
    """Model prices from ``{"openai/gpt-4o" = {input = "2.50", output = "10"}}`` (optionally
    ``cached_input`` and a ``long_context`` table); a ConfigError names the exact key at fault,
    e.g. ``pricing.models.gpt-4o.input``."""
    return {
        model.lower(): _price(f"{key}.{model}", entry) for model, entry in _table(key, raw).items()
    }


_RATES = {"input", "output"}
_OPTIONAL_RATES = frozenset({"cached_input"})


def _price(key: str, raw: object) -> ModelPrice:
    fields = _table(key, raw, _RATES, _OPTIONAL_RATES | {"long_context"})
    tier: LongContext | None = None
    if "long_context" in fields:
        tier_key = f"{key}.long_context"
        tier_fields = _table(tier_key, fields["long_context"], _RATES | {"above"}, _OPTIONAL_RATES)
        tier_input = _money(f"{tier_key}.input", tier_fields["input"])
        tier = LongContext(
            _whole(f"{tier_key}.above", tier_fields["above"], 1),
            tier_input,
            _money(f"{tier_key}.output", tier_fields["output"]),
            _cached(tier_key, tier_fields, tier_input),
        )
    price_input = _money(f"{key}.input", fields["input"])
    return ModelPrice(
        price_input,
        _money(f"{key}.output", fields["output"]),
        _cached(key, fields, price_input),
        tier,
    )


def _cached(key: str, fields: Mapping[str, object], input_price: Decimal) -> Decimal | None:
    """The optional cache-read price; above the input price it is a typo, not a discount (and
    holds, priced without cache, must stay the worst case)."""
    if "cached_input" not in fields:
        return None
    cached = _money(f"{key}.cached_input", fields["cached_input"])
    if cached > input_price:
        raise ConfigError(f"{key}.cached_input must not be more than {key}.input ({input_price})")
    return cached


def _pack(index: int, raw: object) -> CreditPack:
    fields = _table(
        f"packs[{index}]",
        raw,
        {"name", "price_usd", "credits"},
        frozenset({"only_at_zero_balance"}),
    )
    key = f"packs.{fields['name']}"
    only_at_zero = fields.get("only_at_zero_balance", False)
    if not isinstance(only_at_zero, bool):
        raise ConfigError(f"{key}.only_at_zero_balance must be true or false")
    return CreditPack(
        str(fields["name"]),
        _money(f"{key}.price_usd", fields["price_usd"]),
        _whole(f"{key}.credits", fields["credits"], 1),
        only_at_zero,
    )


def _plan(name: str, raw: object) -> Plan:
    key = f"plans.{name}"
    fields = _table(key, raw, {"price_usd_month", "credits_month", "rollover_months"})
    return Plan(
        name,
        _money(f"{key}.price_usd_month", fields["price_usd_month"]),
        _whole(f"{key}.credits_month", fields["credits_month"]),
        _whole(f"{key}.rollover_months", fields["rollover_months"]),
    )


_TABLES = {"models", "free", "credits", "packs", "plans", "balance"}


def parse_rate_card(raw: Mapping[str, object]) -> RateCard:
    """Validate a parsed rate card; a ConfigError names the table and key at fault."""
    card = dict(raw)
    if missing := sorted(_TABLES - set(card)):
        raise ConfigError(f"the table [{missing[0]}] is missing")
    if unknown := sorted(set(card) - _TABLES):
        raise ConfigError(f"[{unknown[0]}] is not a known table ({', '.join(sorted(_TABLES))})")
    credits = _table(
        "credits",
        card["credits"],
        {"per_enhancement", "tokens_per_credit"},
        frozenset({"multipliers"}),
    )
    providers = _table("free", card["free"], {"providers"})["providers"]
    if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
        raise ConfigError("free.providers must be a list of provider names")
    packs = card["packs"]
    if not isinstance(packs, list):
        raise ConfigError("packs must be an array of tables ([[packs]])")
    balance = _table("balance", card["balance"], set(BalanceRules.__dataclass_fields__))
    return RateCard(
        models=parse_price_overrides("models", card["models"]),
        free_providers=frozenset(p.lower() for p in providers),
        per_enhancement=_whole("credits.per_enhancement", credits["per_enhancement"], 1),
        tokens_per_credit=_whole("credits.tokens_per_credit", credits["tokens_per_credit"], 1),
        multipliers={
            m.lower(): _money(f"credits.multipliers.{m}", v)
            for m, v in _table("credits.multipliers", credits.get("multipliers", {})).items()
        },
        packs=tuple(_pack(i, p) for i, p in enumerate(packs, start=1)),
        plans={n: _plan(n, p) for n, p in _table("plans", card["plans"]).items()},
        balance=BalanceRules(**{k: _whole(f"balance.{k}", v) for k, v in balance.items()}),
    )


def load_rate_card(path: Path | None = None) -> RateCard:
    """The rate card in ``path``, or the shipped resources/pricing.toml (read once)."""
    return _shipped() if path is None else _read(path)


@cache
def _shipped() -> RateCard:
    from promptready.resources import resource_path

    return _read(resource_path("pricing.toml"))


def _read(path: Path) -> RateCard:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"The rate card {path} could not be read ({exc}); fix it or reinstall PromptReady."
        ) from None
    try:
        return parse_rate_card(raw)
    except ConfigError as exc:
        raise ConfigError(
            f"The rate card {path} is invalid: {exc}; fix it or reinstall PromptReady."
        ) from None
