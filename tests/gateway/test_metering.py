"""Gateway calls land in the ledger; budgets are enforced before the upstream is called."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from promptready.gateway.app import Gateway
from promptready.gateway.apps import AppLimits
from promptready.ledger.meter import Meter
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from promptready.pricing import load_rate_card
from promptready.secrets import ApiKey
from tests.fakes.upstream import FakeUpstream, Script, serve
from tests.gateway.conftest import make_gateway

# The fake upstream bills 9 prompt + 4 completion tokens: $0.000004 at gpt-4o-mini's rate card
# price. Admission holds an estimate (body bytes / 2 prompt tokens + max_tokens), about $0.000009
# for this body, so a $0.00001 budget admits the first call and not the second.
CHAT = {
    "model": "fake/gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
    "max_tokens": 4,
}


def test_calls_are_metered_and_budgets_enforced(upstream: FakeUpstream, tmp_path: Path) -> None:
    app = make_gateway(upstream, tmp_path)
    app.meter = Meter(BatchWriter(tmp_path / "ledger.db"), load_rate_card())
    _, token = app.apps.create("tight", AppLimits(budget_usd_day=Decimal("0.00001")))
    auth = {"Authorization": f"Bearer {token}"}
    with serve(app, lifespan="on") as url:
        first = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=auth)
        second = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=auth)
        usage = httpx.get(f"{url}/v1/usage", headers=auth).json()
    assert first.status_code == 200
    assert second.status_code == 402
    assert second.json()["error"]["code"] == "budget_exceeded"
    assert second.headers["x-should-retry"] == "false"
    assert "daily budget" in second.json()["error"]["message"]
    assert len(upstream.seen) == 1
    assert usage["app"] == "tight" and usage["spent_usd_today"] == "0.000004"
    rows = list(Ledger(tmp_path / "ledger.db").rows())  # the writer flushed on shutdown
    assert [(r["status"], r["app"]) for r in rows] == [("ok", "tight"), ("blocked", "tight")]
    assert rows[0]["request_id"] == first.headers["x-request-id"]
    assert rows[0]["cost_usd"] == "0.000004" and rows[0]["prompt_tokens"] == 9


def metered(upstream: FakeUpstream, tmp_path: Path) -> Gateway:
    app = make_gateway(upstream, tmp_path)
    app.meter = Meter(BatchWriter(tmp_path / "ledger.db"), load_rate_card())
    return app


def rows(tmp_path: Path) -> list[dict[str, Any]]:
    return list(Ledger(tmp_path / "ledger.db").rows())


def chat_calls(app: Gateway, token: str, model: str, times: int) -> list[httpx.Response]:
    """``times`` chat calls to ``model`` through the running gateway ``app``."""
    with serve(app, lifespan="on") as url:
        return [
            httpx.post(
                f"{url}/v1/chat/completions",
                json={**CHAT, "model": model},
                headers={"Authorization": f"Bearer {token}"},
            )
            for _ in range(times)
        ]


def test_a_crlf_framed_stream_is_metered_and_charged_to_the_app(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.script(Script(crlf=True))
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("editor", AppLimits(budget_usd_day=Decimal("1")))
    auth = {"Authorization": f"Bearer {token}"}
    with serve(app, lifespan="on") as url:
        streamed = httpx.post(
            f"{url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=auth
        )
        usage = httpx.get(f"{url}/v1/usage", headers=auth).json()
    assert '"usage"' not in streamed.text  # the client did not ask for the usage chunk
    assert streamed.text.replace("\r\n", "\n").endswith("data: [DONE]\n\n")
    (row,) = rows(tmp_path)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (9, 4)
    assert row["cost_usd"] == "0.000004" and usage["spent_usd_today"] == "0.000004"


def test_an_unpriced_model_is_refused_under_a_budget_naming_the_price_setting(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("tight", AppLimits(budget_usd_day=Decimal("0.01")))
    answers = chat_calls(app, token, "fake/ft:gpt-4o:acme:custom", 3)
    assert {a.status_code for a in answers} == {402}
    error = answers[0].json()["error"]
    assert error["code"] == "model_unpriced" and "pricing.models" in error["message"]
    assert "fake/ft:gpt-4o:acme:custom" in error["message"]
    assert upstream.seen == []
    assert {r["status"] for r in rows(tmp_path)} == {"blocked"}


def test_an_unpriced_model_without_a_budget_answers_and_its_row_says_unpriced(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("free-rein")
    (answer,) = chat_calls(app, token, "fake/o1-pro-unlisted", 1)
    assert answer.status_code == 200
    (row,) = rows(tmp_path)
    assert row["unpriced"] and row["cost_usd"] == "0" and row["prompt_tokens"] == 9


def test_a_local_provider_priced_at_zero_stays_free_under_a_budget(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    app = metered(upstream, tmp_path)
    registry = app.engine.registry
    registry.settings = dataclasses.replace(
        registry.settings, custom_providers={"fake": upstream.base_url, "ollama": upstream.base_url}
    )
    registry.secrets.set_key("ollama", ApiKey("sk-local-0123456789"))
    _, token = app.apps.create("tight", AppLimits(budget_usd_day=Decimal("0.000001")))
    answers = chat_calls(app, token, "ollama/llama3.2", 3)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {(r["cost_usd"], bool(r["unpriced"])) for r in rows(tmp_path)} == {("0", False)}


def test_promptready_enhance_is_charged_to_the_calling_app(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("editor", AppLimits(budget_usd_day=Decimal("1")))
    auth = {"Authorization": f"Bearer {token}"}
    upstream.script(Script(content="Rename the photos in this folder by the date they were taken."))
    body = {
        "model": "promptready/enhance",
        "messages": [{"role": "user", "content": "rename photos by date"}],
    }
    with serve(app, lifespan="on") as url:
        answer = httpx.post(f"{url}/v1/chat/completions", json=body, headers=auth)
        usage = httpx.get(f"{url}/v1/usage", headers=auth).json()
    assert answer.status_code == 200
    (row,) = rows(tmp_path)
    assert (row["app"], row["source"], row["mode"], row["status"]) == (
        "editor",
        "gateway",
        "byok",
        "ok",
    )
    assert row["request_id"] == answer.headers["x-request-id"]
    assert Decimal(row["cost_usd"]) > 0 and usage["spent_usd_today"] == row["cost_usd"]


def test_promptready_enhance_is_refused_when_the_apps_budget_is_spent(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("broke", AppLimits(budget_usd_day=Decimal("0.000001")))
    body = {"model": "promptready/enhance", "messages": [{"role": "user", "content": "hi"}]}
    with serve(app, lifespan="on") as url:
        answer = httpx.post(
            f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 402 and answer.json()["error"]["code"] == "budget_exceeded"
    assert upstream.seen == []


async def test_a_client_that_hangs_up_cuts_the_upstream_and_its_row_says_cancelled(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.script(Script(content=" ".join(["word"] * 40), chunk_delay_s=0.1))
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("editor")
    with serve(app, lifespan="on") as url:
        async with httpx.AsyncClient(timeout=10) as client:
            request = client.build_request(
                "POST",
                f"{url}/v1/chat/completions",
                json={**CHAT, "stream": True},
                headers={"Authorization": f"Bearer {token}"},
            )
            response = await client.send(request, stream=True)
            async for line in response.aiter_lines():
                if '"content"' in line:
                    break  # the first words came: hang up
            await response.aclose()
        for _ in range(100):
            if upstream.streams_cut:
                break
            await asyncio.sleep(0.05)
    assert upstream.streams_cut == 1  # the upstream saw the disconnect before its end
    (row,) = rows(tmp_path)
    assert row["status"] == "cancelled" and row["error_code"] == "client_disconnected"
    assert row["tokens_estimated"] and 0 < row["completion_tokens"] < 40
    assert Decimal(row["cost_usd"]) > 0


async def test_a_json_client_that_hangs_up_cuts_the_upstream_and_its_row_says_cancelled(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.script(Script(hang_s=3))
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("editor")
    with serve(app, lifespan="on") as url:
        async with httpx.AsyncClient(timeout=0.5) as client:
            with pytest.raises(httpx.ReadTimeout):  # the client gives up and hangs up
                await client.post(
                    f"{url}/v1/chat/completions",
                    json=CHAT,
                    headers={"Authorization": f"Bearer {token}"},
                )
        for _ in range(100):
            if upstream.hangs_cut:
                break
            await asyncio.sleep(0.02)
        assert upstream.hangs_cut == 1  # the upstream saw the gateway leave, long before 3 s
    (row,) = rows(tmp_path)
    assert row["status"] == "cancelled" and row["error_code"] == "client_disconnected"
    assert row["latency_ms"] < 2000


def answered_once_the_ledger_is_free(
    url: str, token: str, body: dict[str, Any], ledger: Path
) -> int:
    """POST ``body`` while another connection holds the ledger's write lock: the answer must not
    end before its row can be committed. Returns its status once the lock is released."""
    with sqlite3.connect(ledger) as other, ThreadPoolExecutor(1) as pool:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock: no commit yet
        answer = pool.submit(
            httpx.post,
            f"{url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        with pytest.raises(FutureTimeout):
            answer.result(timeout=0.5)  # the answer's end is held until its row is on disk
        other.rollback()
        return answer.result(timeout=10).status_code


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_an_answered_calls_last_byte_waits_for_its_rows_commit(
    upstream: FakeUpstream, tmp_path: Path, stream: bool
) -> None:
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("editor")
    with serve(app, lifespan="on") as url:
        body = {**CHAT, "stream": stream}
        assert answered_once_the_ledger_is_free(url, token, body, tmp_path / "ledger.db") == 200
    assert [r["status"] for r in rows(tmp_path)] == ["ok"]


def test_a_refusals_row_is_committed_before_the_refusal_is_sent(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    app = metered(upstream, tmp_path)
    _, token = app.apps.create("broke", AppLimits(budget_usd_day=Decimal("0.000001")))
    with serve(app, lifespan="on") as url:
        assert answered_once_the_ledger_is_free(url, token, CHAT, tmp_path / "ledger.db") == 402
    assert [r["status"] for r in rows(tmp_path)] == ["blocked"]
