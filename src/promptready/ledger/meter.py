"""The one meter per process: every call (CLI, popup, gateway, virtual models) reserves before it
runs and settles after, through a ``Hold`` that settles itself, and becomes one ledger row with
its caller's app, source and mode.

Admission is race-free. A call gets in only if what was spent, plus what the calls in flight
hold, plus its own estimate (priced at the dearest route it may take) fits every budget that
applies: the app's day and month and, for the local API, the global monthly cap. A model with
no price cannot be bounded, so a budgeted caller is refused it (local providers the rate card
prices at 0 are free, not unpriced); a ``credits/...`` call counts its credits at the dearest
pack's price per credit, and at the dearest model's multiplier, since the credit service picks
the model. The estimate is held until the call ends; then the row, at the actual cost, goes to
the writer, whose counters are the spend, and the hold is released in the same step. A refused
call's ``blocked`` row is committed before the gateway answers the refusal, like any answer's.
Check-and-hold and record-and-release each take the meter's lock (the desktop app calls from the
Qt thread and the local API's thread), so no burst can slip between a check and its hold.
``process_meter`` gives every caller in a process the same meter for a file.

Money is kept in whole micro-dollars here (the ledger's unit, exact), so a check is a dict
lookup and a few integer comparisons; Decimal appears only in messages and in prices.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from promptready.errors import ConfigError, PromptReadyError
from promptready.ledger.records import MICRO, PAID_IN_CREDITS, UsageRecord, micro_usd, usd
from promptready.pricing import FREE, ModelPrice, RateCard, cost_usd

if TYPE_CHECKING:
    from promptready.ledger.store import Ledger
    from promptready.ledger.writer import BatchWriter
    from promptready.providers.routing import Route
    from promptready.providers.wire import Usage
    from promptready.settings import Settings

PRICE_SETTING = "pricing.models"


class BudgetError(PromptReadyError):
    """A call was refused before it ran: it does not fit a budget (``code`` says why)."""

    code = "budget_exceeded"
    _row: asyncio.Future[None] | None = None  # the blocked row's commit, on an event loop

    async def recorded(self) -> None:
        """Wait until the refusal's ``blocked`` row is on disk (at once off an event loop)."""
        if self._row is not None:
            await self._row


class UnpricedModelError(BudgetError):
    """A budgeted caller asked for a model with no price."""

    code = "model_unpriced"


@dataclass(frozen=True, slots=True)
class TokenBound:
    """The tokens one call may be billed for (what a reservation holds)."""

    prompt: int
    completion: int


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, for the row and the budgets: ``app`` budgets apply when set."""

    source: str  # "popup", "cli" or "gateway"
    app: str | None = None
    budget_usd_day: Decimal | None = None
    budget_usd_month: Decimal | None = None
    capped: bool = False  # the local API's global monthly cap applies

    @property
    def budgeted(self) -> bool:
        return self.budget_usd_day is not None or self.budget_usd_month is not None


def parse_cap(raw: str) -> Decimal | None:
    """The local API's global monthly cap from settings ("" for none)."""
    if not raw.strip():
        return None
    try:
        cap = Decimal(raw)
    except InvalidOperation:
        cap = Decimal("NaN")
    if not cap.is_finite() or cap < 0:
        raise ConfigError(f'gateway.monthly_cap_usd must be an amount like "20", not {raw!r}.')
    return cap


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


@dataclass(frozen=True, slots=True)
class _Budget:
    """One budget a call was checked against, for the sentence that refuses it."""

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


