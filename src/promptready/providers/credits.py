"""The hosted credit proxy as a provider like the others: an OpenAI-compatible upstream whose
credential is a device token (``credits_auth``) instead of a stored key.

Here: its address (``credits.url``, or ``PROMPTREADY_CLOUD_URL``), its provider description, the
plain JSON client for the service's own API, and the one sentence each of its refusals (402,
429, 503, ...) becomes, saying what to do.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from promptready.errors import ConfigError, NotConfiguredError
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
from promptready.settings import CreditsSettings, check_base_url

if TYPE_CHECKING:
    from pathlib import Path

    from promptready.providers.credits_auth import DeviceAuth
    from promptready.providers.registry import ProviderRegistry

OUT_OF_CREDITS = "You are out of PromptReady credits"  # the 402 sentence; the desktop spots it
CREDITS = "credits"  # the provider's name: ``credits/...`` models, ``ai.provider = "credits"``
URL_ENV = "PROMPTREADY_CLOUD_URL"
DEFAULT_MODEL = "default"  # the service answers with the device's cohort model whatever is named
OWN_KEY = "use your own key (`promptready keys set openai`) or offline mode"


_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def check_service_url(url: str) -> str:
    """A credit service address: https, or http on this machine only (the device secret and
    every prompt travel to it)."""
    cleaned = check_base_url(url)
    parts = urlsplit(cleaned)
    if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise ConfigError(f"{url!r} must use https (plain http only to 127.0.0.1 or localhost).")
    return cleaned


def service_url(settings: CreditsSettings, environ: Mapping[str, str] = os.environ) -> str:
    """The credit service's address: ``PROMPTREADY_CLOUD_URL`` when set, else ``credits.url``."""
    override = environ.get(URL_ENV, "").strip()
    if not override:
        return settings.url
    try:
        return check_service_url(override)
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


def reset_time(resets_at: object, wait_s: float | None, now: datetime) -> str:
    """When the weekly capacity comes back, for a person: the answer's ``resets_at``, else
    now plus Retry-After."""
    when: datetime | None = None
    if isinstance(resets_at, str):
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(resets_at)
    if when is None and wait_s is not None:
        with contextlib.suppress(OverflowError):  # a Retry-After of centuries
            when = now + timedelta(seconds=wait_s)
    if when is None:
        return "next Monday"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _detail(error: Mapping[str, Any]) -> str:
    """``: the service's own sentence`` (bounded), or a full stop."""
    text = error.get("message")
    if not isinstance(text, str):
        return "."
    text = "".join(c for c in text if c.isprintable()).strip()  # it reaches a terminal
    return f": {text[:200]}" if text else "."


def capacity_until(error: CreditsRefusedError, now: datetime | None = None) -> str | None:
    """When an "at capacity" refusal says the weekly capacity comes back, for a person; None
    for any other refusal."""
    payload = _json_object(error.body) or {}
    if error.status != 503 or payload.get("status") != "SERVICE_AT_CAPACITY":
        return None
    wait = parse_retry_after(error.retry_after) if error.retry_after else None
    return reset_time(payload.get("resets_at"), wait, now or datetime.now(UTC))


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
        message = f"{OUT_OF_CREDITS}; top up with `promptready credits buy PACK`, or {OWN_KEY}."
    elif status == 429:
        seconds = max(1, math.ceil(wait)) if wait is not None else 1
        message = (
            f"The credit service is limiting this device's requests; wait {seconds} s and "
            "try again."
        )
        retryable = True
    elif status == 503 and payload.get("status") == "SERVICE_AT_CAPACITY":
        until = reset_time(payload.get("resets_at"), wait, now or datetime.now(UTC))
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


MAX_ANSWER_BYTES = 1 << 20  # its answers are a few hundred bytes: this bounds a wrong server


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
        from promptready import http1

        url = f"{self.url}{path}"
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if authorization is not None:
            headers["Authorization"] = authorization
        data = None if body is None else orjson.dumps(body)
        failure: Exception | None = None
        raw, status, retry_after = b"", 0, None
        try:
            response = await self._http.client().request(method, url, headers, data)
            try:
                raw = await response.read(MAX_ANSWER_BYTES)
            finally:
                response.release()
            status, retry_after = response.status, response.header(b"retry-after")
        except http1.HTTPTimeoutError:
            failure = UpstreamTimeoutError("The credit service did not answer in time.", CREDITS)
        except http1.ConnectError:
            failure = UpstreamUnreachableError(
                f"Could not reach the credit service at {self.url}; check your network, "
                f"or {OWN_KEY}.",
                CREDITS,
            )
        except http1.BodyTooLargeError:
            failure = CreditsError(
                f"The credit service at {self.url} sent an answer far larger than any of its own; "
                "check the credits.url setting."
            )
        except http1.HTTPError:
            failure = UpstreamProtocolError(
                "The credit service closed the connection mid-answer; try again.", CREDITS
            )
        # Raised outside the except blocks: the request (and its secret) stays out of __context__.
        if failure is not None:
            raise failure
        answer = Answer(status, raw, None if retry_after is None else retry_after.decode("latin-1"))
        if 300 <= answer.status < 400:
            raise CreditsError(
                f"The credit service at {self.url} answered with a redirect, which PromptReady "
                "does not follow; check the credits.url setting."
            )
        return answer


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
        """``default`` (this device's cohort model) first, then every model the service names."""
        await self.device.ensure()
        try:
            served = await super().list_models()
        except UpstreamHTTPError as error:
            failure = _refused(error)
        else:
            return [DEFAULT_MODEL, *(m for m in served if m != DEFAULT_MODEL)]
        raise failure


def offer_credits(registry: ProviderRegistry, url: str, data_dir: Path) -> CreditsProvider:
    """Add the credit proxy at ``url`` to ``registry`` on standby (``credits/...``, and the
    default with no key), signed in as this device (id under ``data_dir``, secret in the
    keyring)."""
    from promptready.providers.credits_auth import DeviceAuth

    auth = DeviceAuth(ServiceClient(url, registry.http), data_dir, registry.secrets)
    provider = CreditsProvider(credits_config(url), registry.http, auth)
    registry.add(provider, standby=True)
    return provider


def device_auth(registry: ProviderRegistry) -> DeviceAuth:
    """The device sign-in of the credit proxy offered to ``registry``, or a clear error."""
    provider = registry.added(CREDITS)
    if not isinstance(provider, CreditsProvider):
        raise NotConfiguredError("No credit service is configured (credits.url).")
    return provider.device
