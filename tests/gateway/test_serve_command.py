"""``promptready serve`` as a user runs it: prints its URL once ready, binds loopback only,
refuses other addresses, and finishes in-flight requests when stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promptready.cli import main
from tests.fakes.client import InFlight
from tests.fakes.upstream import FakeUpstream, Script


@pytest.fixture
def configured(upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch) -> str:
    """A custom provider pointing at the fake upstream, and an app token."""
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("sk-serve-test-0123456789\n"))
    assert main(["keys", "set", "fake", "--base-url", upstream.base_url]) == 0
    token_out = subprocess.run(
        [sys.executable, "-m", "promptready", "tokens", "create", "cli"],
        capture_output=True,
        text=True,
        check=True,
    )
    return token_out.stdout.strip().splitlines()[-1]


@pytest.fixture
def server(configured: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptready", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), line + proc.stderr.read()
    yield proc, line.removeprefix("listening on ")
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)  # reaps the process and closes its pipes


def test_serve_prints_its_url_and_answers(server: tuple[subprocess.Popen[str], str]) -> None:
    _, url = server
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_in_flight_request_finishes_on_sigterm(
    server: tuple[subprocess.Popen[str], str], upstream: FakeUpstream, configured: str
) -> None:
    proc, url = server
    upstream.script(Script(hang_s=1.0))
    call = InFlight(url, configured, upstream)
    os.kill(proc.pid, signal.SIGTERM)
    assert call.answer().status_code == 200
    # uvicorn re-raises the signal once it has drained, so the exit status says "terminated".
    assert proc.wait(timeout=10) in (0, -signal.SIGTERM)


def test_non_loopback_bind_is_refused_without_allow_remote(configured: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "promptready", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "Refusing to listen on 0.0.0.0" in done.stderr
    assert "--allow-remote" in done.stderr


def test_port_in_use_is_a_clear_error(server: tuple[subprocess.Popen[str], str]) -> None:
    _, url = server
    port = url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "promptready", "serve", "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert f"Could not listen on 127.0.0.1:{port}" in done.stderr


def test_tokens_create_prints_the_token_alone_on_the_last_line(isolated_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "promptready", "tokens", "create", "editor", "--rpm", "30"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("pr-") and " " not in token
    listing = subprocess.run(
        [sys.executable, "-m", "promptready", "tokens", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "editor" in listing and "30 rpm" in listing and token not in listing
