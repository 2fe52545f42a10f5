"""Signing in to the credit proxy: silent registration, one renewal per 401 (shared by concurrent
calls), no loop when renewing does not help, and the local gateway's ``credits/...`` models."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from promptready.cloud.auth import LEEWAY_S, TokenService
from promptready.engine import Engine, EnhanceResult, Mode, open_engine
from promptready.gateway.assemble import build_gateway
from promptready.ledger.store import Ledger
from promptready.paths import app_paths
from promptready.secrets import ApiKey, SecretStore
from tests.e2e.conftest import FAITHFUL_REWRITE, StartCloud
from tests.fakes.upstream import serve

ROUGH = "write a python script that renames my photos by the date they were taken"
CHAT = "/v1/chat/completions"
EXPIRED = timedelta(seconds=-(LEEWAY_S + 60))


def issue_expired(monkeypatch: pytest.MonkeyPatch, first: int | None) -> None:
    """The cloud signs its first ``first`` tokens (None: all) already expired: real JWTs, really
    past their ``exp``, so the cloud answers 401 token_expired for them."""
    left = [first]

    class ExpiringTokens(TokenService):
        def issue(self, device_id: uuid.UUID) -> str:
            if left[0] is not None and left[0] <= 0:
                return super().issue(device_id)
            if left[0] is not None:
                left[0] -= 1
            usual, self.lifetime = self.lifetime, EXPIRED
            try:
                return super().issue(device_id)
            finally:
                self.lifetime = usual

    monkeypatch.setattr("promptready.cloud.app.TokenService", ExpiringTokens)


async def enhance(engine: Engine) -> EnhanceResult:
    return await engine.enhance_async(ROUGH, mode="ai")


async def enhance_in_new_engine() -> EnhanceResult:
    """One AI enhancement by a fresh engine (as a new process would: no token yet)."""
    engine, _ = open_engine()
    try:
        return await enhance(engine)
    finally:
        await engine.close()


async def test_an_expired_token_is_renewed_once_and_the_call_goes_through(
    start_cloud: StartCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue_expired(monkeypatch, first=1)
    cloud = start_cloud()
    result = await enhance_in_new_engine()
    assert result.mode is Mode.AI, result.fallback_reason
    assert cloud.count("/api/v1/auth/device") == 1
    assert cloud.count("/api/v1/auth/refresh") == 1
    assert cloud.count(CHAT) == 2  # the refused try, and the one retry


async def test_concurrent_401s_share_one_renewal(
    start_cloud: StartCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue_expired(monkeypatch, first=1)
    cloud = start_cloud()
    engine, _ = open_engine()
    try:
        results = await asyncio.gather(*(enhance(engine) for _ in range(6)))
    finally:
        await engine.close()
    assert [r.mode for r in results] == [Mode.AI] * 6
    assert cloud.count("/api/v1/auth/device") == 1  # first use: one registration for all six
    assert cloud.count("/api/v1/auth/refresh") == 1
    assert cloud.count(CHAT) == 12


async def test_a_renewed_token_refused_again_is_an_error_not_a_loop(
    start_cloud: StartCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue_expired(monkeypatch, first=None)
    cloud = start_cloud()
    result = await enhance_in_new_engine()
    assert result.mode is Mode.OFFLINE and result.fallback_reason is not None
    assert "refused this device's access token" in result.fallback_reason
    assert cloud.count("/api/v1/auth/refresh") == 1
    assert cloud.count(CHAT) == 2


async def test_a_secret_the_service_does_not_accept_is_one_clear_sentence(
    start_cloud: StartCloud,
) -> None:
    cloud = start_cloud()
    await enhance_in_new_engine()
    SecretStore().set_device_secret(cloud.url, ApiKey("not-the-device-secret"))
    result = await enhance_in_new_engine()
    assert result.mode is Mode.OFFLINE and result.fallback_reason is not None
    assert "did not accept this device's secret" in result.fallback_reason
    assert "not-the-device-secret" not in result.fallback_reason
    assert cloud.count("/api/v1/auth/device") == 1  # no new registration: no free-credit farm


async def test_a_keyring_that_lost_the_secret_is_one_clear_sentence(
    start_cloud: StartCloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cloud = start_cloud()
    await enhance_in_new_engine()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "new-keyring"))  # an empty keyring file
    result = await enhance_in_new_engine()
    assert result.mode is Mode.OFFLINE and result.fallback_reason is not None
    assert "secret is missing from the keyring" in result.fallback_reason
    assert cloud.count("/api/v1/auth/device") == 2  # the second one refused (409)


def gateway_call(url: str, token: str, body: dict[str, object]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=30)


def test_the_local_gateway_serves_credits_models(start_cloud: StartCloud) -> None:
    cloud = start_cloud()
    engine, _ = open_engine("gateway")
    gateway = build_gateway(engine)
    _, token = gateway.apps.create("tests")
    messages = [{"role": "user", "content": "hello"}]
    with serve(gateway, lifespan="on") as url:
        answer = gateway_call(url, token, {"model": "credits/default", "messages": messages})
        streamed = gateway_call(
            url, token, {"model": "credits/default", "messages": messages, "stream": True}
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == FAITHFUL_REWRITE
    assert streamed.status_code == 200 and "EXIF" in streamed.text
    assert cloud.count(CHAT) == 2
    ledger = Ledger(app_paths().ledger_file)
    try:
        rows = ledger.last(2)
    finally:
        ledger.close()
    assert [(r["source"], r["mode"], r["provider"]) for r in rows] == [
        ("gateway", "credits", "credits")
    ] * 2
    assert all(r["credits"] >= 1 for r in rows)


def test_the_local_gateway_lists_credits_models_for_a_user_of_credits(
    start_cloud: StartCloud,
) -> None:
    start_cloud()
    gateway = build_gateway(open_engine("gateway")[0])
    _, token = gateway.apps.create("tests")
    with serve(gateway, lifespan="on") as url:
        answer = httpx.get(
            f"{url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    assert answer.status_code == 200, answer.text
    ids = [m["id"] for m in answer.json()["data"] if m["owned_by"] == "credits"]
    assert ids[0] == "credits/default" and len(ids) > 1


async def test_a_renewal_refused_mid_session_is_one_clear_sentence(
    start_cloud: StartCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue_expired(monkeypatch, first=1)
    monkeypatch.setattr("promptready.cloud.routes.auth.secret_matches", lambda *_: False)
    cloud = start_cloud()
    result = await enhance_in_new_engine()
    assert result.mode is Mode.OFFLINE and result.fallback_reason is not None
    assert "did not accept this device's secret" in result.fallback_reason
    assert cloud.count("/api/v1/auth/refresh") == 1 and cloud.count(CHAT) == 1
