"""The proxy's configuration: every ``PROMPTREADY_CLOUD_*`` variable, declared once, parsed once.

``VARIABLES`` is the single list of names, defaults and meanings; README's table is checked
against it. ``load(env)`` turns an environment into one typed ``CloudConfig`` or raises a
``ConfigError`` whose message is one line naming the variable at fault (the CLI exits 2).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from promptready.cloud.auth import SigningKeys
from promptready.cloud.cohorts import Cohort
from promptready.errors import ConfigError
from promptready.pricing import ModelPrice, RateCard, load_rate_card

if TYPE_CHECKING:
    from promptready.cloud.store import StoreSettings
    from promptready.cloud.upstream import Target

PREFIX = "PROMPTREADY_CLOUD_"
MIN_SECRET_BYTES = 32
_T = TypeVar("_T")


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name without the prefix, default ('' = unset) and meaning."""

    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return PREFIX + self.name


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DATABASE_URL",
        "",
        "`sqlite:///PATH` or `postgresql://USER@HOST:PORT/DB`; unset: `cloud.sqlite3` in the "
        "data folder (honours `PROMPTREADY_HOME`). PostgreSQL is required for more than one "
        "instance.",
    ),
    Variable(
        "JWT_SECRET",
        "",
        "Required by `serve`: the HS256 signing secret, at least 32 bytes (e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`).",
    ),
    Variable(
        "JWT_PREVIOUS_SECRETS",
        "",
        "Comma-separated earlier secrets still accepted (key rotation: tokens name their key by "
        "`kid`). Drop one an hour after it stopped signing.",
    ),
    Variable(
        "UPSTREAM_BASE_URL",
        "",
        "Required by `serve` unless every cohort has its own: the OpenAI-compatible base URL "
        "(ending in `/v1` or the provider's equivalent).",
    ),
    Variable("UPSTREAM_KEY", "", "The master key sent to the upstream (unset: no key)."),
    Variable(
        "UPSTREAM_TIMEOUT_S",
        "60",
        "Seconds an upstream may stay silent (before its headers or between two chunks).",
    ),
    Variable(
        "COHORTS",
        "A:70:gpt-oss-20b,B:20:llama-3.1-8b-instant,C:10:gemini-2.0-flash",
        "Comma-separated `NAME:WEIGHT:MODEL` arms; a device's cohort is a fixed function of its "
        "id. Per cohort, `PROMPTREADY_CLOUD_COHORT_<NAME>_BASE_URL` and "
        "`PROMPTREADY_CLOUD_COHORT_<NAME>_KEY` override the upstream and key.",
    ),
    Variable(
        "PRICES",
        "",
        "Comma-separated `MODEL=INPUT/OUTPUT` USD per 1M tokens, for models the rate card "
        "lacks or prices differently; every cohort and degrade model needs a price.",
    ),
    Variable("WEEKLY_CAP_USD", "100", "The global weekly upstream spend cap (ISO week, UTC)."),
    Variable(
        "DEGRADE_AT",
        "0.9",
        "Fraction of the weekly cap above which requests go to the degrade model.",
    ),
    Variable(
        "DEGRADE_MODEL",
        "llama-3.1-8b-instant",
        "The cheaper model used above `DEGRADE_AT` (empty: the cheapest cohort's model; "
        "`DEGRADE_AT=1` never degrades).",
    ),
    Variable("DEVICE_RPS", "1", "Requests per second per device (0: no limit)."),
    Variable(
        "REGISTRATIONS_PER_HOUR", "20", "New devices per client address per hour (0: no limit)."
    ),
    Variable("BYOK_GRANT", "500", "Credits granted once by `/api/v1/credits/byok-migration`."),
    Variable("GRANT_BUDGET_MONTH", "1000000", "Credits all one-off grants may give per month."),
    Variable("HOLD_TTL_S", "600", "Seconds before a hold left by a crashed process expires."),
    Variable("OVERDRAFT_CREDITS", "50", "How far a settle above its hold may take a balance."),
    Variable(
        "DURABLE_HOT_PATH",
        "0",
        "`1`: PostgreSQL's admits and settles wait for their WAL flush like every other write; "
        "`0` commits them with `synchronous_commit=off` (about 2 ms less each), so a database "
        "server crash can forget the last few hundred ms of settles: those requests go "
        "uncharged, never double-charged.",
    ),
    Variable(
        "USAGE_HASH_KEY",
        "",
        "Key (at least 16 bytes) hashing device ids in usage events; unset: derived from "
        "`JWT_SECRET` (set it before rotating that secret, so hashes stay comparable).",
    ),
)
_BY_NAME = {v.name: v for v in VARIABLES}
_COHORT_VAR = re.compile(r"^PROMPTREADY_CLOUD_COHORT_(?P<name>.+)_(?P<what>BASE_URL|KEY)$")