class Hold:
    """One admitted call: what it holds, and what it did, filled in as it goes. ``settle``
    writes its row and waits for the commit; leaving ``async with`` settles it if nobody did
    (as ``cancelled`` when the task was cancelled, else ``error``)."""

    __slots__ = (
        "_meter",
        "cache_hit",
        "caller",
        "credits",
        "error_code",
        "hops",
        "latency_ms",
        "micro",
        "mode",
        "model",
        "prompt_text",
        "provider",
        "request_id",
        "settled",
        "started",
        "status",
        "ttft_ms",
        "usage",
    )  # fmt: skip

    def __init__(
        self, meter: Meter, caller: Caller, request_id: str | None, micro: int, mode: str
    ) -> None:
        self._meter = meter
        self.caller = caller
        self.request_id = request_id
        self.micro = micro
        self.mode = mode
        self.started = time.perf_counter()
        self.settled = False
        self.status = "ok"
        self.provider: str | None = None
        self.model: str | None = None
        self.usage: Usage | None = None
        self.ttft_ms: float | None = None
        self.error_code: str | None = None
        self.hops: str | None = None
        self.cache_hit = False
        self.credits = 0
        self.prompt_text: str | None = None
        self.latency_ms: float | None = None  # None: measured from the hold's start

    def answered_by(self, route: Route) -> None:
        """The route that answered (or was tried last): provider, model and ledger mode."""
        self.provider = route.provider.name
        self.model = route.model
        self.mode = route.provider.config.ledger_mode

    def row(self) -> UsageRecord:
        """The ledger row for what the call did, at its actual cost."""
        meter = self._meter
        usage = self.usage
        prompt, completion = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
        cached = usage.cached_tokens if usage else 0
        price = None
        unpriced = False
        credits = self.credits
        cost = Decimal(0)
        if self.mode == PAID_IN_CREDITS:  # paid in credits, by the credit service's rule for them
            if not credits and usage is not None and not self.cache_hit:
                charged = usage.credits_charged  # the service's own number, when it says
                credits = (
                    meter.card.credits_for_chat(prompt + completion, self.model or "")
                    if charged is None
                    else charged
                )
            cost = meter.card.credits_usd(credits)  # what budgets count it as
        elif self.provider is not None and not self.cache_hit and self.model:
            price = meter.price(self.model, self.provider)
            reported = usage.cost_usd if usage is not None else None
            # The provider's own bill for the call (OpenRouter's usage.cost) beats the rate
            # card's estimate of it; a price the user set themselves beats both.
            if reported is not None and not meter.card.is_overridden(self.model, self.provider):
                price, cost = None, reported
            unpriced = price is None and reported is None
        return UsageRecord(
            source=self.caller.source,
            mode="cache" if self.cache_hit else self.mode,
            status=self.status,
            app=self.caller.app,
            provider=None if self.cache_hit else self.provider,
            model=self.model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            tokens_estimated=usage.estimated if usage else False,
            cost_usd=cost_usd(price, prompt, completion, cached) if price else cost,
            credits=credits,
            latency_ms=(
                (time.perf_counter() - self.started) * 1000
                if self.latency_ms is None
                else self.latency_ms
            ),
            ttft_ms=self.ttft_ms,
            error_code=self.error_code,
            request_id=self.request_id,
            cache_hit=self.cache_hit,
            hops=self.hops,
            prompt_text=self.prompt_text,
            unpriced=unpriced,
        )

    async def settle(self) -> None:
        """Write the row and release the hold, then wait for the commit (once; later no-op)."""
        if self.settled:
            return
        # Queued before the wait: a cancelled wait still leaves the row on its way to disk.
        await self._meter.writer.committed(self._close())

    def settle_now(self) -> None:
        """``settle`` for synchronous callers."""
        if not self.settled:
            self._meter.writer.commit_now(self._close())

    def _close(self) -> UsageRecord:
        self.settled = True
        try:
            return self.row()
        finally:
            self._meter.release(self)

    async def __aenter__(self) -> Hold:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.settled:
            return
        if kind is not None:
            cancelled = issubclass(kind, asyncio.CancelledError)
            self.status = "cancelled" if cancelled else "error"
        await self.settle()


