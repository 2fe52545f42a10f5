"""What every window works through: settings, the engine, the ledger, history, presets and the
local API. Heavy parts (SQLite, the gateway, provider HTTP) open on first use."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

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
    from promptready.secrets import ApiKey

RELOAD_DELAY_MS = 150  # an editor's save is several file events; reload once after the last


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
        self._engine: Engine | None = None  # built on first use: the tray shows before it
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload_settings)
        self._watcher: QFileSystemWatcher | None = None

    @classmethod
    def load(cls) -> DesktopContext:
        """A context on the user's settings file."""
        paths = app_paths()
        loaded = load_settings(paths.settings_file)
        return cls(paths, loaded.settings, loaded.problems)

    @property
    def engine(self) -> Engine:
        """The engine on the current settings and keys."""
        if self._engine is None:
            self._engine = self._new_engine()
        return self._engine

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
        save_settings(settings, self.paths.settings_file)
        self._apply(settings)

    def watch_settings(self) -> None:
        """Apply changes made to settings.toml outside the app (``promptready config set``,
        ``keys set``, an editor) while it runs."""
        if self._watcher is not None:
            return
        folder = self.paths.settings_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        # Writers replace the file (a new inode), so the folder is watched, not only the file.
        self._watcher = QFileSystemWatcher([str(folder)], self)
        self._watcher.directoryChanged.connect(lambda _: self._reload_timer.start())
        self._watcher.fileChanged.connect(lambda _: self._reload_timer.start())
        if self.paths.settings_file.exists():
            self._watcher.addPath(str(self.paths.settings_file))

    def unwatch_settings(self) -> None:
        """Stop following settings.toml; a reload still pending is dropped."""
        self._reload_timer.stop()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.removePaths([*watcher.files(), *watcher.directories()])
            watcher.deleteLater()

    def reload_settings(self) -> bool:
        """Read settings.toml again; apply it (True) when it differs from what the app holds."""
        loaded = load_settings(self.paths.settings_file)
        if self._watcher is not None and self.paths.settings_file.exists():
            self._watcher.addPath(str(self.paths.settings_file))  # re-added after a replace
        self.problems = loaded.problems
        if loaded.settings == self.settings:
            return False
        self._apply(loaded.settings)
        return True

    def _apply(self, settings: Settings) -> None:
        old, self.settings = self.settings, settings
        if self._ledger is not None:
            self._ledger.store_prompts = settings.privacy.store_prompts
        if old.desktop.start_at_login != settings.desktop.start_at_login:
            from promptready import autostart

            autostart.set_enabled(settings.desktop.start_at_login)
        self.refresh_engine()

    def refresh_engine(self) -> None:
        """A new engine on the current settings and keys (the old one is closed at quit)."""
        if self._engine is not None:
            self._retired.append(self._engine)
        self._engine = None  # the next use builds it on the settings and keys of then
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

    async def test_provider(self, name: str, base_url: str, key: ApiKey | None) -> KeyCheck:
        """The verdict on a custom provider not saved yet (or on its stored key when ``key`` is
        None), with the models it offers."""
        from promptready.providers.openai_compat import OpenAICompatProvider
        from promptready.providers.presets import custom_provider
        from promptready.providers.validate import check_key
        from promptready.secrets import SecretStore

        engine = Engine(self.settings)
        try:
            if key is None:
                key = SecretStore().get_key(name)
            provider = OpenAICompatProvider(
                custom_provider(name, base_url), key, engine.registry.http
            )
            return await check_key(provider)
        finally:
            await engine.close()

    async def aclose(self) -> None:
        """Stop watching settings, stop the local API (requests in flight finish), close HTTP
        sessions and files."""
        self.unwatch_settings()
        if self._local_api is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._local_api.stop)
        engines, self._engine = [*self._retired, self._engine], None
        self._retired.clear()
        for engine in engines:
            if engine is not None:
                await engine.close()
        self.close_files()

    def close_files(self) -> None:
        """Close the ledger and history files (they reopen on next use)."""
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        if self._history is not None:
            self._history.close()
            self._history = None
