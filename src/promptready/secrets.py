"""Provider keys (and the credit service's device secret) in the OS keyring: the only module
that imports ``keyring``.

Keys are stored under one service name, one entry per provider, plus an index entry listing the
providers (keyring backends cannot enumerate). A key never appears in a repr, log or exception:
it travels as ``ApiKey``, whose repr is redacted, and errors name the provider, never the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from promptready.errors import PromptReadyError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "PromptReady"
_INDEX_ENTRY = "__providers__"
_DEVICE_ENTRY = "__credits_device__ "  # a space: no provider name can collide with it
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

# Backends that keep secrets in plain files or nowhere: usable, but the user must be told.
_INSECURE_MODULES = ("keyrings.alt", "keyring.backends.null", "keyring.backends.fail")

KEYRING_FIX = (
    "Unlock your system keyring (GNOME Keyring / KWallet / macOS Keychain / Windows Credential "
    "Manager) or choose a backend with the PYTHON_KEYRING_BACKEND environment variable."
)


class SecretsError(PromptReadyError):
    """The keyring is missing, locked or refused the operation."""


class ApiKey:
    """A provider key whose repr and str never show it; ``reveal()`` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        cleaned = value.strip()
        if not cleaned:
            raise SecretsError("The key is empty; paste the whole key from your provider.")
        if any(ch.isspace() for ch in cleaned) or not cleaned.isprintable():
            raise SecretsError("The key contains spaces or control characters; paste it again.")
        self._value = cleaned

    def reveal(self) -> str:
        """The key itself, for the Authorization header of its own provider only."""
        return self._value

    def masked(self) -> str:
        """A hint safe to show: the last four characters."""
        return f"…{self._value[-4:]}" if len(self._value) > 8 else "…"

    def __repr__(self) -> str:
        return f"ApiKey({self.masked()})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class BackendInfo:
    """Which keyring backend answers, and whether it is a secure OS store."""

    name: str
    secure: bool

    @property
    def warning(self) -> str | None:
        """A sentence for the user when keys would not be stored securely."""
        if self.secure:
            return None
        return (
            f"Keys are stored with {self.name}, which is not a secure OS keyring. "
            "Install and unlock your system keyring to protect them."
        )


def check_provider_name(provider: str) -> str:
    """Normalise a provider name; lowercase letters, digits, dot, dash and underscore only."""
    name = provider.strip().lower()
    if not _PROVIDER_NAME.match(name):
        raise SecretsError(
            f"{provider!r} is not a valid provider name; use lowercase letters, digits, '.', '-' "
            "or '_' (at most 64)."
        )
    return name


def _backend_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _is_secure(backend: KeyringBackend) -> bool:
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return bool(backend.backends) and all(_is_secure(b) for b in backend.backends)
    return not type(backend).__module__.startswith(_INSECURE_MODULES)


class SecretStore:
    """Store, read, delete and list provider keys in one keyring backend."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        return self._backend

    def info(self) -> BackendInfo:
        """The active backend and whether it is secure."""
        return BackendInfo(name=_backend_name(self.backend), secure=_is_secure(self.backend))

    def set_key(self, provider: str, key: ApiKey) -> None:
        """Store ``key`` for ``provider``, replacing any earlier one."""
        name = check_provider_name(provider)
        self._call("store the key", self.backend.set_password, SERVICE, name, key.reveal())
        providers = set(self.providers())
        if name not in providers:
            self._write_index(sorted(providers | {name}))

    def get_key(self, provider: str) -> ApiKey | None:
        """The key stored for ``provider``, or None."""
        name = check_provider_name(provider)
        value = self._call("read the key", self.backend.get_password, SERVICE, name)
        return ApiKey(value) if value else None

    def delete_key(self, provider: str) -> bool:
        """Remove the key for ``provider``; False when there was none."""
        name = check_provider_name(provider)
        existed = self.get_key(name) is not None
        if existed:
            try:
                self._call("delete the key", self.backend.delete_password, SERVICE, name)
            except SecretsError:
                if self.get_key(name) is not None:
                    raise
                existed = False  # deleted meanwhile by another process
        self._write_index([p for p in self.providers() if p != name])
        return existed

    def set_device_secret(self, service_url: str, secret: ApiKey) -> None:
        """Store this installation's device secret for the credit service at ``service_url``."""
        entry = _DEVICE_ENTRY + service_url
        self._call("store the device secret", self.backend.set_password, SERVICE, entry,
                   secret.reveal())  # fmt: skip

    def get_device_secret(self, service_url: str) -> ApiKey | None:
        """The device secret stored for the credit service at ``service_url``, or None."""
        entry = _DEVICE_ENTRY + service_url
        value = self._call("read the device secret", self.backend.get_password, SERVICE, entry)
        return ApiKey(value) if value else None

    def providers(self) -> list[str]:
        """Names of the providers that have a key, sorted."""
        raw = self._call("list the keys", self.backend.get_password, SERVICE, _INDEX_ENTRY)
        try:
            names = json.loads(raw) if raw else []
        except ValueError:
            names = []  # a damaged index is rebuilt by the next set_key; keys themselves are intact
        return sorted({n for n in names if isinstance(n, str) and _PROVIDER_NAME.match(n)})

    def _write_index(self, names: list[str]) -> None:
        index = json.dumps(names)
        self._call("update the key list", self.backend.set_password, SERVICE, _INDEX_ENTRY, index)

    def _call(self, action: str, func: Callable[..., object], *args: str) -> str | None:
        try:
            result = func(*args)
        except Exception as exc:
            failure = self._error(action, exc)
        else:
            return result if isinstance(result, str) else None
        # Raised outside the except block so the backend's exception is not even kept as
        # __context__: some backends put the secret they were given into their messages.
        raise failure

    def _error(self, action: str, exc: Exception) -> SecretsError:
        # Never quote the backend's message: some include the secret they were given.
        from keyring.errors import KeyringLocked, NoKeyringError

        if isinstance(exc, KeyringLocked):
            return SecretsError(f"Could not {action}: the keyring is locked. {KEYRING_FIX}")
        if isinstance(exc, NoKeyringError):
            return SecretsError(f"Could not {action}: no keyring is available. {KEYRING_FIX}")
        return SecretsError(
            f"Could not {action}: the keyring refused ({type(exc).__name__}). {KEYRING_FIX}"
        )
