"""The test-database helpers: names carry the owning pid, and only dead sessions' databases
count as stale (a running session's are left alone)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cloud.databases import new_name, stale


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_new_name_carries_this_process_id() -> None:
    assert new_name().startswith(f"pr_test_{os.getpid()}_")


def test_only_databases_of_dead_sessions_are_stale() -> None:
    dead = f"pr_test_{dead_pid()}_0123abcd"
    names = [dead, new_name(), "pr_test_0123456789abcdef", "postgres", "template1"]
    assert stale(names) == [dead]