@dataclass(frozen=True)
class CloudConfig:
    """Everything the proxy reads from its environment, typed."""

    database_url: str
    signing_keys: SigningKeys | None
    upstream_base_url: str | None
    upstream_key: str
    upstream_timeout_s: float
    cohorts: tuple[Cohort, ...]
    rate_card: RateCard
    weekly_cap_usd: Decimal
    degrade_at: Decimal
    degrade_model: str | None
    device_rps: float
    registrations_per_hour: int
    byok_grant: int
    grant_budget_month: int
    hold_ttl_s: int
    overdraft_credits: int
    durable_hot_path: bool
    usage_key: bytes

    def __repr__(self) -> str:
        return "CloudConfig(...)"  # it holds secrets

    def store_settings(self) -> StoreSettings:
        """The store's policy knobs."""
        # Imported here: a configuration error should not wait for the whole store to load.
        from promptready.cloud.store import StoreSettings

        return StoreSettings(
            weekly_cap_usd=self.weekly_cap_usd,
            usage_key=self.usage_key,
            device_rps=self.device_rps,
            hold_ttl_s=self.hold_ttl_s,
            degrade_at=self.degrade_at,
            degrade_model=self.degrade_model,
            cohorts=self.cohorts,
            byok_grant=self.byok_grant,
            grant_budget_month=self.grant_budget_month,
            registrations_per_hour=self.registrations_per_hour,
            overdraft_credits=self.overdraft_credits,
            durable_hot_path=self.durable_hot_path,
        )

    def target(self, cohort: Cohort, model: str) -> Target:
        """Where a request for ``model`` admitted in ``cohort`` goes: the cohort serving that
        model (a degraded request goes to the degrade model's own upstream), else ``cohort``'s."""
        # Imported here (≈1 µs once loaded): the HTTP client would otherwise load with the
        # configuration, in every ``promptready-cloud admin`` process too.
        from promptready.cloud.upstream import Target

        serving = next((c for c in self.cohorts if c.model == model), cohort)
        base_url = serving.base_url or self.upstream_base_url
        if base_url is None:  # require_serving() rules this out
            raise ConfigError(f"{PREFIX}UPSTREAM_BASE_URL is not set")
        return Target(base_url, serving.api_key or self.upstream_key)

    def require_serving(self) -> SigningKeys:
        """The signing keys, or a ConfigError saying what ``serve`` still needs."""
        if self.signing_keys is None:
            raise ConfigError(
                f"{PREFIX}JWT_SECRET is not set; serve needs a random secret of at least "
                f"{MIN_SECRET_BYTES} bytes to sign device tokens"
            )
        if self.upstream_base_url is None:
            for cohort in self.cohorts:
                if cohort.base_url is None:
                    raise ConfigError(
                        f"{PREFIX}UPSTREAM_BASE_URL is not set and cohort {cohort.name} has no "
                        f"{PREFIX}COHORT_{cohort.name}_BASE_URL; serve needs an upstream"
                    )
        return self.signing_keys


