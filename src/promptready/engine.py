"""The one service object: the popup, the CLI and the gateway all enhance text through ``Engine``.

It owns the choice of mode and format, times the work, and (once AI mode lands) routes to a
provider. Adapters never talk to the enhancer, HTTP, SQL or the keyring directly.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol

from promptready.enhance import Analysis, Change, Enhancement, OutputFormat, enhance
from promptready.errors import ConfigError, NotConfiguredError
from promptready.settings import Settings


class Mode(StrEnum):
    OFFLINE = "offline"
    AI = "ai"


@dataclass(frozen=True)
class Timings:
    """Where the time went, in milliseconds."""

    total_ms: float
    offline_ms: float


@dataclass(frozen=True)
class EnhanceResult:
    """An enhanced prompt as every caller receives it."""

    text: str
    mode: Mode
    format: OutputFormat
    analysis: Analysis
    changes: tuple[Change, ...]
    timings: Timings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the shape of ``promptready enhance --json``."""
        return asdict(self)


class AIEnhancer(Protocol):
    """What AI mode plugs in: rewrite ``text`` given the offline result as a hint."""

    def rewrite(self, text: str, offline: Enhancement) -> str: ...


AI_SETUP_HINT = (
    "AI mode needs a provider: add your key with `promptready keys set openai` "
    "(or another provider), or use --mode offline."
)


def parse_mode(value: str) -> Mode:
    """``"offline"``/``"ai"`` to a Mode, with an error that lists the choices."""
    try:
        return Mode(value.strip().lower())
    except ValueError:
        raise ConfigError(f"Unknown mode {value!r}; use offline or ai.") from None


def parse_format(value: str) -> OutputFormat:
    """A format name to an OutputFormat, with an error that lists the choices."""
    try:
        return OutputFormat(value.strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in OutputFormat)
        raise ConfigError(f"Unknown format {value!r}; use one of {choices}.") from None


class Engine:
    """Enhance text in the configured (or requested) mode and format."""

    def __init__(self, settings: Settings | None = None, ai: AIEnhancer | None = None) -> None:
        self.settings = settings or Settings()
        self._ai = ai

    def enhance(
        self, text: str, mode: Mode | str | None = None, fmt: OutputFormat | str | None = None
    ) -> EnhanceResult:
        """Enhance ``text``; InputError for unusable text, NotConfiguredError for AI unset."""
        chosen_mode = parse_mode(mode) if isinstance(mode, str) else mode
        chosen_mode = chosen_mode or parse_mode(self.settings.enhance.mode)
        chosen_fmt = parse_format(fmt) if isinstance(fmt, str) else fmt
        chosen_fmt = chosen_fmt or parse_format(self.settings.enhance.format)
        if chosen_mode is Mode.AI and self._ai is None:
            raise NotConfiguredError(AI_SETUP_HINT)

        started = time.perf_counter()
        offline = enhance(text, chosen_fmt)
        offline_done = time.perf_counter()
        output = offline.text
        if chosen_mode is Mode.AI and self._ai is not None:
            output = self._ai.rewrite(text, offline)
        finished = time.perf_counter()

        return EnhanceResult(
            text=output,
            mode=chosen_mode,
            format=chosen_fmt,
            analysis=offline.analysis,
            changes=offline.changes,
            timings=Timings(
                total_ms=(finished - started) * 1000,
                offline_ms=(offline_done - started) * 1000,
            ),
        )


def open_engine() -> tuple[Engine, tuple[str, ...]]:
    """An Engine on the user's settings file, plus any problems found in that file."""
    from promptready.paths import app_paths
    from promptready.settings import load_settings

    loaded = load_settings(app_paths().settings_file)
    return Engine(loaded.settings), loaded.problems
