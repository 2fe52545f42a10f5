"""The proxy's JSON log lines are written off the event loop by a background thread: every
line queued before the process exits still reaches stderr, with the exception's type and only
the allowed fields."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import promptready

SRC = Path(promptready.__file__).resolve().parent.parent

PROGRAM = """
from promptready.cloud import logs
logs.configure()
for n in range(500):
    logs.get().info("request", extra=logs.fields(status=200, latency_ms=n, token="sk-secret"))
try:
    raise KeyError("a prompt")
except KeyError:
    logs.get().error("settle failed", exc_info=True)
"""


def test_queued_lines_are_all_written_by_exit_with_only_allowed_fields() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert len(lines) == 501
    assert [line["latency_ms"] for line in lines[:500]] == list(range(500))
    assert "token" not in lines[0] and "sk-secret" not in done.stderr
    assert lines[-1]["exception"] == "KeyError" and "a prompt" not in done.stderr
