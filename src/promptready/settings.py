"""User settings: declared once, validated on load, written back as TOML.

Each section is a frozen dataclass; a field's type, default and ``meta(...)`` description are the
single declaration that drives validation, the settings window and ``promptready settings --help``.
A bad value never stops the app: it falls back to the default and the problem is reported by key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast, get_type_hints
from urllib.parse import urlsplit

import tomli_w

from promptready.errors import ConfigError
from promptready.paths import write_private

T = TypeVar("T")


def meta(
    help: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: int | None = None,
    maximum: int | None = None,
    parse: Callable[[str, object], object] | None = None,
) -> dict[str, Any]:
    """Field metadata: what the setting means and which values it accepts.

    ``parse(key, raw)`` validates structured values (tables) and raises ConfigError naming the key.
    """
    return {
        "help": help,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "parse": parse,
    }


@dataclass(frozen=True)
class EnhanceSettings:
    mode: str = field(
        default="offline",
        metadata=meta("Default enhancement mode.", choices=("offline", "ai")),
    )
    format: str = field(
        default="markdown",
        metadata=meta("How enhanced prompts are laid out.", choices=("markdown", "text", "xml")),
    )


def check_base_url(url: str) -> str:
    """An http(s) base URL without credentials, query or fragment; trailing slash removed."""
    cleaned = url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not a usable base URL; give one like https://host/v1.")
    if parts.username or parts.password:
        raise ConfigError(
            "Put the key in the keyring, not in the base URL; remove the user:pass@ part."
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"The base URL {url!r} must not have a query or fragment.")
    return cleaned


def _parse_custom_providers(key: str, raw: object) -> dict[str, str]:
    """``{name = "https://host/v1"}``: custom OpenAI-compatible providers by name."""
    from promptready.secrets import SecretsError, check_provider_name

    if not isinstance(raw, dict):
        raise ConfigError(f'{key} must be a table of name = "base URL"')
    found: dict[str, str] = {}
    for name, url in raw.items():
        if not isinstance(url, str):
            raise ConfigError(f"{key}.{name} must be a base URL in quotes")
        try:
            found[check_provider_name(name)] = check_base_url(url)
        except (ConfigError, SecretsError) as exc:
            raise ConfigError(f"{key}.{name}: {exc}") from None
    return found


def _parse_custom_models(key: str, raw: object) -> dict[str, str]:
    """``{name = "model"}``: the model each custom provider uses when none is named."""
    from promptready.secrets import SecretsError, check_provider_name

    if not isinstance(raw, dict):
        raise ConfigError(f'{key} must be a table of name = "model"')
    found: dict[str, str] = {}
    for name, model in raw.items():
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"{key}.{name} must be a model name in quotes")
        try:
            found[check_provider_name(name)] = model.strip()
        except SecretsError as exc:
            raise ConfigError(f"{key}.{name}: {exc}") from None
    return found


@dataclass(frozen=True)
class AISettings:
    provider: str = field(
        default="",
        metadata=meta(
            "Provider for AI mode (a preset, a custom name, or credits for PromptReady "
            "credits); empty: the first with a key, else credits."
        ),
    )
    model: str = field(
        default="", metadata=meta("Default model; empty: the provider's default model.")
    )
    enhance_model: str = field(
        default="",
        metadata=meta(
            "A separate (cheaper) model for enhancing prompts; empty: the default model."
        ),
    )
    fallbacks: tuple[str, ...] = field(
        default=(),
        metadata=meta("Models to try in order when the first fails, as provider/model."),
    )
    routing: str = field(
        default="balanced",
        metadata=meta('How model "auto" picks.', choices=("cheapest", "fastest", "balanced")),
    )
    timeout_s: int = field(
        default=60, metadata=meta("Seconds to wait for a provider.", minimum=1, maximum=600)
    )
    first_byte_s: int = field(
        default=10,
        metadata=meta(
            "Seconds AI mode waits for a model's first word before trying the next fallback.",
            minimum=1,
            maximum=600,
        ),
    )
    deadline_s: int = field(
        default=30,
        metadata=meta(
            "Seconds AI mode waits in all (every try and fallback) before the offline result.",
            minimum=1,
            maximum=3600,
        ),
    )
    custom_providers: dict[str, str] = field(
        default_factory=dict,
        metadata=meta(
            "Custom OpenAI-compatible providers: name = base URL.", parse=_parse_custom_providers
        ),
    )
    custom_models: dict[str, str] = field(
        default_factory=dict,
        metadata=meta(
            "The model each custom provider uses when none is named: name = model.",
            parse=_parse_custom_models,
        ),
    )


def _parse_usd_cap(key: str, raw: object) -> str:
    """Empty (no cap) or an amount of USD, zero or more, kept as exact text."""
    if not isinstance(raw, str):
        raise ConfigError(f'{key} must be an amount in quotes, e.g. "20", not {raw!r}')
    if not raw.strip():
        return ""
    try:
        amount = Decimal(raw.strip())
    except ArithmeticError:
        raise ConfigError(f'{key} must be an amount in USD such as "20", not {raw!r}') from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"{key} must be zero or more, not {raw!r}")
    return raw.strip()


DEFAULT_CREDITS_URL = "https://cloud.promptready.app"


def _parse_service_url(key: str, raw: object) -> str:
    from promptready.providers.credits import check_service_url

    if not isinstance(raw, str):
        raise ConfigError(f"{key} must be a URL in quotes, not {raw!r}")
    try:
        return check_service_url(raw)
    except ConfigError as exc:
        raise ConfigError(f"{key}: {exc}") from None


@dataclass(frozen=True)
class CreditsSettings:
    url: str = field(
        default=DEFAULT_CREDITS_URL,
        metadata=meta(
            "Address of the PromptReady credit service (PROMPTREADY_CLOUD_URL overrides it).",
            parse=_parse_service_url,
        ),
    )


@dataclass(frozen=True)
class GatewaySettings:
    enabled: bool = field(
        default=False, metadata=meta("Run the local OpenAI-compatible API with the desktop app.")
    )
    port: int = field(
        default=8788, metadata=meta("Port of the local API on 127.0.0.1.", minimum=1, maximum=65535)
    )
    allowed_origins: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            "Browser origins allowed to call the local API (e.g. http://localhost:3000)."
        ),
    )
    allowed_hosts: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            "Host names the local API answers to besides 127.0.0.1, localhost and [::1]."
        ),
    )
    max_body_mb: int = field(
        default=16, metadata=meta("Largest request body accepted, in MiB.", minimum=1, maximum=512)
    )
    monthly_cap_usd: str = field(
        default="",
        metadata=meta(
            "Stop all local API calls once this month's spend reaches this many USD "
            '(e.g. "20"); empty: no cap.',
            parse=_parse_usd_cap,
        ),
    )


def _parse_prices(key: str, raw: object) -> dict[str, Any]:
    from promptready.pricing import parse_price_overrides

    return dict(parse_price_overrides(key, raw))


@dataclass(frozen=True)
class PricingSettings:
    models: dict[str, Any] = field(
        default_factory=dict,
        metadata=meta(
            "Your own prices in USD per 1M tokens, e.g. "
            '"openai/gpt-4o" = {input = "2.50", output = "10"}.',
            parse=_parse_prices,
        ),
    )


@dataclass(frozen=True)
class PrivacySettings:
    store_prompts: bool = field(
        default=False,
        metadata=meta("Keep the text of each prompt in the local usage ledger."),
    )


@dataclass(frozen=True)
class DesktopSettings:
    offline_only: bool = field(
        default=False,
        metadata=meta("Use offline mode only and hide every AI control in the desktop app."),
    )
    hotkey_enabled: bool = field(
        default=False,
        metadata=meta("Open the enhance popup with a global hotkey, where the platform allows."),
    )
    hotkey: str = field(default="Ctrl+Alt+P", metadata=meta("The global hotkey, e.g. Ctrl+Alt+P."))
    selection_hotkey_enabled: bool = field(
        default=True,
        metadata=meta(
            "Enhance the text selected in any app with a global hotkey, where the platform allows."
        ),
    )
    selection_hotkey: str = field(
        default="Ctrl+Alt+E",
        metadata=meta("The hotkey that enhances the selection in place, e.g. Ctrl+Alt+E."),
    )
    selection_preview: bool = field(
        default=True,
        metadata=meta(
            "Show the enhanced selection first (Enter pastes it, Esc keeps the original); "
            "false: paste it at once."
        ),
    )
    start_at_login: bool = field(default=False, metadata=meta("Start PromptReady when you log in."))
    theme: str = field(
        default="system",
        metadata=meta("Colour scheme of the windows.", choices=("system", "light", "dark")),
    )
    keep_history: bool = field(
        default=True,
        metadata=meta("Keep recent enhancements on this computer, searchable from the popup."),
    )


@dataclass(frozen=True)
class Settings:
    """All settings; each attribute is one ``[section]`` of settings.toml."""

    enhance: EnhanceSettings = field(default_factory=EnhanceSettings)
    ai: AISettings = field(default_factory=AISettings)
    credits: CreditsSettings = field(default_factory=CreditsSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    pricing: PricingSettings = field(default_factory=PricingSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    desktop: DesktopSettings = field(default_factory=DesktopSettings)


@dataclass(frozen=True)
class LoadedSettings:
    """Settings as loaded, with every problem found (each names its key and the fallback)."""

    settings: Settings
    problems: tuple[str, ...] = ()
    path: Path | None = None


def check_value(key: str, value: object, kind: type, spec: Mapping[str, Any]) -> object:
    """Return ``value`` if it fits the declaration; raise ConfigError naming ``key`` otherwise."""
    parse = spec.get("parse")
    if parse is not None:
        return parse(key, value)
    # bool is an int in Python; a TOML `true` must not pass as a number, nor `1` as a flag.
    if kind is bool and not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, not {value!r}")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{key} must be a whole number, not {value!r}")
    if kind is str and not isinstance(value, str):
        raise ConfigError(f"{key} must be text, not {value!r}")
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} must be a list of text values, not {value!r}")
        value = tuple(value)
    choices: tuple[str, ...] = spec.get("choices", ())
    if choices and value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    minimum, maximum = spec.get("minimum"), spec.get("maximum")
    if isinstance(value, int) and minimum is not None and value < minimum:
        raise ConfigError(f"{key} must be at least {minimum}, not {value}")
    if isinstance(value, int) and maximum is not None and value > maximum:
        raise ConfigError(f"{key} must be at most {maximum}, not {value}")
    return value


def _build_section(name: str, cls: type[T], raw: object, problems: list[str]) -> T:
    if not isinstance(raw, dict):
        problems.append(f"[{name}] must be a table; using its defaults")
        return cls()
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cast(Any, cls))}
    values: dict[str, object] = {}
    for key, value in raw.items():
        dotted = f"{name}.{key}"
        if key not in fields:
            problems.append(f"{dotted} is not a known setting; ignored")
            continue
        kind = hints[key]
        kind = tuple if getattr(kind, "__origin__", None) is tuple else kind
        try:
            values[key] = check_value(dotted, value, kind, fields[key].metadata)
        except ConfigError as exc:
            problems.append(f"{exc}; using the default {getattr(cls(), key)!r}")
    return cls(**values)


def parse_settings(raw: Mapping[str, object]) -> tuple[Settings, list[str]]:
    """Validate a parsed settings table; bad keys fall back to defaults and are reported."""
    problems: list[str] = []
    sections: dict[str, object] = {}
    section_types = get_type_hints(Settings)
    for name, value in raw.items():
        if name not in section_types:
            problems.append(f"[{name}] is not a known settings section; ignored")
            continue
        sections[name] = _build_section(name, section_types[name], value, problems)
    return Settings(**cast(Any, sections)), problems


def load_settings(path: Path) -> LoadedSettings:
    """Read settings.toml: missing means defaults; broken means defaults plus the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedSettings(Settings(), (), path)
    except (OSError, UnicodeDecodeError) as exc:
        return LoadedSettings(
            Settings(), (f"{path} could not be read ({exc}); using defaults",), path
        )
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return LoadedSettings(
            Settings(), (f"{path} is not valid TOML ({exc}); using defaults",), path
        )
    settings, problems = parse_settings(raw)
    return LoadedSettings(settings, tuple(f"{path.name}: {p}" for p in problems), path)