class Meter:
    """Budget holds and ledger rows for every call of this process (used from one thread)."""

    def __init__(
        self, writer: BatchWriter, card: RateCard, monthly_cap_usd: Decimal | None = None
    ) -> None:
        self.writer = writer
        self.card = card
        self.monthly_cap_usd = monthly_cap_usd
        self._cap = _floor_micro(monthly_cap_usd)
        self._prices: dict[tuple[str | None, str], tuple[ModelPrice | None, int, int]] = {}
        self._limits: dict[tuple[Decimal | None, Decimal | None], tuple[int | None, ...]] = {}
        self._held: dict[str, int] = {}  # app name -> micro-dollars held by calls in flight
        self._held_total = 0
        self._lock = threading.Lock()
        self._reader: Ledger | None = None
        self._reader_lock = threading.Lock()
        self.shared = False  # process_meter's: its users close nothing, atexit does

    def estimate(self, routes: Sequence[Route], tokens: TokenBound) -> int:
        """Micro-dollars to hold for a call that may take any of ``routes`` (rounded up)."""
        dearest = 0
        for route in routes:
            if route.provider.config.ledger_mode == PAID_IN_CREDITS:
                # The service answers with the device's cohort model whatever model is named,
                # and the client does not know which that is: hold the dearest multiplier's
                # credits. The row then counts the credits the call used.
                credits = self.card.most_credits_for_chat(tokens.prompt + tokens.completion)
                pico = micro_usd(self.card.credits_usd(credits)) * _PICO_PER_MICRO
            else:
                _, per_prompt, per_completion = self._priced(route.model, route.provider.name)
                pico = per_prompt * tokens.prompt + per_completion * tokens.completion
            dearest = max(dearest, pico)
        return -(-dearest // _PICO_PER_MICRO)  # ceil

    def hold(
        self,
        caller: Caller,
        routes: Sequence[Route] = (),
        tokens: TokenBound | None = None,
        *,
        request_id: str | None = None,
        mode: str = "byok",
    ) -> Hold:
        """Admit a call that may take any of ``routes``: its hold, or BudgetError (a row with
        status ``blocked`` says so) when it does not fit."""
        capped = caller.capped and self._cap is not None
        if routes and (caller.budgeted or capped):
            self._refuse_unpriced(caller, routes, request_id, mode)
        micro = self.estimate(routes, tokens) if routes and tokens is not None else 0
        with self._lock:
            problem = self._over_budget(caller, micro, capped)
            if problem is None and micro:
                name = caller.app or ""
                self._held[name] = self._held.get(name, 0) + micro
                self._held_total += micro
        if problem is not None:
            error = BudgetError(problem)
            error._row = self._blocked(caller, request_id, mode, error.code)
            raise error
        return Hold(self, caller, request_id, micro, mode)

    def _refuse_unpriced(
        self, caller: Caller, routes: Sequence[Route], request_id: str | None, mode: str
    ) -> None:
        for route in routes:
            if route.provider.config.ledger_mode == PAID_IN_CREDITS:
                continue  # priced by the credit rules, at the dearest pack's price per credit
            if self._priced(route.model, route.provider.name)[0] is None:
                label = route.label
                error = UnpricedModelError(
                    f"{label} has no price, so its cost cannot be kept within this "
                    f"{'app' if caller.budgeted else 'local API'}'s budget; add its price "
                    f'(USD per 1M tokens) to the {PRICE_SETTING} setting, e.g. "{label}" = '
                    '{input = "1.00", output = "4.00"}, or use a priced model.'
                )
                error._row = self._blocked(caller, request_id, mode, error.code)
                raise error

    def _over_budget(self, caller: Caller, micro: int, capped: bool) -> str | None:
        """Why a call holding ``micro`` does not fit, or None."""
        if not caller.budgeted and not capped:
            return None
        name = caller.app or ""
        held = self._held.get(name, 0)
        today, month, total = self.writer.spent_micro(name)
        day_limit, month_limit = self._limits_of(caller)
        if day_limit is not None and _over(today + held, micro, day_limit):
            return _Budget("daily budget", day_limit, _next_day()).refusal(today, held, micro)
        if month_limit is not None and _over(month + held, micro, month_limit):
            budget = _Budget("monthly budget", month_limit, _next_month())
            return budget.refusal(month, held, micro)
        if capped and self._cap is not None and _over(total + self._held_total, micro, self._cap):
            budget = _Budget("monthly cap", self._cap, _next_month(), app=False)
            return budget.refusal(total, self._held_total, micro)
        return None

    def _blocked(
        self, caller: Caller, request_id: str | None, mode: str, code: str
    ) -> asyncio.Future[None] | None:
        """Queue the refusal's ``blocked`` row; on an event loop, the future of its commit.

        A refusal is an answer too (the gateway's 402), and an answered request always has its
        row: the gateway awaits ``BudgetError.recorded`` before it sends the refusal. Callers
        without a loop (the desktop's Qt thread) only submit: their refusal is a sentence on
        screen, not an answer another process acts on, and waiting for the disk would freeze
        the UI; the row goes with the next batch.
        """
        record = UsageRecord(
            source=caller.source,
            mode=mode,
            status="blocked",
            app=caller.app,
            error_code=code,
            request_id=request_id,
        )
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.writer.submit(record)
            return None
        return self.writer.committed(record)

    def release(self, hold: Hold) -> None:
        """Give the hold's reservation back (safe twice)."""
        if hold.micro:
            name = hold.caller.app or ""
            with self._lock:
                left = self._held[name] - hold.micro
                if left:
                    self._held[name] = left
                else:
                    del self._held[name]
                self._held_total -= hold.micro
                hold.micro = 0

    def held_micro(self, app: str) -> int:
        """Micro-dollars the app's calls in flight hold."""
        return self._held.get(app, 0)

    def reprice(self, card: RateCard, monthly_cap_usd: Decimal | None) -> None:
        """New prices or a new cap (the user changed settings)."""
        if card != self.card or monthly_cap_usd != self.monthly_cap_usd:
            self.card, self.monthly_cap_usd = card, monthly_cap_usd
            self._cap = _floor_micro(monthly_cap_usd)
            self._prices = {}

    def latencies(self) -> dict[str, float]:
        """Average latency per provider/model over the last week (``auto``'s fastest policy),
        on a reading connection of its own (the writer's belongs to its thread)."""
        with self._reader_lock:
            if self._reader is None:
                from promptready.ledger.store import Ledger

                self._reader = Ledger(self.writer.path)
            found: dict[str, float] = self._reader.latencies()
            return found

    def close(self) -> None:
        """Write what is queued and close the files."""
        self.writer.close()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def price(self, model: str, provider: str | None) -> ModelPrice | None:
        """The rate card's price (None: not on the card)."""
        return self._priced(model, provider)[0]

    def _priced(self, model: str, provider: str | None) -> tuple[ModelPrice | None, int, int]:
        """The rate card's price and its pico-dollars per prompt and per completion token
        (rounded up: a hold is a bound), memoised: the card's lookup is too slow for every
        call, and with the rates an estimate is integer arithmetic."""
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

    def _limits_of(self, caller: Caller) -> tuple[int | None, ...]:
        key = (caller.budget_usd_day, caller.budget_usd_month)
        found = self._limits.get(key)
        if found is None:
            found = (_floor_micro(key[0]), _floor_micro(key[1]))
            if len(self._limits) > 4096:
                self._limits.clear()
            self._limits[key] = found
        return found


def _over(committed: int, micro: int, limit: int) -> bool:
    """Whether a call holding ``micro`` must be refused: the budget is used up, or the call
    would take it past its limit."""
    return committed >= limit or committed + micro > limit


_METERS: dict[Path, Meter] = {}
_METERS_LOCK = threading.Lock()


def process_meter(ledger_file: Path, settings: Settings) -> Meter:
    """This process's meter on ``ledger_file``: the CLI, the popup and the local API share one,
    so budgets held in memory are exact; prices and the cap follow the latest settings."""
    from promptready.pricing import load_rate_card

    card = load_rate_card().with_overrides(settings.pricing.models)
    cap = parse_cap(settings.gateway.monthly_cap_usd)
    with _METERS_LOCK:
        meter = _METERS.get(ledger_file)
        if meter is None or meter.writer.closed:
            from promptready.ledger.writer import BatchWriter

            writer = BatchWriter(ledger_file, store_prompts=settings.privacy.store_prompts)
            meter = _METERS[ledger_file] = Meter(writer, card, cap)
            meter.shared = True
        else:
            meter.reprice(card, cap)
            meter.writer.store_prompts = settings.privacy.store_prompts
        return meter
