"""The UI's facade over the local API: lifecycle and app tokens, nothing of gateway/ leaking."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

from promptready.errors import ConfigError
from promptready.ledger.meter import process_meter
from promptready.local_api import AppLimits, LocalApi, sdk_snippet
from promptready.paths import app_paths
from promptready.settings import Settings


def test_start_and_stop() -> None:
    api = LocalApi()
    url = api.start(0)
    running = api.url
    assert running == url and httpx.get(f"{url}/health").status_code == 200
    api.stop()
    assert api.url is None
    api.stop()  # twice is fine


def test_tokens_are_created_listed_updated_and_revoked() -> None:
    api = LocalApi()
    _, token = api.create("editor", AppLimits(budget_usd_day=Decimal("2")))
    assert token.startswith("pr-") and [a.name for a in api.apps()] == ["editor"]
    api.update("editor", AppLimits(budget_usd_month=Decimal("9")))
    assert api.apps()[0].limits == AppLimits(budget_usd_month=Decimal("9"))
    assert api.revoke("editor") and not api.revoke("editor")
    assert api.apps() == []


def test_the_snippet_uses_the_openai_sdk_against_the_url() -> None:
    snippet = sdk_snippet("http://127.0.0.1:8788", "pr-abc")
    assert 'OpenAI(base_url="http://127.0.0.1:8788/v1", api_key="pr-abc")' in snippet
    compile(snippet, "<snippet>", "exec")


def test_the_local_api_refuses_to_start_while_serve_holds_the_data_folder() -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "promptready", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        port = serve.stdout.readline().strip().rsplit(":", 1)[1]
        with pytest.raises(ConfigError) as refused:
            LocalApi().start(0)
        assert f"process {serve.pid} on port {port}" in str(refused.value)
    finally:
        serve.terminate()
        serve.communicate(timeout=30)


def test_the_local_api_can_start_again_after_it_stopped() -> None:
    api = LocalApi()
    api.start(0)
    api.stop()
    url = api.start(0)  # the data folder's lock was let go
    assert httpx.get(f"{url}/health").status_code == 200
    api.stop()


def test_stopping_the_local_api_leaves_the_shared_meter_open_for_the_popup() -> None:
    meter = process_meter(app_paths().ledger_file, Settings())  # as the popup's engine has it
    api = LocalApi()
    api.start(0)
    api.stop()
    assert not meter.writer.closed
    assert process_meter(app_paths().ledger_file, Settings()) is meter
