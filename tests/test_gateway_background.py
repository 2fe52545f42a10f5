"""The gateway in a background thread: starts on a free port, answers, stops after draining."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from promptready.engine import Engine
from promptready.errors import ConfigError
from promptready.gateway.background import BackgroundGateway
from promptready.ledger.store import Ledger
from promptready.paths import app_paths
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import AISettings, Settings
from tests.fakes.client import InFlight
from tests.fakes.upstream import FakeUpstream, Script


def test_start_returns_a_url_that_answers_health() -> None:
    gateway = BackgroundGateway(0, Engine(source="gateway"))
    url = gateway.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/health").json()["status"] == "ok"
    finally:
        gateway.stop()
    assert not gateway.running and gateway.url is None


def test_a_port_in_use_is_a_clear_error() -> None:
    first = BackgroundGateway(0, Engine(source="gateway"))
    url = first.start()
    try:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(ConfigError, match=f"Could not listen on 127.0.0.1:{port}"):
            BackgroundGateway(port, Engine(source="gateway")).start()
    finally:
        first.stop()


def test_stop_lets_a_request_in_flight_finish_and_flushes_the_ledger(
    upstream: FakeUpstream, isolated_home: Path
) -> None:
    SecretStore().set_key("fake", ApiKey("sk-background-test-0123456789"))
    ai = AISettings(provider="fake", custom_providers={"fake": upstream.base_url})
    gateway = BackgroundGateway(0, Engine(Settings(ai=ai), source="gateway"))
    url = gateway.start()
    from promptready.local_api import LocalApi

    _, token = LocalApi().create("bench")
    upstream.script(Script(hang_s=1.0))
    call = InFlight(url, token, upstream)
    gateway.stop()
    assert call.answer().status_code == 200
    ledger = Ledger(app_paths().ledger_file)
    try:
        (row,) = ledger.last(5)
    finally:
        ledger.close()
    assert row["app"] == "bench" and row["status"] == "ok"


def test_the_desktops_port_leaves_the_http_client_unloaded_until_a_call_needs_it() -> None:
    # A fresh interpreter: this test process has imported the client long ago.
    script = (
        "import sys, time, httpx\n"
        "from promptready.engine import Engine\n"
        "from promptready.gateway.background import BackgroundGateway\n"
        "gateway = BackgroundGateway(0, Engine(source='gateway'))\n"
        "url = gateway.start()\n"
        "httpx.get(url + '/health')\n"
        "time.sleep(0.3)\n"  # time for a preload thread, were there one
        "print('promptready.http1' in sys.modules)\n"
        "gateway.stop()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False", done.stderr