HEADER = (
    "# PromptReady settings. Each setting has a comment saying what it means.\n"
    "# Change them here, in Settings, or with `promptready config set KEY VALUE`;\n"
    "# a bad value falls back to its default and is reported.\n"
)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def settings_to_toml(settings: Settings) -> str:
    """Render settings as commented TOML, the inverse of ``parse_settings``."""
    lines = [HEADER]
    for section in dataclasses.fields(settings):
        lines.append(f"[{section.name}]")
        values = getattr(settings, section.name)
        for f in dataclasses.fields(values):
            lines.append(f"# {_help_line(f.metadata)}")
            lines.append(f"{f.name} = {toml_value(getattr(values, f.name))}")
        lines.append("")
    return "\n".join(lines)


def _help_line(spec: Mapping[str, Any]) -> str:
    help_text = str(spec.get("help", ""))
    if spec.get("choices"):
        help_text += f" One of: {', '.join(spec['choices'])}."
    return help_text


def toml_value(value: object) -> str:
    """One value in TOML syntax, tables inline (so each setting stays one commented line)."""
    value = _plain(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def _plain(value: object) -> object:
    """TOML-ready form: tuples as lists, Decimals as strings (money never becomes a float), and
    a dataclass as a table without its unset (None) fields, as TOML has no null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
        return {name: _plain(v) for name, v in fields if v is not None}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_value(key)


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically (a crash never leaves half a file)."""
    write_private(path, settings_to_toml(settings))


def describe_settings() -> list[tuple[str, str, object, str]]:
    """Every setting as (key, type, default, help): the source for docs and the settings UI."""
    rows: list[tuple[str, str, object, str]] = []
    defaults = Settings()
    for section in dataclasses.fields(Settings):
        section_default = getattr(defaults, section.name)
        hints = get_type_hints(type(section_default))
        for f in dataclasses.fields(section_default):
            kind = hints[f.name]
            type_name = getattr(kind, "__name__", str(kind))
            help_text = f.metadata.get("help", "")
            if f.metadata.get("choices"):
                help_text += f" One of: {', '.join(f.metadata['choices'])}."
            rows.append(
                (f"{section.name}.{f.name}", type_name, getattr(section_default, f.name), help_text)
            )
    return rows


def settings_table() -> str:
    """Every setting as a Markdown table (key, default, meaning): the README's settings list."""
    rows = ["| Setting | Default | Meaning |", "|---|---|---|"]
    for key, _, default, help_text in describe_settings():
        shown, meaning = (text.replace("|", "\\|") for text in (toml_value(default), help_text))
        rows.append(f"| `{key}` | `{shown}` | {meaning} |")
    return "\n".join(rows)
