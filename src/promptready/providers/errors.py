"""Upstream failures, mapped from HTTP and socket errors to the app's own tree.

UpstreamError (PromptReadyError)
 ├── UpstreamHTTPError      the provider answered with an error status (status, code, retry_after)
 ├── UpstreamTimeoutError   no answer in time
 ├── UpstreamUnreachableError  no connection (no network, wrong URL, server down)
 ├── UpstreamProtocolError  the answer broke the OpenAI protocol (bad JSON, cut stream)
 └── UpstreamRedirectError  the provider answered 3xx (never followed)
"""

from __future__ import annotations

from promptready.errors import PromptReadyError


class UpstreamError(PromptReadyError):
    """A call to a provider failed; ``retryable`` says whether another try or fallback may help."""

    retryable = True

    def __init__(self, message: str, provider: str) -> None:
        super().__init__(message)
        self.provider = provider


class UpstreamHTTPError(UpstreamError):
    def __init__(
        self,
        provider: str,
        status: int,
        message: str,
        *,
        code: str | None = None,
        retry_after: str | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(_sentence(provider, status, message), provider)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.body = body  # the provider's own error body, passed through by the gateway

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        from promptready.providers.retry import is_retryable

        return is_retryable(self.status)


class UpstreamTimeoutError(UpstreamError):
    pass


class UpstreamUnreachableError(UpstreamError):
    pass


class UpstreamProtocolError(UpstreamError):
    pass


def _sentence(provider: str, status: int, message: str) -> str:
    if status == 401:
        return (
            f"{provider} rejected the key (401); check it with `promptready keys test {provider}`."
        )
    if status == 403:
        return f"{provider} refused the request (403): {message}"
    if status == 429:
        return f"{provider} is rate-limiting requests (429); wait a moment or add a fallback model."
    if status >= 500:
        return f"{provider} had a server error ({status}); try again shortly."
    return f"{provider} refused the request ({status}): {message}"


class UpstreamRedirectError(UpstreamError):
    """The provider answered with a redirect, which is never followed: following it would send
    the prompt (and the key) to an address the user never configured."""

    retryable = False

    def __init__(self, provider: str, status: int, location: str) -> None:
        where = f" to {location[:200]}" if location else ""
        super().__init__(
            f"{provider} answered with a redirect ({status}{where}), which PromptReady does not "
            f"follow; check the provider's base URL (`promptready keys set {provider} "
            "--base-url URL`).",
            provider,
        )
        self.status = status
        self.location = location
