"""What the gateway spends: budgets checked before the upstream call, one ledger row after it.

Rows go through the batching writer (off the hot path); budget checks read its in-memory
per-app counters, so they cost a dict lookup. Known limit: concurrent requests are admitted on
what was spent so far, so a burst can overshoot a budget by the requests already in flight.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson

from promptready.gateway.apps import AppToken
from promptready.gateway.chat import Outcome
from promptready.gateway.errors import GatewayError
from promptready.ledger.records import UsageRecord
from promptready.ledger.writer import BatchWriter
from promptready.pricing import ModelPrice, RateCard, cost_usd


def _next_day() -> str:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return f"{tomorrow.isoformat()} 00:00 UTC"


def _next_month() -> str:
    today = datetime.now(UTC).date()
    first = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return f"{first.isoformat()} 00:00 UTC"


class Meter:
    """Budgets and ledger rows for gateway calls."""

    def __init__(
        self, writer: BatchWriter, card: RateCard, monthly_cap_usd: Decimal | None = None
    ) -> None:
        self.writer = writer
        self.card = card
        self.monthly_cap_usd = monthly_cap_usd
        self._prices: dict[tuple[str | None, str], ModelPrice | None] = {}

    def check(self, app: AppToken, request_id: str) -> None:
        """402 (no retry) when the app's day/month budget or the global cap is spent."""
        today, month = self.writer.spent(app.name)
        limits = app.limits
        problem: str | None = None
        if limits.budget_usd_day is not None and today >= limits.budget_usd_day:
            problem = (
                f"This app spent ${today} of its ${limits.budget_usd_day} daily budget; "
                f"it resets at {_next_day()}."
            )
        elif limits.budget_usd_month is not None and month >= limits.budget_usd_month:
            problem = (
                f"This app spent ${month} of its ${limits.budget_usd_month} monthly budget; "
                f"it resets at {_next_month()}."
            )
        elif self.monthly_cap_usd is not None and self.writer.spent_total() >= self.monthly_cap_usd:
            problem = (
                f"The monthly cap of ${self.monthly_cap_usd} for the local API is reached; "
                f"it resets at {_next_month()}."
            )
        if problem is not None:
            self.writer.submit(
                UsageRecord(
                    source="gateway",
                    mode="byok",
                    status="blocked",
                    app=app.name,
                    error_code="budget_exceeded",
                    request_id=request_id,
                )
            )
            raise GatewayError(
                402, problem, "budget_exceeded", type="insufficient_quota", retry=False
            )

    def record(
        self,
        app: AppToken,
        *,
        provider: str | None,
        model: str,
        outcome: Outcome,
        request_id: str,
        started: float,
        cache_hit: bool = False,
    ) -> None:
        """One row for a finished call."""
        prompt, completion = outcome.prompt_tokens or 0, outcome.completion_tokens or 0
        price = None if cache_hit else self._price(model, provider)
        ok = cache_hit or 200 <= outcome.status < 300
        self.writer.submit(
            UsageRecord(
                source="gateway",
                mode="cache" if cache_hit else "byok",
                status="ok" if ok and not outcome.error_code else "error",
                app=app.name,
                provider=provider,
                model=model,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost_usd(price, prompt, completion) if price else Decimal(0),
                latency_ms=(time.perf_counter() - started) * 1000,
                ttft_ms=outcome.ttft_ms,
                error_code=outcome.error_code,
                request_id=request_id,
                cache_hit=cache_hit,
            )
        )

    def _price(self, model: str, provider: str | None) -> ModelPrice | None:
        key = (provider, model)
        if key not in self._prices:
            if len(self._prices) > 4096:  # model names come from clients: keep the memo bounded
                self._prices.clear()
            self._prices[key] = self.card.price(model, provider)
        return self._prices[key]

    def usage(self, app: AppToken) -> bytes:
        """The app's own spend and limits, for ``GET /v1/usage``."""
        today, month = self.writer.spent(app.name)
        limits = app.limits

        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return orjson.dumps(
            {
                "app": app.name,
                "spent_usd_today": str(today),
                "spent_usd_month": str(month),
                "budget_usd_day": money(limits.budget_usd_day),
                "budget_usd_month": money(limits.budget_usd_month),
                "rpm": limits.rpm,
            }
        )
