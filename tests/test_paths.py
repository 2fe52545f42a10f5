"""Paths: PROMPTREADY_HOME moves everything; nothing is created until asked."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptready.paths import (
    app_paths,
    open_private_append,
    private_dir,
    private_file,
    too_open,
    write_private,
)


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


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what most systems use: 0755 folders, 0644 files by default
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("usual_umask")
def test_every_missing_parent_is_created_private(tmp_path: Path) -> None:
    leaf = private_dir(tmp_path / "a" / "b" / "c")
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", leaf)] == [0o700] * 3


@pytest.mark.usefixtures("usual_umask")
def test_a_private_file_is_created_0600_and_keeps_what_it_holds(tmp_path: Path) -> None:
    path = private_file(tmp_path / "data" / "ledger.sqlite3")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    path.write_bytes(b"rows")
    assert private_file(path).read_bytes() == b"rows"


@pytest.mark.usefixtures("usual_umask")
def test_write_private_replaces_the_file_atomically_and_privately(tmp_path: Path) -> None:
    path = tmp_path / "config" / "settings.toml"
    leftover = path.with_name("settings.toml.tmp")
    path.parent.mkdir()
    leftover.write_text("from a crash")
    leftover.chmod(0o644)
    write_private(path, "a = 1\n")
    write_private(path, "a = 2\n")
    assert path.read_text() == "a = 2\n" and mode(path) == 0o600
    assert not leftover.exists()


@pytest.mark.usefixtures("usual_umask")
def test_a_crash_log_descriptor_appends_to_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "crash.log"
    for text in (b"one\n", b"two\n"):
        fd = open_private_append(path)
        os.write(fd, text)
        os.close(fd)
    assert path.read_bytes() == b"one\ntwo\n" and mode(path) == 0o600


def test_too_open_lists_what_others_can_read(tmp_path: Path) -> None:
    root = private_dir(tmp_path / "root")
    (root / "ok").write_bytes(b"")
    (root / "ok").chmod(0o600)
    (root / "open").write_bytes(b"")
    (root / "open").chmod(0o644)
    (root / "shared").mkdir(mode=0o755)
    (root / "shared").chmod(0o755)
    assert too_open(root) == [root / "open", root / "shared"]
