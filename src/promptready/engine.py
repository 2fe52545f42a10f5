"""The one service object: the popup, the CLI and the gateway all enhance text through ``Engine``.

It owns the choice of mode and format, runs the offline enhancer (always: it is the hint for AI
mode and the answer when AI fails), and drives AI mode through the provider registry.
Adapters never talk to the enhancer, HTTP, SQL or the keyring directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from promptready.errors import ConfigError
from promptready.settings import Settings

if TYPE_CHECKING:
    from promptready.enhance import Analysis, Change, Enhancement, OutputFormat
    from promptready.ledger.meter import Caller, Hold, Meter
    from promptready.providers.registry import ProviderRegistry
    from promptready.providers.routing import FallbackPolicy, Route
    from promptready.providers.wire import Usage


class Mode(StrEnum):
    OFFLINE = "offline"
    AI = "ai"


@dataclass(frozen=True)
class Timings:
    """Where the time went, in milliseconds (``ttft_ms``: first AI token, AI mode only)."""

    total_ms: float
    offline_ms: float
    ttft_ms: float | None = None


@dataclass(frozen=True)
class AIDetails:
    """Which model wrote an AI result, what it cost in tokens, and what was tried."""

    provider: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    tokens_estimated: bool
    hops: str


@dataclass(frozen=True)
class EnhanceResult:
    """An enhanced prompt as every caller receives it.

    ``fallback_reason`` is set when AI mode was asked for but the offline result is returned.
    """

    text: str
    mode: Mode
    format: OutputFormat
    analysis: Analysis
    changes: tuple[Change, ...]
    timings: Timings
    ai: AIDetails | None = None
    fallback_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the shape of ``promptready enhance --json``."""
        return asdict(self)


OnDelta = Callable[[str], None]
Notice = Callable[[str], None]


@dataclass(frozen=True)
class _AIRequest:
    """One AI enhancement as asked: the text, and who asked and how."""

    text: str
    fmt: OutputFormat
    caller: Caller
    on_delta: OnDelta | None = None
    request_id: str | None = None
    notice: Notice | None = None


def ready_to_send(text: str) -> str:
    """The prompt as the user sends it: the optional fill-ins they left empty are dropped."""
    from promptready.enhance import strip_unfilled

    return strip_unfilled(text)


def parse_mode(value: str) -> Mode:
    """``"offline"``/``"ai"`` to a Mode, with an error that lists the choices."""
    try:
        return Mode(value.strip().lower())
    except ValueError:
        raise ConfigError(f"Unknown mode {value!r}; use offline or ai.") from None


def parse_format(value: str) -> OutputFormat:
    """A format name to an OutputFormat, with an error that lists the choices."""
    from promptready.enhance import OutputFormat

    try:
        return OutputFormat(value.strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in OutputFormat)
        raise ConfigError(f"Unknown format {value!r}; use one of {choices}.") from None


