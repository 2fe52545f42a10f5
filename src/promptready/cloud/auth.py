"""Device authentication: HS256 access tokens with a ``kid`` keyring, and hashed device secrets.

A device registers once and gets a random ``device_secret`` (returned once, stored as a hash);
later it trades the secret for a fresh access token, so a bare device id never buys a token.
Tokens carry ``sub`` (the device id), ``iss``, ``aud``, ``iat``, ``nbf``, ``exp`` and ``jti``, and
name their signing key in the ``kid`` header: verification looks the key up by ``kid`` and never
trusts the token's own ``alg`` (exactly one algorithm, HS256, is accepted).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "promptready-cloud"
AUDIENCE = "promptready-cloud-api"
TOKEN_LIFETIME = timedelta(hours=1)
LEEWAY_S = 30
VERIFIED_CACHE = 50_000
_REQUIRED = ["exp", "iat", "nbf", "sub", "aud", "iss"]


class AuthFailure(enum.Enum):
    """Why a bearer token was refused; the value is the error code the client branches on."""

    EXPIRED = "token_expired"
    INVALID = "invalid_token"


class AuthError(Exception):
    """A refused token; ``str()`` is a sentence safe to send (it never quotes the token)."""

    def __init__(self, failure: AuthFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


def key_id(secret: bytes) -> str:
    """A key's public name: derived from the secret, so rotation needs no separate setting."""
    return hashlib.sha256(b"promptready-cloud-kid:" + secret).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKeys:
    """The current signing secret plus the previous ones still accepted while tokens age out."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    @property
    def current_kid(self) -> str:
        return key_id(self.current)

    def by_kid(self) -> Mapping[str, bytes]:
        """Every accepted key by its ``kid``."""
        return {key_id(s): s for s in (*self.previous, self.current)}


class TokenService:
    """Issues and verifies access tokens against the wall clock (PyJWT reads it itself)."""

    def __init__(
        self, keys: SigningKeys, lifetime: timedelta = TOKEN_LIFETIME, leeway_s: int = LEEWAY_S
    ) -> None:
        self._kid = keys.current_kid
        self._secret = keys.current
        self._keys = dict(keys.by_kid())
        self.lifetime = lifetime
        self._leeway_s = leeway_s
        # Tokens already verified, by their exact text (signature included), with their expiry:
        # a full decode costs ~0.1-0.3 ms a request, a hit one dict lookup. Only this process's
        # keys filled it, so a retired key's tokens fall out when the process restarts.
        self._verified: dict[str, tuple[uuid.UUID, float]] = {}

    def issue(self, device_id: uuid.UUID) -> str:
        """A signed access token for ``device_id``, valid for ``lifetime`` from now."""
        now = datetime.now(UTC)
        claims = {
            "sub": str(device_id),
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str) -> uuid.UUID:
        """The device id in a valid token; AuthError (expired or invalid) for anything else."""
        hit = self._verified.get(token)
        if hit is not None and time.time() <= hit[1] + self._leeway_s:
            return hit[0]
        device_id, expires = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.clear()  # simpler than LRU; refilling costs one decode per device
        self._verified[token] = (device_id, expires)
        return device_id

    def _decode(self, token: str) -> tuple[uuid.UUID, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise _invalid("The access token is malformed.") from None
        secret = self._keys.get(kid) if isinstance(kid, str) else None
        if secret is None:
            raise _invalid("The access token was signed with a key this server does not know.")
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self._leeway_s,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(
                AuthFailure.EXPIRED, "The access token has expired; refresh it."
            ) from None
        except jwt.PyJWTError:
            raise _invalid("The access token is not valid.") from None
        try:
            return uuid.UUID(str(claims["sub"])), float(claims["exp"])
        except ValueError:
            raise _invalid("The access token does not name a device.") from None


def _invalid(message: str) -> AuthError:
    return AuthError(AuthFailure.INVALID, message + " Register or refresh to get a new one.")


def new_device_secret() -> str:
    """A fresh device secret: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def hash_device_secret(secret: str) -> bytes:
    """What the store keeps: SHA-256 is enough for a 256-bit random secret (no dictionary)."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def secret_matches(secret: str, stored: bytes) -> bool:
    """Whether ``secret`` hashes to ``stored``, in constant time."""
    return hmac.compare_digest(hash_device_secret(secret), stored)
