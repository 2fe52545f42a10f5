"""The hosted proxy is a server: importing its app loads none of the desktop app's packages
(Qt, the windows, the local gateway, the local ledger)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
DESKTOP_ONLY = (
    "PySide6",
    "shiboken6",
    "promptready.ui",
    "promptready.gateway",
    "promptready.ledger",
)
_LIST_MODULES = "import sys, {module}; print('\\n'.join(sys.modules))"


def loaded_by(module: str) -> set[str]:
    """Every module in ``sys.modules`` after a fresh interpreter imports ``module``."""
    result = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES.format(module=module)],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(result.stdout.split())


def desktop_only(modules: set[str]) -> set[str]:
    """The modules of ``modules`` that belong to the desktop app (a package or one inside it)."""
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in DESKTOP_ONLY)}


def test_importing_the_cloud_app_loads_no_desktop_package() -> None:
    loaded = loaded_by("promptready.cloud.app")
    assert "promptready.cloud.app" in loaded  # it did import what it was asked to
    assert desktop_only(loaded) == set()


def test_the_check_would_see_a_desktop_package() -> None:
    assert desktop_only(loaded_by("promptready.ledger")) >= {"promptready.ledger"}
