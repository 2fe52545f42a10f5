"""Locate and read the data files shipped in ``resources/``.

The same lookup serves an editable install (the repo's top-level ``resources/``), a wheel
(``promptready/resources`` inside the package) and a PyInstaller bundle (``sys._MEIPASS``).
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

from promptready.errors import ResourceError

_PACKAGE_DIR = Path(__file__).resolve().parent


def _candidates() -> list[Path]:
    found = [_PACKAGE_DIR / "resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        found.append(Path(bundle) / "promptready" / "resources")
    found.append(_PACKAGE_DIR.parent.parent / "resources")  # src/promptready -> repo root
    return found


@cache
def resources_dir() -> Path:
    """The directory holding the app's resources."""
    for candidate in _candidates():
        if (candidate / "README.md").is_file():
            return candidate
    searched = ", ".join(str(c) for c in _candidates())
    raise ResourceError(
        f"PromptReady's resource files are missing (looked in {searched}); reinstall the app."
    )


def resource_path(relative: str) -> Path:
    """Path of one resource file, e.g. ``"enhance/lexicon.toml"``."""
    path = resources_dir() / relative
    if not path.is_file():
        raise ResourceError(f"The resource file {relative!r} is missing; reinstall the app.")
    return path


def read_text(relative: str) -> str:
    """Text of one resource file (UTF-8)."""
    return resource_path(relative).read_text(encoding="utf-8")


def read_toml(relative: str) -> dict[str, Any]:
    """Parsed TOML of one resource file; a broken file is a clear ResourceError."""
    import tomllib  # here: the tray icon's files are found before any TOML is read

    try:
        return tomllib.loads(read_text(relative))
    except tomllib.TOMLDecodeError as exc:
        raise ResourceError(
            f"The resource file {relative!r} is not valid TOML ({exc}); reinstall the app."
        ) from exc