def load(env: Mapping[str, str]) -> CloudConfig:
    """Parse the environment; ConfigError (one line, naming the variable) on a bad value."""

    def raw(name: str) -> str:
        return env.get(PREFIX + name, _BY_NAME[name].default).strip()

    card = load_rate_card().with_overrides(_parse("PRICES", raw("PRICES"), _prices))
    jwt_secret = raw("JWT_SECRET")
    keys = None
    if jwt_secret:
        current = _secret("JWT_SECRET", jwt_secret, MIN_SECRET_BYTES)
        previous = tuple(
            _secret("JWT_PREVIOUS_SECRETS", s.strip(), MIN_SECRET_BYTES)
            for s in raw("JWT_PREVIOUS_SECRETS").split(",")
            if s.strip()
        )
        keys = SigningKeys(current, previous)
    usage_key = _usage_key(raw("USAGE_HASH_KEY"), keys)
    degrade_model = raw("DEGRADE_MODEL") or None
    cohorts = _with_upstreams(_parse("COHORTS", raw("COHORTS"), _cohorts), env)
    for model in [c.model for c in cohorts] + ([degrade_model] if degrade_model else []):
        if card.price(model) is None:
            raise ConfigError(
                f"{PREFIX}PRICES has no price for the model {model!r} (the rate card lacks it); "
                f"add {model}=INPUT/OUTPUT"
            )
    base_url = raw("UPSTREAM_BASE_URL")
    return CloudConfig(
        database_url=_parse("DATABASE_URL", raw("DATABASE_URL"), _database_url),
        signing_keys=keys,
        upstream_base_url=_parse("UPSTREAM_BASE_URL", base_url, _http_url) if base_url else None,
        upstream_key=raw("UPSTREAM_KEY"),
        upstream_timeout_s=_parse("UPSTREAM_TIMEOUT_S", raw("UPSTREAM_TIMEOUT_S"), _positive),
        cohorts=cohorts,
        rate_card=card,
        weekly_cap_usd=_parse("WEEKLY_CAP_USD", raw("WEEKLY_CAP_USD"), _usd),
        degrade_at=_parse("DEGRADE_AT", raw("DEGRADE_AT"), _fraction),
        degrade_model=degrade_model,
        device_rps=_parse("DEVICE_RPS", raw("DEVICE_RPS"), _rate),
        registrations_per_hour=_parse(
            "REGISTRATIONS_PER_HOUR", raw("REGISTRATIONS_PER_HOUR"), _whole
        ),
        byok_grant=_parse("BYOK_GRANT", raw("BYOK_GRANT"), _whole),
        grant_budget_month=_parse("GRANT_BUDGET_MONTH", raw("GRANT_BUDGET_MONTH"), _whole),
        hold_ttl_s=_parse("HOLD_TTL_S", raw("HOLD_TTL_S"), _positive_whole),
        overdraft_credits=_parse("OVERDRAFT_CREDITS", raw("OVERDRAFT_CREDITS"), _whole),
        durable_hot_path=_parse("DURABLE_HOT_PATH", raw("DURABLE_HOT_PATH"), _flag),
        usage_key=usage_key,
    )


def _parse(name: str, text: str, parser: Callable[[str], _T]) -> _T:
    """``parser(text)``; its ValueError becomes one line naming the variable."""
    try:
        return parser(text)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name} {exc}") from None


def _secret(name: str, text: str, minimum: int) -> bytes:
    value = text.encode("utf-8")
    if len(value) < minimum:
        # Never echo the value: it is a secret, even a bad one.
        raise ConfigError(
            f"{PREFIX}{name} is {len(value)} bytes; it must be at least {minimum} random bytes"
        )
    return value


