"""One setting by its dotted key (``section.name``): what `promptready config get|set|unset` and
the settings window's Save work through, validated by the declarations in ``settings.py``."""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any, get_type_hints

from promptready.errors import ConfigError
from promptready.settings import Settings, check_value, describe_settings


def _locate(key: str) -> tuple[str, dataclasses.Field[Any], type]:
    """The section name, field and Python type of ``section.name``; ConfigError if unknown."""
    section_name, _, name = key.partition(".")
    section_types = get_type_hints(Settings)
    if section_name in section_types:
        cls = section_types[section_name]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if name in fields:
            kind = get_type_hints(cls)[name]
            return (
                section_name,
                fields[name],
                tuple if getattr(kind, "__origin__", None) is tuple else kind,
            )
    known = ", ".join(row[0] for row in describe_settings())
    raise ConfigError(f"{key!r} is not a setting; the settings are: {known}.")


def get_setting(settings: Settings, key: str) -> object:
    """The current value of the setting ``key`` (``section.name``)."""
    section, f, _ = _locate(key)
    return getattr(getattr(settings, section), f.name)


def set_setting(settings: Settings, key: str, text: str) -> Settings:
    """``settings`` with ``key`` set from ``text`` (a TOML value, or bare text for a string
    setting), validated by the same declaration as the file; ConfigError when it does not fit."""
    section, f, kind = _locate(key)
    try:
        value: object = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if kind is not str:
            raise ConfigError(
                f"{key}: {text!r} is not a value; see `promptready config get {key}`."
            ) from None
        value = text
    if kind is str and not isinstance(value, str):
        value = text  # `config set ai.model 4` means the text "4"
    checked = check_value(key, value, kind, f.metadata)
    values = dataclasses.replace(getattr(settings, section), **{f.name: checked})
    return dataclasses.replace(settings, **{section: values})


def reset_setting(settings: Settings, key: str) -> Settings:
    """``settings`` with ``key`` back at its default."""
    section, f, _ = _locate(key)
    values = dataclasses.replace(
        getattr(settings, section), **{f.name: getattr(getattr(Settings(), section), f.name)}
    )
    return dataclasses.replace(settings, **{section: values})


def merge_settings(before: Settings, after: Settings, current: Settings) -> Settings:
    """``current`` with only the settings that changed from ``before`` to ``after``.

    A window shows ``before`` and saves ``after``: whatever it did not change (a custom provider
    added on the command line meanwhile, a setting it does not show) stays as ``current`` has it.
    """
    merged = current
    for section in dataclasses.fields(Settings):
        was, now = getattr(before, section.name), getattr(after, section.name)
        changes = {
            f.name: getattr(now, f.name)
            for f in dataclasses.fields(was)
            if getattr(was, f.name) != getattr(now, f.name)
        }
        if changes:
            values = dataclasses.replace(getattr(merged, section.name), **changes)
            merged = dataclasses.replace(merged, **{section.name: values})
    return merged


def with_custom_provider(settings: Settings, name: str, base_url: str, model: str) -> Settings:
    """``settings`` with the custom provider ``name`` added or changed (an empty model: none)."""
    from promptready.settings import check_base_url

    ai = settings.ai
    providers = {**ai.custom_providers, name: check_base_url(base_url)}
    models = {k: v for k, v in ai.custom_models.items() if k != name}
    if model.strip():
        models[name] = model.strip()
    ai = dataclasses.replace(ai, custom_providers=providers, custom_models=models)
    return dataclasses.replace(settings, ai=ai)


def forget_custom_provider(settings: Settings, name: str) -> Settings:
    """``settings`` without the custom provider ``name`` (nor its model, nor it as default)."""
    ai = settings.ai
    ai = dataclasses.replace(
        ai,
        custom_providers={k: v for k, v in ai.custom_providers.items() if k != name},
        custom_models={k: v for k, v in ai.custom_models.items() if k != name},
        provider="" if ai.provider == name else ai.provider,
    )
    return dataclasses.replace(settings, ai=ai)
