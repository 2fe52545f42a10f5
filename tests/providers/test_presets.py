"""Provider presets from resources/providers.toml: the shipped data, clear errors for bad data."""

from __future__ import annotations

from typing import Any

import pytest

from promptready.errors import ResourceError
from promptready.providers.presets import parse_presets, presets


def one(**fields: Any) -> dict[str, Any]:
    """providers.toml parsed, with one preset ``p`` holding ``fields`` on top of the required."""
    return {"p": {"title": "P", "base_url": "https://p.example/v1", **fields}}


def test_a_preset_reads_its_model_list() -> None:
    config = parse_presets(one(default_model="a", models=["a", "b"]))["p"]
    assert config.models == ("a", "b")


def test_a_preset_without_a_model_list_has_none() -> None:
    assert parse_presets(one(default_model="a"))["p"].models == ()


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("a", r"\[p\] is invalid \(models must be a list"),
        ({"a": 1}, r"\[p\] is invalid \(models must be a list"),
        (["a", 2], r"models\[1\] must be a model name in quotes, not 2"),
        (["a", ""], r"models\[1\] must be a model name in quotes"),
        (["a", "a"], "lists a model twice"),
    ],
)
def test_a_bad_model_list_is_a_clear_error(models: object, message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        parse_presets(one(default_model="a", models=models))


def test_a_model_list_without_the_default_model_is_a_clear_error() -> None:
    with pytest.raises(ResourceError, match="models must list default_model 'a'"):
        parse_presets(one(default_model="a", models=["b"]))


def test_a_default_model_that_is_not_a_name_is_a_clear_error() -> None:
    with pytest.raises(ResourceError, match="default_model must be a model name in quotes"):
        parse_presets(one(default_model=3))


def test_every_shipped_preset_that_needs_a_key_lists_its_default_model_first() -> None:
    keyed = [c for c in presets().values() if c.needs_key]
    assert keyed and all(c.models[:1] == (c.default_model,) for c in keyed)


def test_the_shipped_local_presets_list_no_models() -> None:
    assert presets()["ollama"].models == () and presets()["lmstudio"].models == ()
