"""The desktop's local API (``LocalApi``, the gateway on a background thread) writes each call's
ledger row under the app whose token made it, so the usage window can tell apps apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promptready.ledger.store import Ledger
from promptready.local_api import LocalApi
from promptready.paths import app_paths

OFFLINE = {
    "model": "promptready/offline",  # needs no key: the row is the gateway's alone
    "messages": [{"role": "user", "content": "rename my photos by the date they were taken"}],
}


@pytest.fixture
def local_api(isolated_home: Path) -> Iterator[tuple[LocalApi, str]]:
    api = LocalApi()
    url = api.start(0)
    yield api, url
    api.stop()


def call(url: str, token: str) -> int:
    auth = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{url}/v1/chat/completions", json=OFFLINE, headers=auth).status_code


def test_each_row_carries_the_calling_apps_name(local_api: tuple[LocalApi, str]) -> None:
    api, url = local_api
    _, editor = api.create("editor")
    _, agent = api.create("agent")
    assert call(url, editor) == 200
    assert call(url, agent) == 200
    assert call(url, agent) == 200
    api.stop()  # flushes the ledger
    ledger = Ledger(app_paths().ledger_file)
    assert sorted(row["app"] for row in ledger.last(10)) == ["agent", "agent", "editor"]
    assert {t.key: t.calls for t in ledger.totals("app")} == {"agent": 2, "editor": 1}
