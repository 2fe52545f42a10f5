"""Device registration, refresh and bearer checks over real HTTP (§8 cases 38-44)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from promptready.cloud.app import create_app
from promptready.cloud.auth import AUDIENCE, ISSUER, key_id
from promptready.cloud.config import load
from promptready.cloud.store import Store
from tests.cloud.http.conftest import (
    JWT_SECRET,
    Cloud,
    StartCloud,
    cloud_env,
    give,
    register,
)
from tests.fakes.upstream import FakeUpstream, Receive, Scope, Send, serve

CLIENT_HEADER = b"x-test-client-address"


async def test_registering_returns_a_bearer_token_and_a_secret(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device_id = uuid.uuid4()
        response = await client.post("/api/v1/auth/device", json={"device_id": str(device_id)})
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["device_secret"]) >= 40
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == str(device_id)


async def test_registering_an_existing_id_is_refused_without_a_token(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device = await register(client)
        again = await client.post("/api/v1/auth/device", json={"device_id": str(device.id)})
    assert again.status_code == 409
    assert "access_token" not in again.text and "device_secret" not in again.text
    assert str(device.id) not in again.text


async def test_refresh_with_the_secret_gives_a_new_working_token(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device = await register(client)
        response = await client.post(
            "/api/v1/auth/refresh",
            json={"device_id": str(device.id), "device_secret": device.secret},
        )
        assert response.status_code == 200
        token = response.json()["access_token"]
        credits = await client.get("/api/v1/credits", headers={"Authorization": f"Bearer {token}"})
    assert credits.status_code == 200


async def test_refresh_with_a_wrong_secret_or_unknown_device_is_401(cloud: Cloud) -> None:
    async with cloud.client() as client:
        device = await register(client)
        wrong = await client.post(
            "/api/v1/auth/refresh", json={"device_id": str(device.id), "device_secret": "nope"}
        )
        unknown = await client.post(
            "/api/v1/auth/refresh",
            json={"device_id": str(uuid.uuid4()), "device_secret": device.secret},
        )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_device_secret"
        assert device.secret not in response.text and str(device.id) not in response.text


async def test_bad_registration_bodies_are_400_and_never_echo_the_value(cloud: Cloud) -> None:
    bodies: list[object] = [
        {},
        {"device_id": 42},
        {"device_id": "not-a-uuid-secret-value"},
        {"device_id": str(uuid.UUID(int=0))},
        ["device_id"],
    ]
    async with cloud.client() as client:
        for body in bodies:
            response = await client.post("/api/v1/auth/device", json=body)
            assert response.status_code == 400, body
            assert "not-a-uuid-secret-value" not in response.text
        raw = await client.post("/api/v1/auth/device", content=b"{bad json")
    assert raw.status_code == 400
    assert raw.json()["error"]["code"] == "invalid_json"


async def test_registrations_are_limited_per_client_address(start_cloud: StartCloud) -> None:
    cloud = start_cloud(REGISTRATIONS_PER_HOUR="3")
    async with cloud.client() as client:
        statuses = [
            (await client.post("/api/v1/auth/device", json={"device_id": str(uuid.uuid4())}))
            for _ in range(5)
        ]
    assert [r.status_code for r in statuses] == [201, 201, 201, 429, 429]
    assert int(statuses[-1].headers["retry-after"]) >= 1


@pytest.fixture
def one_per_address(migrated_url: str, upstream: FakeUpstream) -> Iterator[str]:
    """The proxy's URL, allowing one registration per client address an hour, where the client
    address is what the test's ``x-test-client-address`` header says (loopback has one IPv6
    address, so the socket cannot tell two /64s apart)."""
    app = create_app(load(cloud_env(migrated_url, upstream.base_url, REGISTRATIONS_PER_HOUR="1")))

    async def from_header(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            claimed = dict(scope["headers"]).get(CLIENT_HEADER)
            if claimed is not None:
                scope = {**scope, "client": (claimed.decode(), 50_000)}
        await app(scope, receive, send)

    with serve(from_header, "on") as url:
        yield url


async def test_ipv6_clients_of_one_slash_64_share_the_registration_limit(
    one_per_address: str,
) -> None:
    addresses = ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:3::1"]
    async with httpx.AsyncClient(base_url=one_per_address) as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/auth/device",
                    json={"device_id": str(uuid.uuid4())},
                    headers={CLIENT_HEADER.decode(): address},
                )
            ).status_code
            for address in addresses
        ]
    assert statuses == [201, 429, 201]  # the second is in the first's /64; the third is not


def _token(secret: str, **changes: object) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(changes)
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": key_id(secret.encode())})


async def test_every_endpoint_needs_a_valid_token(cloud: Cloud) -> None:
    routes = [
        ("GET", "/api/v1/credits"),
        ("POST", "/api/v1/credits/byok-migration"),
        ("POST", "/api/v1/enhance"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models"),
    ]
    async with cloud.client() as client:
        for method, path in routes:
            for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
                response = await client.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (path, headers)
                assert response.json()["error"]["code"] == "invalid_token"


async def test_an_expired_token_is_401_token_expired(cloud: Cloud) -> None:
    past = datetime.now(UTC) - timedelta(hours=3)
    token = _token(JWT_SECRET, iat=past, nbf=past, exp=past + timedelta(hours=1))
    async with cloud.client() as client:
        response = await client.get("/api/v1/credits", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


async def test_a_token_signed_with_another_secret_is_401_invalid(cloud: Cloud) -> None:
    token = _token("another-secret-that-is-also-long-enough-000")
    async with cloud.client() as client:
        response = await client.get("/api/v1/credits", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


async def test_a_valid_token_for_an_unregistered_device_is_refused(cloud: Cloud) -> None:
    token = _token(JWT_SECRET)
    async with cloud.client() as client:
        response = await client.get("/api/v1/credits", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_a_token_only_ever_spends_its_own_wallet(cloud: Cloud, store: Store) -> None:
    async with cloud.client() as client:
        first, second = await register(client), await register(client)
        await give(store, first, 5)
        await give(store, second, 7)
        response = await client.post(
            "/api/v1/enhance", headers=first.auth, json={"content": "write a haiku about rain"}
        )
    assert response.status_code == 200, response.text
    assert (await store.credits(first.id)).balance == 4
    assert (await store.credits(second.id)).balance == 7


async def test_rotation_keeps_old_tokens_valid_until_the_old_key_retires(
    start_cloud: StartCloud,
) -> None:
    old = start_cloud()
    async with old.client() as client:
        device = await register(client)
    new_secret = "the-new-jwt-secret-after-rotation-0123456789"
    rotated = start_cloud(JWT_SECRET=new_secret, JWT_PREVIOUS_SECRETS=JWT_SECRET)
    retired = start_cloud(JWT_SECRET=new_secret)
    async with rotated.client() as client:
        assert (await client.get("/api/v1/credits", headers=device.auth)).status_code == 200
        refreshed = await client.post(
            "/api/v1/auth/refresh",
            json={"device_id": str(device.id), "device_secret": device.secret},
        )
    new_token = refreshed.json()["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(new_secret.encode())
    async with retired.client() as client:
        assert (await client.get("/api/v1/credits", headers=device.auth)).status_code == 401
        fresh = {"Authorization": f"Bearer {new_token}"}
        assert (await client.get("/api/v1/credits", headers=fresh)).status_code == 200
