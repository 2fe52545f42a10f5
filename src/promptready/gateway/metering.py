"""What the gateway spends: budgets reserved before the upstream call, settled after it.

Admission is race-free. A request gets in only if what was spent, plus what the requests in
flight hold, plus its own estimate (``estimate.py``, priced at the dearest route it may take)
fits every budget that applies: the app's day and month and the global monthly cap. The estimate
is held until the call ends; then the actual cost goes to the ledger writer, whose counters are
the spend, and the hold is released in the same step. Check-and-hold and record-and-release each
run on the event loop's thread between two awaits, so no lock is needed and no burst can slip
between a check and its hold. Spend is as fresh as the writer's counters: this process at once,
other processes (the CLI, the app) at the writer's next resync.

Money is kept in whole micro-dollars here (the ledger's unit, exact), so a check is a dict
lookup and a few integer comparisons; Decimal appears only in messages and in the estimate.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import orjson

from promptready.gateway.apps import AppLimits, AppToken
from promptready.gateway.chat import Outcome
from promptready.gateway.errors import GatewayError
from promptready.gateway.estimate import TokenBound
from promptready.ledger.records import MICRO, UsageRecord, usd
from promptready.ledger.writer import BatchWriter
from promptready.pricing import FREE, ModelPrice, RateCard, cost_usd
from promptready.providers.routing import Route


def _next_day() -> str:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return f"{tomorrow.isoformat()} 00:00 UTC"


def _next_month() -> str:
    today = datetime.now(UTC).date()
    first = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return f"{first.isoformat()} 00:00 UTC"


def _floor_micro(amount: Decimal | None) -> int | None:
    """A budget in micro-dollars, rounded down: the limit is never exceeded by rounding."""
    return None if amount is None else int((amount / MICRO).to_integral_value(ROUND_FLOOR))


_PICO_PER_MICRO = 10**6


def _pico(usd_per_million: Decimal) -> int:
    return int((usd_per_million * _PICO_PER_MICRO).to_integral_value(ROUND_CEILING))


def _money(micro: int) -> str:
    return str(usd(micro))


@dataclass(slots=True)
class Hold:
    """The estimate one admitted request holds against its app's budgets until it settles."""

    app: AppToken
    request_id: str
    micro: int


@dataclass(frozen=True, slots=True)
class _Budget:
    """One budget a request was checked against, for the sentence that refuses it."""

    what: str  # "daily budget", "monthly budget" or "monthly cap"
    limit: int
    resets: str
    app: bool = True  # the app's own budget, else the local API's global cap

    def refusal(self, spent: int, held: int, micro: int) -> str:
        budget = f"${_money(self.limit)} {self.what}"
        if spent >= self.limit:
            subject = "This app" if self.app else "The local API"
            return f"{subject} spent ${_money(spent)} of its {budget}; it resets at {self.resets}."
        whose = "this app's" if self.app else "the local API's"
        left = max(0, self.limit - spent - held)
        return (
            f"This request may cost up to ${_money(micro)}, more than the ${_money(left)} left "
            f"of {whose} {budget} (requests in flight count until they finish); ask for fewer "
            f"tokens (max_tokens) or wait until {self.resets}."
        )


@dataclass(frozen=True, slots=True)
class _Limits:
    """An app's budgets in micro-dollars, for the ``AppLimits`` they were read from."""

    source: AppLimits
    day: int | None
    month: int | None


