"""Presets as data: built-ins read-only, user presets saved, cloned and deleted."""

from __future__ import annotations

import pytest

from promptready.errors import ConfigError
from promptready.paths import app_paths
from promptready.presets import Preset, PresetStore, builtin_presets


@pytest.fixture
def store() -> PresetStore:
    return PresetStore(app_paths().config_dir / "presets.toml")


def test_builtins_load_from_resources() -> None:
    names = [p.name for p in builtin_presets()]
    assert names[0] == "plain" and "claude-xml" in names
    assert all(p.builtin for p in builtin_presets())


def test_apply_wraps_the_text_and_adds_the_tone() -> None:
    preset = Preset("x", template="Explain:\n\n{text}", tone="friendly")
    assert preset.apply("tcp vs udp") == "Explain:\n\ntcp vs udp\n\nTone: friendly."
    assert Preset("plain").apply("as is") == "as is"


def test_builtins_cannot_be_changed_or_deleted(store: PresetStore) -> None:
    with pytest.raises(ConfigError, match="clone it"):
        store.save(Preset("plain", tone="loud"))
    with pytest.raises(ConfigError, match="cannot be deleted"):
        store.delete("plain")


def test_a_clone_is_a_user_preset_saved_to_the_config_folder(store: PresetStore) -> None:
    clone = store.clone("claude-xml", "mine")
    assert not clone.builtin and clone.format == "xml"
    store.save(Preset("mine", tone="terse", format="text"))
    assert PresetStore(store.path).get("mine") == Preset("mine", tone="terse", format="text")
    assert store.delete("mine") and not store.delete("mine")


def test_a_clone_needs_a_free_name(store: PresetStore) -> None:
    with pytest.raises(ConfigError, match="exists"):
        store.clone("plain", "concise")


def test_a_broken_user_file_is_a_clear_error(store: PresetStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text('[x]\nformat = "pdf"\n')
    with pytest.raises(ConfigError, match="format must be one of"):
        store.all()
