"""Where PromptReady keeps its files: one place, one override.

``PROMPTREADY_HOME`` moves everything (config, data, ledger, cache, logs) under one root;
tests always set it. Otherwise the platform's usual locations are used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "PromptReady"
HOME_ENV = "PROMPTREADY_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The directories the app writes to; none is created until asked for."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def ledger_file(self) -> Path:
        return self.data_dir / "ledger.sqlite3"

    def ensure(self, directory: Path) -> Path:
        """Create ``directory`` (private to the user) if missing and return it."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return directory


def app_paths() -> AppPaths:
    """Resolve the app's directories from ``PROMPTREADY_HOME`` or platformdirs."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        root = Path(override).expanduser().resolve()
        return AppPaths(
            config_dir=root / "config",
            data_dir=root / "data",
            cache_dir=root / "cache",
            log_dir=root / "logs",
        )
    import platformdirs  # imported here: only needed without the override

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return AppPaths(
        config_dir=Path(dirs.user_config_dir),
        data_dir=Path(dirs.user_data_dir),
        cache_dir=Path(dirs.user_cache_dir),
        log_dir=Path(dirs.user_log_dir),
    )