class Meter:
    """Budget holds and ledger rows for gateway calls (used from the event loop's thread)."""

    def __init__(
        self, writer: BatchWriter, card: RateCard, monthly_cap_usd: Decimal | None = None
    ) -> None:
        self.writer = writer
        self.card = card
        self.monthly_cap_usd = monthly_cap_usd
        self._cap = _floor_micro(monthly_cap_usd)
        self._prices: dict[tuple[str | None, str], tuple[ModelPrice | None, int, int]] = {}
        self._limits: dict[str, _Limits] = {}
        self._held: dict[str, int] = {}  # app name -> micro-dollars held by requests in flight
        self._held_total = 0

    def estimate(self, routes: Sequence[Route], tokens: TokenBound) -> int:
        """Micro-dollars to hold for a request that may take any of ``routes`` (rounded up)."""
        dearest = 0
        for route in routes:
            _, per_prompt, per_completion = self._priced(route.model, route.provider.name)
            dearest = max(dearest, per_prompt * tokens.prompt + per_completion * tokens.completion)
        return -(-dearest // _PICO_PER_MICRO)  # ceil

    def reserve(self, app: AppToken, request_id: str, micro: int = 0) -> Hold:
        """Hold ``micro`` for this request, or 402 (no retry) when it does not fit a budget."""
        name = app.name
        held = self._held.get(name, 0)
        today, month, total = self.writer.spent_micro(name)
        limits = self._limits_of(app)
        problem: str | None = None
        if limits.day is not None and _over(today + held, micro, limits.day):
            problem = _Budget("daily budget", limits.day, _next_day()).refusal(today, held, micro)
        elif limits.month is not None and _over(month + held, micro, limits.month):
            budget = _Budget("monthly budget", limits.month, _next_month())
            problem = budget.refusal(month, held, micro)
        elif self._cap is not None and _over(total + self._held_total, micro, self._cap):
            budget = _Budget("monthly cap", self._cap, _next_month(), app=False)
            problem = budget.refusal(total, self._held_total, micro)
        if problem is not None:
            self.writer.submit(
                UsageRecord(
                    source="gateway",
                    mode="byok",
                    status="blocked",
                    app=name,
                    error_code="budget_exceeded",
                    request_id=request_id,
                )
            )
            raise GatewayError(
                402, problem, "budget_exceeded", type="insufficient_quota", retry=False
            )
        if micro:
            self._held[name] = held + micro
            self._held_total += micro
        return Hold(app, request_id, micro)

    def release(self, hold: Hold) -> None:
        """Give the hold back (safe twice): the request ended without a row of its own."""
        if hold.micro:
            name = hold.app.name
            left = self._held[name] - hold.micro
            if left:
                self._held[name] = left
            else:
                del self._held[name]
            self._held_total -= hold.micro
            hold.micro = 0

    def settle(
        self,
        hold: Hold,
        *,
        provider: str | None,
        model: str,
        outcome: Outcome,
        started: float,
        hops: str | None = None,
    ) -> None:
        """One row for a finished call, at its actual cost, and the hold released."""
        cache_hit = outcome.cache_hit
        prompt, completion = outcome.prompt_tokens or 0, outcome.completion_tokens or 0
        price = None if cache_hit else self.price(model, provider)
        ok = cache_hit or 200 <= outcome.status < 300
        try:
            self.writer.submit(
                UsageRecord(
                    source="gateway",
                    mode="cache" if cache_hit else "byok",
                    status="ok" if ok and not outcome.error_code else "error",
                    app=hold.app.name,
                    provider=provider,
                    model=model,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    cost_usd=cost_usd(price, prompt, completion) if price else Decimal(0),
                    latency_ms=(time.perf_counter() - started) * 1000,
                    ttft_ms=outcome.ttft_ms,
                    error_code=outcome.error_code,
                    request_id=hold.request_id,
                    cache_hit=cache_hit,
                    hops=hops,
                )
            )
        finally:
            self.release(hold)

    def price(self, model: str, provider: str | None) -> ModelPrice | None:
        """The rate card's price (None: not on the card)."""
        return self._priced(model, provider)[0]

    def _priced(self, model: str, provider: str | None) -> tuple[ModelPrice | None, int, int]:
        """The rate card's price and its pico-dollars per prompt and per completion token
        (rounded up: a hold is a bound), memoised: the card's lookup is too slow for every
        request, and with the rates an estimate is integer arithmetic."""
        key = (provider, model)
        found = self._prices.get(key)
        if found is None:
            price = self.card.price(model, provider)
            rate = price or FREE
            # USD per 1M tokens is micro-dollars per token; times 10**6 is pico-dollars.
            found = (price, _pico(rate.input), _pico(rate.output))
            if len(self._prices) > 4096:  # model names come from clients: keep the memo bounded
                self._prices.clear()
            self._prices[key] = found
        return found

    def _limits_of(self, app: AppToken) -> _Limits:
        cached = self._limits.get(app.name)
        if cached is None or cached.source is not app.limits:  # the apps file was re-read
            limits = app.limits
            cached = _Limits(
                limits, _floor_micro(limits.budget_usd_day), _floor_micro(limits.budget_usd_month)
            )
            self._limits[app.name] = cached
        return cached

    def usage(self, app: AppToken) -> bytes:
        """The app's own spend and limits, for ``GET /v1/usage``."""
        today, month, _ = self.writer.spent_micro(app.name)
        limits = app.limits

        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return orjson.dumps(
            {
                "app": app.name,
                "spent_usd_today": _money(today),
                "spent_usd_month": _money(month),
                "held_usd": _money(self._held.get(app.name, 0)),
                "budget_usd_day": money(limits.budget_usd_day),
                "budget_usd_month": money(limits.budget_usd_month),
                "rpm": limits.rpm,
            }
        )


def _over(committed: int, micro: int, limit: int) -> bool:
    """Whether a request holding ``micro`` must be refused: the budget is used up, or the
    request would take it past its limit."""
    return committed >= limit or committed + micro > limit
