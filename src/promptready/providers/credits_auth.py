"""Signing in to the credit service: the device id (created once, in a private file of the data
folder), the device secret (in the OS keyring, through ``secrets``) and the access token (in
memory only), as the ``Auth`` that ``OpenAICompatProvider`` asks for its Authorization header.

The first call registers the device silently; a later process trades the secret for a token. A
401 gets one renewal (``OpenAICompatProvider`` asks ``refresh`` once per request); concurrent
401s share one renewal (single flight), and a 401 for a token another call has already replaced
just retries with the new one. A refused renewal is a clear error, not a loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from promptready.paths import private_dir
from promptready.providers.credits import OWN_KEY, Answer, CreditsError, ServiceClient
from promptready.secrets import ApiKey, SecretsError, SecretStore

DEVICE_FILE = "credits-device-id"
_MAX_TOKEN_CHARS = 8192
_MAX_SECRET_CHARS = 256


def device_id(data_dir: Path) -> uuid.UUID:
    """This installation's device id, created once in a private file of the data folder."""
    path = data_dir / DEVICE_FILE
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return _create_device_id(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise CreditsError(
            f"Could not read the device id in {path} ({type(exc).__name__}); fix the file's "
            "permissions."
        ) from None
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise CreditsError(
            f"The device id in {path} is damaged; restore it from a backup, or delete the file "
            "to start over as a new device (without this device's credits)."
        ) from None


def _create_device_id(path: Path) -> uuid.UUID:
    """Write a new id beside the file, then link it into place: of two processes starting at
    once, one id wins and both use it."""
    new = uuid.uuid4()  # os.urandom underneath: 122 random bits
    private_dir(path.parent)  # and its parents, which mkdir(parents=True) makes 0755
    draft = path.with_name(f"{path.name}.{os.getpid()}.{new.hex[:8]}.tmp")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(f"{new}\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            return device_id(path.parent)
        except OSError:  # no hard links on this file system: the draft is renamed instead
            if path.exists():
                return device_id(path.parent)
            draft.replace(path)
    finally:
        draft.unlink(missing_ok=True)
    return new


def _text_field(payload: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = payload.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return None
    if not value.isascii() or not value.isprintable() or " " in value:
        return None  # it goes into a header or the keyring: nothing that could split them
    return value


class DeviceAuth:
    """The credit service's credential for ``OpenAICompatProvider``: a device token in memory,
    got by registering (first use) or from the device secret, and renewed once after a 401."""

    def __init__(self, client: ServiceClient, data_dir: Path, secrets: SecretStore) -> None:
        self.client = client
        self._data_dir = data_dir
        self._secrets = secrets
        self._token: str | None = None
        self._generation = 0  # of the token held; 0: none yet
        # Which token this task's last request carried (each concurrent call has its own).
        self._sent: contextvars.ContextVar[int] = contextvars.ContextVar("credits_sent", default=0)
        self._renewing: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"DeviceAuth({self.client.url!r})"

    def device_id(self) -> uuid.UUID:
        """This installation's device id (created on first use)."""
        return device_id(self._data_dir)

    def authorization(self) -> str | None:
        self._sent.set(self._generation)
        return None if self._token is None else f"Bearer {self._token}"

    async def ensure(self) -> None:
        """Have a token to send: registers this device silently on first use."""
        if self._token is None:
            await self._renew_shared()

    async def refresh(self) -> bool:
        """After a 401 (callers ask once per request): get a new token, unless another call
        renewed it since this request went out; True: send the request again."""
        if self._sent.get() >= self._generation:
            await self._renew_shared()
        return True

    async def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Answer:
        """An authenticated call to the service's own API, with the same one renewal on 401."""
        await self.ensure()
        answer = await self.client.call(method, path, body, self.authorization())
        if answer.status == 401 and await self.refresh():
            answer = await self.client.call(method, path, body, self.authorization())
        return answer

    async def _renew_shared(self) -> None:
        """Renew the token, or wait for the renewal already under way (single flight)."""
        loop = asyncio.get_running_loop()
        renewing = self._renewing
        if renewing is None or renewing.done() or renewing.get_loop() is not loop:
            renewing = self._renewing = loop.create_task(self._renew())
        await asyncio.shield(renewing)

    async def _renew(self) -> None:
        try:
            device = await asyncio.to_thread(self.device_id)
            secret = await asyncio.to_thread(self._secrets.get_device_secret, self.client.url)
            if secret is None:
                token = await self._register(device)
            else:
                token = await self._token_for(device, secret)
        except SecretsError as error:
            failure = CreditsError(str(error))
        else:
            self._token = token
            self._generation += 1
            return
        raise failure

    async def _register(self, device: uuid.UUID) -> str:
        answer = await self.client.call("POST", "/api/v1/auth/device", {"device_id": str(device)})
        if answer.status == 409:
            raise CreditsError(
                "The credit service knows this device, but its secret is missing from the "
                f"keyring, so it cannot sign in; {OWN_KEY}."
            )
        if not answer.ok:
            raise answer.refusal()
        payload = answer.json()
        token = _text_field(payload, "access_token", _MAX_TOKEN_CHARS)
        secret = _text_field(payload, "device_secret", _MAX_SECRET_CHARS)
        if token is None or secret is None:
            raise CreditsError(_UNUSABLE_SIGN_IN)
        await asyncio.to_thread(self._secrets.set_device_secret, self.client.url, ApiKey(secret))
        return token

    async def _token_for(self, device: uuid.UUID, secret: ApiKey) -> str:
        answer = await self.client.call(
            "POST",
            "/api/v1/auth/refresh",
            {"device_id": str(device), "device_secret": secret.reveal()},
        )
        if answer.status == 401:
            raise CreditsError(
                f"The credit service did not accept this device's secret, so it cannot sign in; "
                f"{OWN_KEY}."
            )
        if not answer.ok:
            raise answer.refusal()
        token = _text_field(answer.json(), "access_token", _MAX_TOKEN_CHARS)
        if token is None:
            raise CreditsError(_UNUSABLE_SIGN_IN)
        return token


_UNUSABLE_SIGN_IN = "The credit service sent a sign-in answer that is not usable; try again later."