class Engine:
    """Enhance text in the configured (or requested) mode and format.

    With a meter, every call is one ledger row written through it (committed before the result
    is returned), charged to the caller's app; without one, nothing is recorded.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        registry: ProviderRegistry | None = None,
        meter: Meter | Callable[[], Meter] | None = None,
        source: str = "cli",
        latency_source: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        self._latency_source = latency_source
        self.settings = settings or Settings()
        self._registry = registry
        # A function opens the meter on first use: the tray appears before SQLite is touched.
        self._meter: Meter | None = None if callable(meter) else meter
        self._open_meter: Callable[[], Meter] | None = meter if callable(meter) else None
        self.source = source

    @property
    def meter(self) -> Meter | None:
        """The meter every call is recorded through (None: nothing is recorded)."""
        if self._meter is None and self._open_meter is not None:
            self._meter, self._open_meter = self._open_meter(), None
        return self._meter

    @meter.setter
    def meter(self, meter: Meter | None) -> None:
        self._meter, self._open_meter = meter, None

    @property
    def registry(self) -> ProviderRegistry:
        """The provider registry, built on first use (keyring and HTTP stay untouched offline)."""
        if self._registry is None:
            from promptready.paths import app_paths
            from promptready.providers.credits import offer_credits, service_url
            from promptready.providers.registry import ProviderRegistry
            from promptready.secrets import SecretStore

            self._registry = ProviderRegistry(
                self.settings.ai,
                SecretStore(),
                latency_source=self._latency_source,
                price_overrides=self.settings.pricing.models,
            )
            offer_credits(self._registry, service_url(self.settings.credits), app_paths().data_dir)
        return self._registry

    async def close(self) -> None:
        """Close the provider registry's HTTP session, if one was opened."""
        if self._registry is not None:
            await self._registry.close()

    def choose(
        self, mode: Mode | str | None, fmt: OutputFormat | str | None
    ) -> tuple[Mode, OutputFormat]:
        """The mode and format to use: the caller's, else the settings'."""
        chosen_mode = parse_mode(mode) if isinstance(mode, str) else mode
        chosen_fmt = parse_format(fmt) if isinstance(fmt, str) else fmt
        return (
            chosen_mode or parse_mode(self.settings.enhance.mode),
            chosen_fmt or parse_format(self.settings.enhance.format),
        )

    def ai_routes(self) -> list[Route]:
        """The models AI mode tries, in order (the enhance model, else the default, then the
        fallbacks); NotConfiguredError when there is none. No network."""
        return self.registry.routes(self.settings.ai.enhance_model or None)

    def fallback_policy(self) -> FallbackPolicy:
        """Retries, the first-byte clock per try and the overall deadline, from settings."""
        from promptready.providers.routing import FallbackPolicy

        ai = self.settings.ai
        return FallbackPolicy(first_byte_s=ai.first_byte_s, deadline_s=ai.deadline_s)

    def caller(self, app: str | None = None) -> Caller:
        """This engine's callers by default: its source, no app."""
        from promptready.ledger.meter import Caller

        return Caller(self.source, app)

    def enhance(
        self, text: str, mode: Mode | str | None = None, fmt: OutputFormat | str | None = None
    ) -> EnhanceResult:
        """Enhance ``text`` from synchronous code (the CLI); see ``enhance_async``."""
        chosen_mode, chosen_fmt = self.choose(mode, fmt)
        if chosen_mode is Mode.OFFLINE:
            result, hold = self._offline_held(text, chosen_fmt, self.caller())
            if hold is not None:
                hold.settle_now()
            return result
        return asyncio.run(self._run_closing(text, chosen_fmt))

    async def enhance_async(
        self,
        text: str,
        mode: Mode | str | None = None,
        fmt: OutputFormat | str | None = None,
        on_delta: OnDelta | None = None,
        *,
        caller: Caller | None = None,
        request_id: str | None = None,
        notice: Notice | None = None,
    ) -> EnhanceResult:
        """Enhance ``text``; AI output is streamed to ``on_delta`` and cancellable by the caller.

        ``caller`` says whose call it is (its app's budget applies); ``notice`` hears, once per
        try, which model is still being waited for. Raises InputError for unusable text,
        NotConfiguredError for AI mode with no provider and BudgetError when the caller's budget
        refuses it; any AI failure after that returns the offline result with
        ``fallback_reason`` set.
        """
        chosen_mode, chosen_fmt = self.choose(mode, fmt)
        caller = caller or self.caller()
        if chosen_mode is Mode.OFFLINE:
            result, hold = self._offline_held(text, chosen_fmt, caller, request_id)
            if hold is not None:
                await hold.settle()  # the writer's thread commits; this loop only waits
            return result
        request = _AIRequest(text, chosen_fmt, caller, on_delta, request_id, notice)
        return await self._ai_recorded(request)

    def _offline_held(
        self, text: str, fmt: OutputFormat, caller: Caller, request_id: str | None = None
    ) -> tuple[EnhanceResult, Hold | None]:
        """The offline result, and the hold its row settles through (None: no meter)."""
        result = self._offline_result(text, fmt)
        if self.meter is None:
            return result, None
        hold = self.meter.hold(caller, request_id=request_id, mode="offline")
        hold.latency_ms = result.timings.total_ms
        hold.prompt_text = text
        return result, hold

    async def _run_closing(self, text: str, fmt: OutputFormat) -> EnhanceResult:
        try:
            return await self._ai_recorded(_AIRequest(text, fmt, self.caller()))
        finally:
            await self.registry.close()

    async def _ai_recorded(self, request: _AIRequest) -> EnhanceResult:
        """AI mode under a meter hold: admitted by the caller's budget, one row when done."""
        from contextlib import nullcontext

        from promptready.enhance.ai import build_messages

        routes = self.ai_routes()
        offline, offline_ms = self._offline_timed(request.text, request.fmt)
        body = {"messages": build_messages(request.text, offline.analysis), "temperature": 0.2}
        hold = None
        if self.meter is not None:
            from promptready.ledger.meter import TokenBound

            # Bytes / 2 bounds the prompt's tokens; a rewrite is about as long as its input.
            size = -(-len(str(body["messages"]).encode()) // 2)
            bound = TokenBound(size, size)
            hold = self.meter.hold(
                request.caller,
                routes,
                bound,
                request_id=request.request_id,
                mode=routes[0].provider.config.ledger_mode,  # a failed call's row says credits too
            )
            hold.prompt_text = request.text
        async with hold if hold is not None else nullcontext():
            result = await self._ai_result(
                request, routes=routes, body=body, offline=offline, offline_ms=offline_ms, hold=hold
            )
            if hold is not None:
                hold.latency_ms = result.timings.total_ms
                await hold.settle()
        return result

    def _offline_timed(self, text: str, fmt: OutputFormat) -> tuple[Enhancement, float]:
        from promptready.enhance import enhance

        started = time.perf_counter()
        offline = enhance(text, fmt)
        return offline, (time.perf_counter() - started) * 1000

    def _offline_result(self, text: str, fmt: OutputFormat) -> EnhanceResult:
        offline, elapsed = self._offline_timed(text, fmt)
        return _result(offline, Mode.OFFLINE, Timings(elapsed, elapsed))

    async def _ai_result(
        self,
        request: _AIRequest,
        *,
        routes: list[Route],
        body: dict[str, Any],
        offline: Enhancement,
        offline_ms: float,
        hold: Hold | None,
    ) -> EnhanceResult:
        from promptready.enhance.ai import clean_output
        from promptready.providers.errors import UpstreamError
        from promptready.providers.openai_compat import StreamDelta, StreamEnd
        from promptready.providers.routing import Attempts, stream_with_fallback

        started = time.perf_counter() - offline_ms / 1000
        attempts = Attempts()
        pieces: list[str] = []
        usage: Usage | None = None
        ttft: float | None = None
        route = routes[0]
        on_delta = request.on_delta
        stream = stream_with_fallback(
            routes, body, policy=self.fallback_policy(), attempts=attempts, notice=request.notice
        )
        try:
            async for current, event in stream:
                route = current
                if isinstance(event, StreamDelta):
                    if ttft is None:
                        ttft = (time.perf_counter() - started) * 1000
                    pieces.append(event.text)
                    if on_delta is not None:
                        on_delta(event.text)
                elif isinstance(event, StreamEnd):
                    usage = event.usage
        except UpstreamError as error:
            if hold is not None:
                hold.status, hold.error_code, hold.hops = "error", "ai_failed", attempts.summary()
            return _result(
                offline,
                Mode.OFFLINE,
                Timings((time.perf_counter() - started) * 1000, offline_ms),
                fallback_reason=f"AI mode failed, so this is the offline result: {error}",
            )
        except asyncio.CancelledError:
            if hold is not None:  # what arrived before the caller gave up is still billed
                hold.answered_by(route)
                hold.usage = _estimate_usage(body, "".join(pieces), route.model)
            raise
        total_ms = (time.perf_counter() - started) * 1000
        raw = "".join(pieces)
        usage = usage or _estimate_usage(body, raw, route.model)
        details = AIDetails(
            provider=route.provider.name,
            model=route.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            tokens_estimated=usage.estimated,
            hops=attempts.summary(),
        )
        if hold is not None:
            hold.answered_by(route)
            hold.usage, hold.ttft_ms, hold.hops = usage, ttft, details.hops
        cleaned = clean_output(raw)
        if cleaned is None:
            return _result(
                offline,
                Mode.OFFLINE,
                Timings(total_ms, offline_ms, ttft),
                ai=details,
                fallback_reason="The model judged this text not to be a prompt; "
                "here is the offline result.",
            )
        from promptready.enhance.ai_check import check_rewrite

        unfaithful = check_rewrite(request.text, cleaned, offline.analysis)
        if unfaithful is not None:
            return _result(
                offline,
                Mode.OFFLINE,
                Timings(total_ms, offline_ms, ttft),
                ai=details,
                fallback_reason=f"The AI answer was not used: {unfaithful}. "
                "Here is the offline result.",
            )
        return EnhanceResult(
            text=cleaned,
            mode=Mode.AI,
            format=offline.format,
            analysis=offline.analysis,
            changes=offline.changes,
            timings=Timings(total_ms, offline_ms, ttft),
            ai=details,
        )


def _estimate_usage(body: dict[str, Any], completion: str, model: str) -> Usage:
    """Count tokens ourselves when the upstream reported none (marked as an estimate)."""
    from promptready import tokens
    from promptready.providers.wire import Usage

    prompt = tokens.count_messages(body["messages"], model)
    answer = tokens.count_text(completion, model)
    return Usage(prompt.tokens, answer.tokens, estimated=True)


def _result(
    offline: Enhancement,
    mode: Mode,
    timings: Timings,
    ai: AIDetails | None = None,
    fallback_reason: str | None = None,
) -> EnhanceResult:
    return EnhanceResult(
        text=offline.text,
        mode=mode,
        format=offline.format,
        analysis=offline.analysis,
        changes=offline.changes,
        timings=timings,
        ai=ai,
        fallback_reason=fallback_reason,
    )


def open_registry() -> tuple[ProviderRegistry, tuple[str, ...]]:
    """A provider registry on the user's settings, plus any problems found in that file."""
    engine, problems = open_engine()
    return engine.registry, problems


def open_engine(source: str = "cli") -> tuple[Engine, tuple[str, ...]]:
    """An Engine on the user's settings file that records every call through this process's
    meter, plus any problems found in the settings file."""
    from promptready.ledger.meter import process_meter
    from promptready.paths import app_paths
    from promptready.settings import load_settings

    paths = app_paths()
    loaded = load_settings(paths.settings_file)

    def meter() -> Meter:
        return process_meter(paths.ledger_file, loaded.settings)

    def latencies() -> dict[str, float]:
        return meter().latencies()

    engine = Engine(loaded.settings, meter=meter, source=source, latency_source=latencies)
    return engine, loaded.problems
