"""OpenAI-shaped error bodies: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class GatewayError(Exception):
    """An error the gateway answers itself; ``retry`` false adds ``x-should-retry: false``;
    ``close`` ends the connection after the answer (a request body was left unread)."""

    status: int
    message: str
    code: str
    type: str = "invalid_request_error"
    param: str | None = None
    retry: bool | None = None
    retry_after_s: int | None = None
    close: bool = False

    def body(self) -> bytes:
        """The JSON body of the response."""
        error = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        return orjson.dumps({"error": error})

    def headers(self) -> list[tuple[bytes, bytes]]:
        """Headers that tell clients (and the OpenAI SDK's own retry loop) what to do."""
        found: list[tuple[bytes, bytes]] = []
        if self.retry is not None:
            found.append((b"x-should-retry", b"true" if self.retry else b"false"))
        if self.retry_after_s is not None:
            found.append((b"retry-after", str(self.retry_after_s).encode()))
        if self.close:
            found.append((b"connection", b"close"))
        return found


def unauthorized(message: str) -> GatewayError:
    return GatewayError(401, message, "invalid_api_key", retry=False)


def forbidden(message: str, code: str) -> GatewayError:
    return GatewayError(403, message, code, type="permission_error", retry=False)


def bad_request(message: str, code: str, param: str | None = None) -> GatewayError:
    return GatewayError(400, message, code, param=param, retry=False)
