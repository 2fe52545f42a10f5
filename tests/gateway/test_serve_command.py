"""``promptready serve`` as a user runs it: prints its URL once ready, binds loopback only,
refuses other addresses, and finishes in-flight requests when stopped."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promptready.cli import main
from tests.fakes.client import MESSAGES, InFlight
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


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    """``promptready serve ARGS`` to its end (it is expected to refuse to start)."""
    return subprocess.run(
        [sys.executable, "-m", "promptready", "serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_non_loopback_bind_is_refused_without_allow_remote(configured: str) -> None:
    done = run_serve("--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 1
    assert "Refusing to listen on 0.0.0.0" in done.stderr
    assert "--allow-remote" in done.stderr


def test_port_in_use_is_a_clear_error(server: tuple[subprocess.Popen[str], str]) -> None:
    _, url = server
    port = url.rsplit(":", 1)[1]
    done = run_serve("--port", port)
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


def test_a_second_serve_on_the_same_data_folder_refuses_naming_the_first(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = server
    port = url.rsplit(":", 1)[1]
    done = run_serve("--port", "0")
    assert done.returncode == 1
    assert "already running for this data folder" in done.stderr
    assert f"process {proc.pid} on port {port}" in done.stderr


async def _read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response's head and body, framed by Content-Length or chunked (a stream)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lowered = head.lower()
    if b"content-length: " in lowered:
        length = int(lowered.split(b"content-length: ")[1].split(b"\r\n")[0])
        return head, await reader.readexactly(length)
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
        body += (await reader.readexactly(size + 2))[:-2]
    await reader.readuntil(b"\r\n")  # the empty trailer
    return head, body


def _chat_request(port: int, token: str, stream: bool) -> bytes:
    """One chat call as raw HTTP/1.1 (cheap enough to keep up with the gateway)."""
    chat = {"model": "fake/gpt-4o-mini", "messages": MESSAGES, "stream": stream}
    body = json.dumps(chat).encode()
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _answered(head: bytes, body: bytes, stream: bool) -> bool:
    """A 200, and for a stream all of it, to its [DONE]."""
    return head.startswith(b"HTTP/1.1 200") and (not stream or body.endswith(b"data: [DONE]\n\n"))


async def _hammer(
    port: int, token: str, total: int, workers: int, stream: bool, answered: list[int]
) -> None:
    """``total`` chat calls over ``workers`` keep-alive connections; counts the ones answered
    (a stream: in full) in ``answered`` until the server dies."""
    request = _chat_request(port, token, stream)
    left = [total]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left[0] > 0:
                left[0] -= 1
                writer.write(request)
                if _answered(*await _read_answer(reader), stream):
                    answered[0] += 1
        except (OSError, asyncio.IncompleteReadError):
            return  # the server was killed (mid-answer, perhaps)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(workers)))


async def _load_then_kill(pid: int, port: int, token: str, kill_at: int, stream: bool) -> int:
    """2,000 calls at concurrency 16; kill -9 the server once ``kill_at`` were answered.
    Returns how many were answered (streams: in full)."""
    answered = [0]
    running = asyncio.ensure_future(_hammer(port, token, 2000, 16, stream, answered))
    while answered[0] < kill_at and not running.done():
        await asyncio.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    await running
    return answered[0]


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_kill_9_during_a_load_loses_no_answered_requests_row(
    configured: str, isolated_home: Path, stream: bool
) -> None:
    ledger_file = isolated_home / "promptready" / "data" / "ledger.sqlite3"
    rows_before = 0
    for trial in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptready", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip().rsplit(":", 1)[1])
        kill_at = random.Random(trial).randint(200, 1500)
        answered = asyncio.run(_load_then_kill(proc.pid, port, configured, kill_at, stream))
        proc.wait(timeout=10)
        proc.stdout.close()
        with sqlite3.connect(ledger_file) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = conn.execute("SELECT COUNT(*) FROM calls WHERE status = 'ok'").fetchone()[0]
        assert answered >= kill_at
        assert rows - rows_before >= answered, f"trial {trial}"
        rows_before = rows