def _usage_key(text: str, keys: SigningKeys | None) -> bytes:
    if text:
        return _secret("USAGE_HASH_KEY", text, 16)
    if keys is not None:
        return hashlib.sha256(b"promptready-cloud-usage:" + keys.current).digest()
    # Only the admin commands run without a JWT secret, and they write no usage events.
    return secrets.token_bytes(32)


def _database_url(text: str) -> str:
    from promptready.cloud.db import default_database_url, parse_database_url

    if not text:
        return default_database_url()
    parse_database_url(text)  # a ValueError says what is wrong with it
    return text


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL, not {text!r}")
    return text.rstrip("/")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"must be a number, not {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"must be a finite number, not {text!r}")
    return value


def _usd(text: str) -> Decimal:
    value = _decimal(text)
    if value < 0:
        raise ValueError(f"must be zero or more US dollars, not {text!r}")
    return value


def _fraction(text: str) -> Decimal:
    value = _decimal(text)
    if not 0 < value <= 1:
        raise ValueError(f"must be a fraction above 0 and at most 1, not {text!r}")
    return value


def _rate(text: str) -> float:
    value = _decimal(text)
    if value < 0:
        raise ValueError(f"must be zero (no limit) or more requests per second, not {text!r}")
    return float(value)


def _positive(text: str) -> float:
    value = _decimal(text)
    if value <= 0:
        raise ValueError(f"must be more than zero, not {text!r}")
    return float(value)


def _whole(text: str) -> int:
    if not re.fullmatch(r"\d{1,12}", text):
        raise ValueError(f"must be a whole number of zero or more, not {text!r}")
    return int(text)


def _positive_whole(text: str) -> int:
    value = _whole(text)
    if value == 0:
        raise ValueError("must be at least 1")
    return value


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(f"must be 0 or 1, not {text!r}")
    return text == "1"


def _cohorts(text: str) -> tuple[Cohort, ...]:
    cohorts: list[Cohort] = []
    for part in (p.strip() for p in text.split(",")):
        fields = part.split(":")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            raise ValueError(f"must list NAME:WEIGHT:MODEL arms separated by commas, not {part!r}")
        name, weight, model = (f.strip() for f in fields)
        if not re.fullmatch(r"[A-Za-z0-9]{1,16}", name):
            raise ValueError(f"has a cohort name {name!r}; use 1-16 letters or digits")
        if any(c.name == name for c in cohorts):
            raise ValueError(f"names the cohort {name!r} twice")
        cohorts.append(Cohort(name, _whole(weight), model))
    if sum(c.weight for c in cohorts) == 0:
        raise ValueError("must give at least one cohort a weight above 0")
    return tuple(cohorts)


def _with_upstreams(cohorts: tuple[Cohort, ...], env: Mapping[str, str]) -> tuple[Cohort, ...]:
    """Apply ``COHORT_<NAME>_BASE_URL`` / ``_KEY``; a variable for an unknown cohort is an error."""
    by_name = {c.name: c for c in cohorts}
    for key, value in sorted(env.items()):
        match = _COHORT_VAR.match(key)
        if match is None:
            continue
        name = match["name"]
        if name not in by_name:
            raise ConfigError(f"{key} names a cohort that {PREFIX}COHORTS does not define")
        if match["what"] == "BASE_URL":
            by_name[name] = replace(
                by_name[name], base_url=_parse(key[len(PREFIX) :], value.strip(), _http_url)
            )
        else:
            by_name[name] = replace(by_name[name], api_key=value.strip() or None)
    return tuple(by_name[c.name] for c in cohorts)


def _prices(text: str) -> dict[str, ModelPrice]:
    prices: dict[str, ModelPrice] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        model, _, pair = part.partition("=")
        given, _, taken = pair.partition("/")
        if not model.strip() or not given or not taken:
            raise ValueError(f"must list MODEL=INPUT/OUTPUT prices, not {part!r}")
        prices[model.strip().lower()] = ModelPrice(_usd(given.strip()), _usd(taken.strip()))
    return prices
