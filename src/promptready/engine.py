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
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from promptready.errors import ConfigError
from promptready.settings import Settings

if TYPE_CHECKING:
    from promptready.enhance import Analysis, Change, Enhancement, OutputFormat
    from promptready.ledger.records import UsageRecord
    from promptready.providers.openai_compat import Usage
    from promptready.providers.registry import ProviderRegistry
    from promptready.providers.routing import Route


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
Recorder = Callable[["UsageRecord"], None]


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
    """Enhance text in the configured (or requested) mode and format."""

    def __init__(
        self,
        settings: Settings | None = None,
        registry: ProviderRegistry | None = None,
        recorder: Recorder | None = None,
        source: str = "cli",
        latency_source: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        self._latency_source = latency_source
        self.settings = settings or Settings()
        self._registry = registry
        self._recorder = recorder
        self.source = source

    @property
    def registry(self) -> ProviderRegistry:
        """The provider registry, built on first use (keyring and HTTP stay untouched offline)."""
        if self._registry is None:
            from promptready.providers.registry import ProviderRegistry
            from promptready.secrets import SecretStore

            self._registry = ProviderRegistry(
                self.settings.ai,
                SecretStore(),
                latency_source=self._latency_source,
                price_overrides=self.settings.pricing.models,
            )
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

    def enhance(
        self, text: str, mode: Mode | str | None = None, fmt: OutputFormat | str | None = None
    ) -> EnhanceResult:
        """Enhance ``text`` from synchronous code (the CLI); see ``enhance_async``."""
        chosen_mode, chosen_fmt = self.choose(mode, fmt)
        if chosen_mode is Mode.OFFLINE:
            return self._record(text, self._offline_result(text, chosen_fmt))
        return self._record(text, asyncio.run(self._run_closing(text, chosen_fmt, None)))

    async def enhance_async(
        self,
        text: str,
        mode: Mode | str | None = None,
        fmt: OutputFormat | str | None = None,
        on_delta: OnDelta | None = None,
    ) -> EnhanceResult:
        """Enhance ``text``; AI output is streamed to ``on_delta`` and cancellable by the caller.

        Raises InputError for unusable text and NotConfiguredError for AI mode with no provider;
        any AI failure after that returns the offline result with ``fallback_reason`` set.
        """
        chosen_mode, chosen_fmt = self.choose(mode, fmt)
        if chosen_mode is Mode.OFFLINE:
            return self._record(text, self._offline_result(text, chosen_fmt))
        started = time.perf_counter()
        try:
            result = await self._ai_result(text, chosen_fmt, on_delta)
        except asyncio.CancelledError:
            self._record_cancelled((time.perf_counter() - started) * 1000)
            raise
        return self._record(text, result)

    def _record(self, text: str, result: EnhanceResult) -> EnhanceResult:
        """One ledger row for the call (when the engine has a recorder)."""
        if self._recorder is None:
            return result
        from promptready.ledger.records import UsageRecord

        ai = result.ai
        attempted_ai = ai is not None or result.fallback_reason is not None
        self._recorder(
            UsageRecord(
                source=self.source,
                mode="byok" if attempted_ai else "offline",
                status="error" if result.fallback_reason and ai is None else "ok",
                provider=ai.provider if ai else None,
                model=ai.model if ai else None,
                prompt_tokens=(ai.prompt_tokens or 0) if ai else 0,
                completion_tokens=(ai.completion_tokens or 0) if ai else 0,
                tokens_estimated=ai.tokens_estimated if ai else False,
                cost_usd=self._cost(ai),
                latency_ms=result.timings.total_ms,
                ttft_ms=result.timings.ttft_ms,
                error_code="ai_failed" if result.fallback_reason and ai is None else None,
                hops=ai.hops if ai else None,
                prompt_text=text,
            )
        )
        return result

    def _record_cancelled(self, elapsed_ms: float) -> None:
        if self._recorder is not None:
            from promptready.ledger.records import UsageRecord

            self._recorder(
                UsageRecord(
                    source=self.source, mode="byok", status="cancelled", latency_ms=elapsed_ms
                )
            )

    def _cost(self, ai: AIDetails | None) -> Decimal:
        if ai is None or ai.prompt_tokens is None:
            return Decimal(0)
        from promptready.pricing import cost_usd, load_rate_card

        card = load_rate_card().with_overrides(self.settings.pricing.models)
        price = card.price(ai.model, ai.provider)
        if price is None:
            return Decimal(0)  # unpriced model: tokens are still recorded
        return cost_usd(price, ai.prompt_tokens, ai.completion_tokens or 0)

    async def _run_closing(
        self, text: str, fmt: OutputFormat, on_delta: OnDelta | None
    ) -> EnhanceResult:
        try:
            return await self._ai_result(text, fmt, on_delta)
        finally:
            await self.registry.close()

    def _offline_result(self, text: str, fmt: OutputFormat) -> EnhanceResult:
        from promptready.enhance import enhance

        started = time.perf_counter()
        offline = enhance(text, fmt)
        elapsed = (time.perf_counter() - started) * 1000
        return _result(offline, Mode.OFFLINE, Timings(elapsed, elapsed))

    async def _ai_result(
        self, text: str, fmt: OutputFormat, on_delta: OnDelta | None
    ) -> EnhanceResult:
        from promptready.enhance import enhance
        from promptready.enhance.ai import build_messages, clean_output
        from promptready.providers.errors import UpstreamError
        from promptready.providers.openai_compat import StreamDelta, StreamEnd
        from promptready.providers.routing import Attempts, stream_with_fallback

        started = time.perf_counter()
        offline = enhance(text, fmt)
        offline_ms = (time.perf_counter() - started) * 1000
        routes = self.ai_routes()
        body = {"messages": build_messages(text, offline.analysis), "temperature": 0.2}
        attempts = Attempts()
        pieces: list[str] = []
        usage: Usage | None = None
        ttft: float | None = None
        route = routes[0]
        try:
            async for current, event in stream_with_fallback(routes, body, attempts=attempts):
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
            return _result(
                offline,
                Mode.OFFLINE,
                Timings((time.perf_counter() - started) * 1000, offline_ms),
                fallback_reason=f"AI mode failed, so this is the offline result: {error}",
            )
        total_ms = (time.perf_counter() - started) * 1000
        raw = "".join(pieces)
        usage = usage or _estimate_usage(body, raw, route.model)
        details = AIDetails(
            provider=route.provider.name,
            model=route.model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            tokens_estimated=usage.estimated if usage else True,
            hops=attempts.summary(),
        )
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

        unfaithful = check_rewrite(text, cleaned, offline.analysis)
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
            format=fmt,
            analysis=offline.analysis,
            changes=offline.changes,
            timings=Timings(total_ms, offline_ms, ttft),
            ai=details,
        )


def _estimate_usage(body: dict[str, Any], completion: str, model: str) -> Usage:
    """Count tokens ourselves when the upstream reported none (marked as an estimate)."""
    from promptready import tokens
    from promptready.providers.openai_compat import Usage

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
    """An Engine on the user's settings file that records every call in the ledger, plus any
    problems found in the settings file."""
    from promptready.paths import app_paths
    from promptready.settings import load_settings

    paths = app_paths()
    loaded = load_settings(paths.settings_file)
    ledger_box: list[Any] = []

    def ledger() -> Any:
        # Opened on first use only: --help and offline start-up never touch SQLite.
        if not ledger_box:
            from promptready.ledger.store import Ledger

            ledger_box.append(Ledger(paths.ledger_file, loaded.settings.privacy.store_prompts))
        return ledger_box[0]

    def record(row: UsageRecord) -> None:
        ledger().write([row])

    def latencies() -> dict[str, float]:
        result: dict[str, float] = ledger().latencies()
        return result

    engine = Engine(loaded.settings, recorder=record, source=source, latency_source=latencies)
    return engine, loaded.problems
