"""Provider descriptions: built-in presets (data in resources/providers.toml) and custom ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

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
    models: tuple[str, ...] = ()  # listed to local apps when the provider's own list fails


@cache
def presets() -> dict[str, ProviderConfig]:
    """The built-in providers by name."""
    return parse_presets(read_toml("providers.toml"))


def parse_presets(data: Mapping[str, Any]) -> dict[str, ProviderConfig]:
    """Provider configs from the parsed providers.toml; ResourceError naming a bad table."""
    found: dict[str, ProviderConfig] = {}
    for name, raw in data.items():
        if not isinstance(raw, dict):
            raise ResourceError(f"providers.toml: [{name}] must be a table; reinstall the app.")
        try:
            config = ProviderConfig(
                name=name,
                title=str(raw["title"]),
                base_url=check_base_url(str(raw["base_url"])),
                needs_key=bool(raw.get("needs_key", True)),
                stream_usage=bool(raw.get("stream_usage", True)),
                default_model=_default_model(raw.get("default_model")),
                models=_model_names(raw.get("models", [])),
            )
            if config.models and config.default_model not in config.models:
                raise ConfigError(f"models must list default_model {config.default_model!r}")
        except (KeyError, ConfigError) as exc:
            raise ResourceError(
                f"providers.toml: [{name}] is invalid ({exc}); reinstall the app."
            ) from exc
        found[name] = config
    return found


def _model_name(key: str, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{key} must be a model name in quotes, not {raw!r}")
    return raw.strip()


def _default_model(raw: object) -> str | None:
    return None if raw is None else _model_name("default_model", raw)


def _model_names(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f'models must be a list of model names, e.g. ["a", "b"], not {raw!r}')
    names = tuple(_model_name(f"models[{i}]", item) for i, item in enumerate(raw))
    if len(set(names)) != len(names):
        raise ConfigError("models lists a model twice")
    return names


def custom_provider(name: str, base_url: str, default_model: str | None = None) -> ProviderConfig:
    """A user-added OpenAI-compatible provider (``default_model`` from ``ai.custom_models``)."""
    return ProviderConfig(
        name=name,
        title=name,
        base_url=check_base_url(base_url),
        default_model=default_model,
        custom=True,
    )
