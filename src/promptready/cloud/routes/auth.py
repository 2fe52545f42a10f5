"""``POST /api/v1/auth/device`` (register, once) and ``POST /api/v1/auth/refresh`` (new token)."""

from __future__ import annotations

import ipaddress
import uuid

from promptready.cloud.auth import hash_device_secret, new_device_secret, secret_matches
from promptready.cloud.errors import bad_request, from_store
from promptready.cloud.routes.deps import Deps
from promptready.cloud.routes.wire import (
    Receive,
    Scope,
    Send,
    read_object,
    send_json,
    unauthorized,
    uuid_field,
)
from promptready.cloud.store import StoreError

_MAX_SECRET_CHARS = 256


def client_key(scope: Scope) -> str:
    """Who is registering, for the per-client limit: the IPv4 address, or the IPv6 /64."""
    client = scope.get("client")
    host = client[0] if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def token_body(deps: Deps, device_id: uuid.UUID) -> dict[str, object]:
    """The token response: a fresh bearer token and how long it lives."""
    return {
        "access_token": deps.tokens.issue(device_id),
        "token_type": "bearer",
        "expires_in": int(deps.tokens.lifetime.total_seconds()),
    }


class RegisterDevice:
    """Register a new device id: a token plus its secret, which is shown this once."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_object(receive)
        device_id = uuid_field(body, "device_id")
        secret = new_device_secret()
        try:
            await self.deps.store.register_device(
                device_id, hash_device_secret(secret), client_key(scope)
            )
        except StoreError as error:
            raise from_store(error, self.deps.clock.now()) from None
        await send_json(send, 201, {**token_body(self.deps, device_id), "device_secret": secret})


class RefreshToken:
    """Trade a device id and its secret for a fresh access token."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_object(receive)
        device_id = uuid_field(body, "device_id")
        secret = body.get("device_secret")
        if not isinstance(secret, str) or not 0 < len(secret) <= _MAX_SECRET_CHARS:
            raise bad_request("device_secret must be the secret returned at registration.")
        stored = await self.deps.store.secret_hash(device_id)
        if stored is None or not secret_matches(secret, stored):
            # One answer for an unknown device and a wrong secret: nothing to probe.
            raise unauthorized(
                "invalid_device_secret",
                "The device id and secret do not match a registered device; register again.",
            )
        await send_json(send, 200, token_body(self.deps, device_id))
