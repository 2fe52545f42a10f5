"""Where PromptReady keeps its files: one place, one override.

``PROMPTREADY_HOME`` moves everything (config, data, ledger, cache, logs) under one root;
tests always set it. Otherwise the platform's usual locations are used.

Everything PromptReady writes holds prompts, usage or tokens, so it is private to the user:
folders 0700 and files 0600, created with those modes (``mkdir``/``os.open`` modes, never a
chmod after the file exists). Every writer goes through :func:`private_dir`,
:func:`private_file` or :func:`write_private`.
"""

from __future__ import annotations

import contextlib
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

    @property
    def crash_log(self) -> Path:
        return self.log_dir / "crash.log"

    def ensure(self, directory: Path) -> Path:
        """Create ``directory`` (private to the user) if missing and return it."""
        return private_dir(directory)

    def private_roots(self) -> tuple[Path, ...]:
        """The folders whose every file and folder must be private (``--self-test`` checks)."""
        return (self.config_dir, self.data_dir, self.cache_dir, self.log_dir)


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# What SQLite creates beside a database; it gives them the database file's own mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
_POSIX = os.name == "posix"


def private_dir(directory: Path) -> Path:
    """Create ``directory`` and every missing parent as 0700 (``mkdir(parents=True)`` would make
    the parents 0755); return it."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        # Made meanwhile by another process: it made it the same way.
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR_MODE)
    return directory


def private_file(path: Path) -> Path:
    """Create ``path`` empty and 0600 if missing (in a 0700 folder); return it.

    Call before handing the path to a library that would create it with its own mode: SQLite
    then opens an existing 0600 file, and its -wal/-shm files copy that mode. A file left 0644
    by an older version is narrowed to 0600, with its SQLite companions.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    try:
        if _POSIX and os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # a file from before files were private
            for suffix in SQLITE_COMPANIONS:
                companion = path.with_name(path.name + suffix)
                if companion.exists():
                    companion.chmod(PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return path


def open_private_append(path: Path) -> int:
    """A descriptor appending to ``path``, created 0600 if missing (in a 0700 folder)."""
    private_dir(path.parent)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a crash never leaves half a file); the new file
    is 0600 from its first byte."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # O_EXCL below: a leftover must not lend us its mode
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


def too_open(root: Path) -> list[Path]:
    """Folders and files under ``root`` (itself included) that others may read; [] on Windows."""
    if not _POSIX or not root.exists():
        return []
    found = [root] if root.stat().st_mode & 0o077 else []
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            continue
        want = PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE
        if path.stat().st_mode & 0o777 & ~want:
            found.append(path)
    return found


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
