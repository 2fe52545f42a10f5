"""Resources: found the same way from a checkout, a wheel or a bundle; clear errors when missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptready import resources
from promptready.errors import ResourceError


def test_resources_dir_is_found() -> None:
    assert (resources.resources_dir() / "README.md").is_file()


def test_missing_resource_is_a_clear_error() -> None:
    with pytest.raises(ResourceError, match="reinstall"):
        resources.read_text("does/not/exist.toml")


def test_broken_toml_resource_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = tmp_path / "res"
    root.mkdir()
    (root / "README.md").write_text("x")
    (root / "bad.toml").write_text("[[[")
    monkeypatch.setattr(resources, "resources_dir", lambda: root)
    with pytest.raises(ResourceError, match="not valid TOML"):
        resources.read_toml("bad.toml")
