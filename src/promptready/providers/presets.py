"""Provider descriptions: built-in presets (data in resources/providers.toml) and custom ones."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from promptready.errors import ConfigError, ResourceError
from promptready.resources import read_toml
from promptready.settings import check_base_url


@dataclass(frozen=True)
class ProviderConfig:
    """Where a provider lives and how it behaves; holds no key."""

    name: str
    title: str
    base_url: str
    needs_key: bool = True
    stream_usage: bool = True
    default_model: str | None = None
    custom: bool = False
    ledger_mode: str = "byok"  # the mode its ledger rows carry ("credits" for the credit proxy)


@cache
def presets() -> dict[str, ProviderConfig]:
    """The built-in providers by name."""
    found: dict[str, ProviderConfig] = {}
    for name, raw in read_toml("providers.toml").items():
        if not isinstance(raw, dict):
            raise ResourceError(f"providers.toml: [{name}] must be a table; reinstall the app.")
        try:
            found[name] = ProviderConfig(
                name=name,
                title=str(raw["title"]),
                base_url=check_base_url(str(raw["base_url"])),
                needs_key=bool(raw.get("needs_key", True)),
                stream_usage=bool(raw.get("stream_usage", True)),
                default_model=raw.get("default_model"),
            )
        except (KeyError, ConfigError) as exc:
            raise ResourceError(
                f"providers.toml: [{name}] is invalid ({exc}); reinstall the app."
            ) from exc
    return found


def custom_provider(name: str, base_url: str, default_model: str | None = None) -> ProviderConfig:
    """A user-added OpenAI-compatible provider (``default_model`` from ``ai.custom_models``)."""
    return ProviderConfig(
        name=name,
        title=name,
        base_url=check_base_url(base_url),
        default_model=default_model,
        custom=True,
    )
