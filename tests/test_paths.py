"""Paths: PROMPTREADY_HOME moves everything; nothing is created until asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptready.paths import app_paths


def test_home_override_puts_every_dir_under_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMPTREADY_HOME", str(tmp_path))
    paths = app_paths()
    for directory in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir):
        assert directory.is_relative_to(tmp_path)
    assert paths.settings_file.name == "settings.toml"
    assert paths.ledger_file.parent == paths.data_dir


def test_without_override_platform_dirs_are_used(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.delenv("PROMPTREADY_HOME")
    paths = app_paths()
    assert "promptready" in str(paths.config_dir).lower()
    assert paths.config_dir.is_relative_to(isolated_home)  # conftest points XDG dirs there


def test_resolving_paths_creates_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMPTREADY_HOME", str(tmp_path / "root"))
    app_paths()
    assert not (tmp_path / "root").exists()


def test_ensure_creates_a_private_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMPTREADY_HOME", str(tmp_path))
    paths = app_paths()
    created = paths.ensure(paths.data_dir)
    assert created.is_dir()
    assert created.stat().st_mode & 0o077 == 0
