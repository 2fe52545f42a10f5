"""The gateway serves with uvicorn's server and protocol, without uvicorn's command line."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import promptready.gateway.server
import uvicorn
hasattr(uvicorn, "__wrapped__")  # as inspect.unwrap asks, from PySide6's import hook
print(sorted(m for m in ("click", "multiprocessing", "uvicorn.main") if m in sys.modules))
print(callable(uvicorn.run), uvicorn.Config is promptready.gateway.server.Config)
"""


def probe() -> list[str]:
    command = [sys.executable, "-c", PROBE]
    out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.splitlines()


def test_serving_does_not_load_uvicorns_command_line() -> None:
    assert probe()[0] == "[]"


def test_other_code_still_finds_all_of_uvicorn() -> None:
    assert probe()[1] == "True True"
