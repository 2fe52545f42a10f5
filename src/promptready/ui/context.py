"""What every window works through: settings, the engine, the ledger, history, presets and the
local API. Heavy parts (SQLite, the gateway, provider HTTP) open on first use."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from promptready.engine import Engine, Mode, parse_mode
from promptready.paths import AppPaths, app_paths
from promptready.presets import PresetStore
from promptready.settings import Settings, load_settings, save_settings

if TYPE_CHECKING:
    from promptready.estimate import Estimate
    from promptready.history import History
    from promptready.ledger.meter import Meter
    from promptready.ledger.store import Ledger
    from promptready.local_api import LocalApi
    from promptready.providers.validate import KeyCheck


@dataclasses.dataclass(frozen=True)
class AiTarget:
    """The model AI-mode enhancements go to, or why there is none."""

    provider: str = ""
    model: str = ""
    problem: str | None = None

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"


class DesktopContext(QObject):
    """The desktop app's services; windows listen to ``settings_changed``."""

    settings_changed = Signal()

    def __init__(self, paths: AppPaths, settings: Settings, problems: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.paths = paths
        self.settings = settings
        self.problems = problems
        self.presets = PresetStore(paths.config_dir / "presets.toml")
        self._ledger: Ledger | None = None
        self._history: History | None = None
        self._local_api: LocalApi | None = None
        self._retired: list[Engine] = []
        self.engine = self._new_engine()

    @classmethod
    def load(cls) -> DesktopContext:
        """A context on the user's settings file."""
        paths = app_paths()
        loaded = load_settings(paths.settings_file)
        return cls(paths, loaded.settings, loaded.problems)

    def _new_engine(self) -> Engine:
        from promptready.ledger.meter import process_meter

        def meter() -> Meter:
            return process_meter(self.paths.ledger_file, self.settings)

        return Engine(self.settings, meter=meter, source="popup", latency_source=self._latencies)

    # Files, opened on first use so the tray appears before SQLite is touched.

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from promptready.ledger.store import Ledger

            self._ledger = Ledger(self.paths.ledger_file, self.settings.privacy.store_prompts)
        return self._ledger

    @property
    def history(self) -> History:
        if self._history is None:
            from promptready.history import History

            self._history = History(self.paths.data_dir / "history.sqlite3")
        return self._history

    @property
    def local_api(self) -> LocalApi:
        if self._local_api is None:
            from promptready.local_api import LocalApi

            self._local_api = LocalApi(self.paths)
        return self._local_api

    def _latencies(self) -> dict[str, float]:
        return self.ledger.latencies()

    # Mode and settings.

    @property
    def offline_only(self) -> bool:
        return self.settings.desktop.offline_only

    def mode(self) -> Mode:
        """The mode enhancements run in now (always offline for an offline-only user)."""
        return Mode.OFFLINE if self.offline_only else parse_mode(self.settings.enhance.mode)

    def set_mode(self, mode: Mode) -> None:
        """Switch the default mode and remember it."""
        enhance = dataclasses.replace(self.settings.enhance, mode=mode.value)
        self.save_settings(dataclasses.replace(self.settings, enhance=enhance))

    def save_settings(self, settings: Settings) -> None:
        """Write settings and apply them: a new engine, the ledger's privacy, login start."""
        old, self.settings = self.settings, settings
        save_settings(settings, self.paths.settings_file)
        if self._ledger is not None:
            self._ledger.store_prompts = settings.privacy.store_prompts
        if old.desktop.start_at_login != settings.desktop.start_at_login:
            from promptready import autostart

            autostart.set_enabled(settings.desktop.start_at_login)
        self.refresh_engine()

    def refresh_engine(self) -> None:
        """A new engine on the current settings and keys (the old one is closed at quit)."""
        self._retired.append(self.engine)
        self.engine = self._new_engine()
        self.settings_changed.emit()

    def ai_target(self) -> AiTarget:
        """Which model AI mode would use now, without touching the network."""
        from promptready.errors import PromptReadyError

        try:
            route = self.engine.ai_routes()[0]
        except PromptReadyError as exc:
            return AiTarget(problem=str(exc))
        return AiTarget(route.provider.name, route.model)

    def estimate(self, text: str, target: AiTarget | None) -> Estimate:
        """Tokens of ``text``, and the cost of enhancing it with ``target`` (None: offline).

        Thread-safe: the popup counts off the UI thread, as the first count loads tiktoken.
        """
        from promptready.estimate import count_only, estimate_enhancement
        from promptready.pricing import load_rate_card

        if target is None or target.problem is not None:
            return count_only(text)
        card = load_rate_card().with_overrides(self.settings.pricing.models)
        return estimate_enhancement(text, target.provider, target.model, card)

    async def test_key(self, provider: str) -> KeyCheck:
        """The verdict on the stored key for ``provider`` (one cheap call to list models)."""
        from promptready.providers.validate import check_stored_key

        engine = Engine(self.settings)
        try:
            return await check_stored_key(engine.registry, provider)
        finally:
            await engine.close()

    async def aclose(self) -> None:
        """Stop the local API (requests in flight finish), close HTTP sessions and files."""
        if self._local_api is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._local_api.stop)
        for engine in [*self._retired, self.engine]:
            await engine.close()
        self._retired.clear()
        self.close_files()

    def close_files(self) -> None:
        """Close the ledger and history files (they reopen on next use)."""
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        if self._history is not None:
            self._history.close()
            self._history = None
