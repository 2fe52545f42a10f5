"""The hosted credit proxy as a provider like the others: an OpenAI-compatible upstream whose
credential is a device token instead of a stored key.

- The device id is created once (uuid4, from the OS's CSPRNG) in a private file of the data
  folder; the device secret the service returns at registration lives in the OS keyring
  (``secrets``); the access token lives in this process's memory only.
- The first call registers the device silently; a later process trades the secret for a token.
- A 401 gets exactly one renewal and one more try (``OpenAICompatProvider`` asks ``refresh``
  once per request); concurrent 401s share one renewal (single flight), and a 401 for a token
  another call has already replaced just retries with the new one. A refused renewal is a clear
  error, not a loop.
- The service's refusals (402, 429, 503, ...) become one sentence each, saying what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from promptready.errors import ConfigError
from promptready.providers.errors import (
    UpstreamError,
    UpstreamHTTPError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from promptready.providers.http import HttpClient
from promptready.providers.openai_compat import (
    ChatResult,
    OpenAICompatProvider,
    RawResponse,
    StreamEvent,
)
from promptready.providers.presets import ProviderConfig
from promptready.providers.retry import is_retryable, parse_retry_after
from promptready.secrets import ApiKey, SecretsError, SecretStore
from promptready.settings import CreditsSettings, check_base_url

CREDITS = "credits"  # the provider's name: ``credits/...`` models, ``ai.provider = "credits"``
URL_ENV = "PROMPTREADY_CLOUD_URL"
DEVICE_FILE = "credits-device-id"
DEFAULT_MODEL = "default"  # the service answers with the device's cohort model whatever is named
OWN_KEY = "use your own key (`promptready keys set openai`) or offline mode"
_MAX_TOKEN_CHARS = 8192
_MAX_SECRET_CHARS = 256


def service_url(settings: CreditsSettings, environ: Mapping[str, str] = os.environ) -> str:
    """The credit service's address: ``PROMPTREADY_CLOUD_URL`` when set, else ``credits.url``."""
    override = environ.get(URL_ENV, "").strip()
    if not override:
        return settings.url
    try:
        return check_base_url(override)
    except ConfigError as exc:
        raise ConfigError(f"{URL_ENV}: {exc}") from None


def credits_config(url: str) -> ProviderConfig:
    """The credit proxy as a provider description (its OpenAI-compatible API is under /v1)."""
    return ProviderConfig(
        name=CREDITS,
        title="PromptReady credits",
        base_url=f"{url}/v1",
        needs_key=False,
        default_model=DEFAULT_MODEL,
        ledger_mode="credits",
    )


class CreditsError(UpstreamError):
    """The credit service could not be used; the message says why and what to do."""

    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message, CREDITS)


class CreditsRefusedError(UpstreamHTTPError):
    """An error status from the credit service, as one sentence; only a rate limit or a
    passing server error is worth another try."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None,
        retry_after: str | None,
        body: bytes,
        retryable: bool,
    ) -> None:
        UpstreamError.__init__(self, message, CREDITS)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.body = body
        self._retryable = retryable

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self._retryable


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) else None


def _reset_time(resets_at: object, wait_s: float | None, now: datetime) -> str:
    """When the weekly capacity comes back, for a person: the answer's ``resets_at``, else
    now plus Retry-After."""
    when: datetime | None = None
    if isinstance(resets_at, str):
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(resets_at)
    if when is None and wait_s is not None:
        when = now + timedelta(seconds=wait_s)
    if when is None:
        return "next Monday"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _detail(error: Mapping[str, Any]) -> str:
    """``: the service's own sentence`` (bounded), or a full stop."""
    text = error.get("message")
    if not isinstance(text, str) or not text.strip():
        return "."
    return f": {text.strip()[:200]}"


def refusal(
    status: int, body: bytes, retry_after: str | None, now: datetime | None = None
) -> CreditsRefusedError:
    """The sentence for an error answer of the credit service."""
    payload = _json_object(body) or {}
    error = payload.get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    wait = parse_retry_after(retry_after) if retry_after else None
    retryable = False
    if status == 402:
        message = (
            "You are out of PromptReady credits; top up with `promptready credits buy PACK`, "
            f"or {OWN_KEY}."
        )
    elif status == 429:
        seconds = max(1, math.ceil(wait)) if wait is not None else 1
        message = (
            f"The credit service is limiting this device's requests; wait {seconds} s and "
            "try again."
        )
        retryable = True
    elif status == 503 and payload.get("status") == "SERVICE_AT_CAPACITY":
        until = _reset_time(payload.get("resets_at"), wait, now or datetime.now(UTC))
        message = f"The credit service is at capacity this week, until {until}; {OWN_KEY}."
    elif status == 503 and code == "grant_budget_exhausted":
        message = f"The credit service cannot grant this now{_detail(error)}"
    elif status == 401:
        message = f"The credit service refused this device's access token; {OWN_KEY}."
    elif status >= 500:
        message = f"The credit service had a server error ({status}); try again shortly."
        retryable = is_retryable(status)
    else:
        message = f"The credit service refused the request ({status}){_detail(error)}"
    return CreditsRefusedError(
        status, message, code=code, retry_after=retry_after, body=body, retryable=retryable
    )


