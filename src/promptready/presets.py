"""Presets: a task template, a tone and a target format, kept as data.

Built-ins come from ``resources/presets.toml`` and are read-only; the user's own live in
``presets.toml`` in the config directory (same shape) and can be edited, cloned and deleted.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tomli_w

from promptready.errors import ConfigError
from promptready.paths import write_private
from promptready.resources import read_toml

FORMATS = ("markdown", "text", "xml")
TEXT_SLOT = "{text}"


@dataclass(frozen=True)
class Preset:
    """How to prepare text before it is enhanced, and the format to ask for."""

    name: str
    description: str = ""
    template: str = TEXT_SLOT
    tone: str = ""
    format: str = "markdown"
    builtin: bool = False

    def apply(self, text: str) -> str:
        """The text to enhance: wrapped in the template, with the tone as a last line."""
        wrapped = self.template.replace(TEXT_SLOT, text) if TEXT_SLOT in self.template else text
        return f"{wrapped}\n\nTone: {self.tone}." if self.tone.strip() else wrapped


def _parse(name: str, raw: object, builtin: bool, where: str) -> Preset:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{name}] must be a table; fix or delete it.")
    values = {k: raw.get(k, "") for k in ("description", "template", "tone", "format")}
    if not all(isinstance(v, str) for v in values.values()):
        raise ConfigError(f"{where}: every value of [{name}] must be text; fix or delete it.")
    fmt = values["format"] or "markdown"
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: [{name}].format must be one of {', '.join(FORMATS)}.")
    return Preset(
        name=name,
        description=values["description"],
        template=values["template"] or TEXT_SLOT,
        tone=values["tone"],
        format=fmt,
        builtin=builtin,
    )


def builtin_presets() -> list[Preset]:
    """The presets shipped with the app."""
    raw = read_toml("presets.toml")
    return [_parse(name, entry, True, "presets.toml") for name, entry in raw.items()]


class PresetStore:
    """Built-in plus user presets; only user presets are written, to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> list[Preset]:
        """Built-ins first, then the user's presets by name."""
        return [*builtin_presets(), *sorted(self._user().values(), key=lambda p: p.name)]

    def get(self, name: str) -> Preset:
        """The preset called ``name``; the first built-in when there is none."""
        found = {p.name: p for p in self.all()}
        return found.get(name) or builtin_presets()[0]

    def save(self, preset: Preset) -> Preset:
        """Add or replace a user preset; built-in names are refused."""
        name = preset.name.strip()
        if not name:
            raise ConfigError("Give the preset a name.")
        if name in {p.name for p in builtin_presets()}:
            raise ConfigError(f"{name} is a built-in preset; clone it to change it.")
        if preset.format not in FORMATS:
            raise ConfigError(f"The format must be one of {', '.join(FORMATS)}.")
        saved = replace(preset, name=name, builtin=False)
        self._write({**self._user(), name: saved})
        return saved

    def clone(self, name: str, new_name: str) -> Preset:
        """A user copy of any preset under ``new_name``."""
        if new_name in {p.name for p in self.all()}:
            raise ConfigError(f"A preset named {new_name} exists; pick another name.")
        return self.save(replace(self.get(name), name=new_name))

    def delete(self, name: str) -> bool:
        """Remove a user preset; built-ins cannot be removed."""
        if name in {p.name for p in builtin_presets()}:
            raise ConfigError(f"{name} is a built-in preset and cannot be deleted.")
        presets = self._user()
        if presets.pop(name, None) is None:
            return False
        self._write(presets)
        return True

    def _user(self) -> dict[str, Preset]:
        try:
            raw = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{self.path} could not be read ({exc}); fix or delete it.") from None
        return {n: _parse(n, e, False, str(self.path)) for n, e in raw.items()}

    def _write(self, presets: dict[str, Preset]) -> None:
        table: dict[str, Any] = {
            p.name: {
                "description": p.description,
                "template": p.template,
                "tone": p.tone,
                "format": p.format,
            }
            for p in sorted(presets.values(), key=lambda p: p.name)
        }
        write_private(self.path, tomli_w.dumps(table))
