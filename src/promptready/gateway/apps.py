"""Per-app tokens: who may call the gateway, with which budgets and limits.

Tokens are random (256 bits) and stored only as SHA-256 hashes in ``apps.toml`` under the config
directory; ``create`` shows a token once. A fast hash is right here: the secret has full entropy,
so nothing is gained from a slow password hash, and lookups run on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import tomli_w

from promptready.errors import ConfigError
from promptready.paths import write_private

TOKEN_PREFIX = "pr-"  # noqa: S105 - a label that makes tokens recognisable, not a secret
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class AppLimits:
    """What one app may spend and call; None means no limit."""

    budget_usd_day: Decimal | None = None
    budget_usd_month: Decimal | None = None
    rpm: int | None = None
    models: tuple[str, ...] = ()  # empty: any model
    cache_ttl_s: int = 0  # 0: no response cache for this app


@dataclass(frozen=True)
class AppToken:
    """A registered app: its name, the hash of its token and its limits."""

    name: str
    token_hash: str
    created: datetime
    limits: AppLimits = field(default_factory=AppLimits)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def check_app_name(name: str) -> str:
    """Letters, digits, '.', '-' and '_' (at most 64): names appear in headers and the ledger."""
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a valid app name; use letters, digits, '.', '-' or '_' (at most 64)."
        )
    return name


def _decimal(key: str, raw: object) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ConfigError(f'{key} must be an amount in quotes, like "5.00"')
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ConfigError(f'{key} must be an amount like "5.00", not {raw!r}') from None
    if not value.is_finite() or value < 0:
        raise ConfigError(f"{key} must be zero or more, not {raw!r}")
    return value


def _limits(key: str, raw: dict[str, Any]) -> AppLimits:
    rpm = raw.get("rpm")
    if rpm is not None and (isinstance(rpm, bool) or not isinstance(rpm, int) or rpm < 1):
        raise ConfigError(f"{key}.rpm must be a whole number of at least 1")
    models = raw.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ConfigError(f"{key}.models must be a list of model names")
    ttl = raw.get("cache_ttl_s", 0)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0:
        raise ConfigError(f"{key}.cache_ttl_s must be a whole number of seconds, 0 or more")
    return AppLimits(
        budget_usd_day=_decimal(f"{key}.budget_usd_day", raw.get("budget_usd_day")),
        budget_usd_month=_decimal(f"{key}.budget_usd_month", raw.get("budget_usd_month")),
        rpm=rpm,
        models=tuple(models),
        cache_ttl_s=ttl,
    )


class AppRegistry:
    """The apps file: read, create, revoke, and look a bearer token up in constant time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._apps: dict[str, AppToken] = {}
        self._by_hash: dict[str, AppToken] = {}
        self._stamp: tuple[int, int, int] | None = None
        self.reload()

    def reload(self) -> bool:
        """Re-read the file if it changed since the last read; True when it did."""
        try:
            stat = self.path.stat()
            # The inode and size too: writes replace the file, and a coarse clock (1 s on some
            # file systems) can give two versions of it the same mtime.
            stamp: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_ino, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return False
        self._apps = self._read() if stamp is not None else {}
        self._by_hash = {app.token_hash: app for app in self._apps.values()}
        self._stamp = stamp
        return True

    def _read(self) -> dict[str, AppToken]:
        try:
            raw = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{self.path} could not be read ({exc}); fix or delete it.") from None
        apps: dict[str, AppToken] = {}
        for name, entry in (raw.get("apps") or {}).items():
            key = f"apps.{name}"
            if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
                raise ConfigError(f"{self.path}: {key} needs a hash; revoke and re-create the app.")
            created = entry.get("created")
            apps[name] = AppToken(
                name=check_app_name(name),
                token_hash=entry["hash"],
                created=created
                if isinstance(created, datetime)
                else datetime.fromtimestamp(0, UTC),
                limits=_limits(key, entry),
            )
        return apps

    def _write(self, apps: dict[str, AppToken]) -> None:
        table: dict[str, Any] = {}
        for app in sorted(apps.values(), key=lambda a: a.name):
            entry: dict[str, Any] = {"hash": app.token_hash, "created": app.created}
            limits = app.limits
            if limits.budget_usd_day is not None:
                entry["budget_usd_day"] = str(limits.budget_usd_day)
            if limits.budget_usd_month is not None:
                entry["budget_usd_month"] = str(limits.budget_usd_month)
            if limits.rpm is not None:
                entry["rpm"] = limits.rpm
            if limits.models:
                entry["models"] = list(limits.models)
            if limits.cache_ttl_s:
                entry["cache_ttl_s"] = limits.cache_ttl_s
            table[app.name] = entry
        write_private(
            self.path,
            "# PromptReady local API apps. Tokens are stored as SHA-256 hashes only.\n"
            + tomli_w.dumps({"apps": table}),
        )
        self._stamp = None  # force the re-read: the file is new even if the clock is coarse
        self.reload()

    def apps(self) -> list[AppToken]:
        """Registered apps, by name."""
        return sorted(self._apps.values(), key=lambda a: a.name)

    def create(self, name: str, limits: AppLimits | None = None) -> tuple[AppToken, str]:
        """Register ``name``; returns the app and its token (shown once, never stored)."""
        check_app_name(name)
        self.reload()
        if name in self._apps:
            raise ConfigError(f"An app named {name} exists; revoke it first or pick another name.")
        token = new_token()
        app = AppToken(
            name, hash_token(token), datetime.now(UTC).replace(microsecond=0), limits or AppLimits()
        )
        self._write({**self._apps, name: app})
        return app, token

    def update(self, name: str, limits: AppLimits) -> AppToken:
        """Replace an app's limits, keeping its token."""
        self.reload()
        if name not in self._apps:
            raise ConfigError(f"There is no app named {name}.")
        app = replace(self._apps[name], limits=limits)
        self._write({**self._apps, name: app})
        return app

    def revoke(self, name: str) -> bool:
        """Remove ``name``; its token stops working at once. False when there was no such app."""
        self.reload()
        if name not in self._apps:
            return False
        self._write({n: a for n, a in self._apps.items() if n != name})
        return True

    def authenticate(self, token: str) -> AppToken | None:
        """The app a bearer token belongs to, or None."""
        digest = hash_token(token)
        app = self._by_hash.get(digest)
        if app is None or not hmac.compare_digest(app.token_hash, digest):
            return None
        return app