@dataclass(frozen=True)
class Answer:
    """One answer of the credit service's own API."""

    status: int
    body: bytes
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; CreditsError when it is not one."""
        payload = _json_object(self.body)
        if payload is None:
            raise CreditsError(
                "The credit service sent an answer that is not a JSON object; try again later."
            )
        return payload

    def refusal(self) -> CreditsRefusedError:
        """This error answer as one sentence."""
        return refusal(self.status, self.body, self.retry_after)


class ServiceClient:
    """Plain JSON calls to the credit service's own API (``/api/v1/...``); redirects refused."""

    def __init__(self, url: str, http: HttpClient) -> None:
        self.url = url
        self._http = http

    def __repr__(self) -> str:
        return f"ServiceClient({self.url!r})"

    async def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        authorization: str | None = None,
    ) -> Answer:
        """Send one request; its answer, whatever the status (a 3xx is an error)."""
        import aiohttp

        url = f"{self.url}{path}"
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if authorization is not None:
            headers["Authorization"] = authorization
        data = None if body is None else orjson.dumps(body)
        failure: UpstreamError | None = None
        try:
            session = await self._http.session()
            async with session.request(
                method, url, data=data, headers=headers, proxy=self._http.proxy_for(url),
                allow_redirects=False,
            ) as response:  # fmt: skip
                answer = Answer(
                    response.status, await response.read(), response.headers.get("Retry-After")
                )
        except TimeoutError:
            failure = UpstreamTimeoutError("The credit service did not answer in time.", CREDITS)
        except (aiohttp.ClientConnectorError, aiohttp.ClientOSError):
            failure = UpstreamUnreachableError(
                f"Could not reach the credit service at {self.url}; check your network, "
                f"or {OWN_KEY}.",
                CREDITS,
            )
        except aiohttp.ClientError:
            failure = UpstreamProtocolError(
                "The credit service closed the connection mid-answer; try again.", CREDITS
            )
        # Raised outside the except blocks: the request (and its secret) stays out of __context__.
        if failure is not None:
            raise failure
        if 300 <= answer.status < 400:
            raise CreditsError(
                f"The credit service at {self.url} answered with a redirect, which PromptReady "
                "does not follow; check the credits.url setting."
            )
        return answer


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
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
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


def _refused(error: UpstreamHTTPError) -> CreditsRefusedError:
    if isinstance(error, CreditsRefusedError):
        return error
    return refusal(error.status, error.body, error.retry_after)


class CreditsProvider(OpenAICompatProvider):
    """The credit proxy's OpenAI-compatible API, signed in with the device token; its error
    answers become the credit service's sentences. The gateway's raw ``forward`` passes the
    service's own error bodies through, as it does for every provider."""

    def __init__(self, config: ProviderConfig, http: HttpClient, auth: DeviceAuth) -> None:
        super().__init__(config, None, http, auth=auth)
        self.device = auth

    async def chat(self, body: dict[str, Any]) -> ChatResult:
        await self.device.ensure()
        try:
            return await super().chat(body)
        except UpstreamHTTPError as error:
            failure = _refused(error)
        raise failure

    async def stream_chat(self, body: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        await self.device.ensure()
        stream = super().stream_chat(body)
        failure: CreditsRefusedError | None = None
        try:
            async for event in stream:
                yield event
        except UpstreamHTTPError as error:
            failure = _refused(error)
        finally:
            await stream.aclose()
        if failure is not None:
            raise failure

    @asynccontextmanager
    async def forward(self, path: str, body: bytes) -> AsyncIterator[RawResponse]:
        await self.device.ensure()
        async with super().forward(path, body) as response:
            yield response

    async def list_models(self) -> list[str]:
        await self.device.ensure()
        try:
            return await super().list_models()
        except UpstreamHTTPError as error:
            failure = _refused(error)
        raise failure
