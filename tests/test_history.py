"""The popup's history: newest first, searchable, favourites kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from promptready import history as history_module
from promptready.history import History
from promptready.paths import app_paths


@pytest.fixture
def history() -> Iterator[History]:
    store = History(app_paths().data_dir / "history.sqlite3")
    yield store
    store.close()


def test_entries_come_back_newest_first(history: History) -> None:
    history.add("offline", "plain", "first", "1")
    history.add("ai", "plain", "second", "2")
    assert [e.input for e in history.search()] == ["second", "first"]


def test_search_matches_input_or_output_and_treats_wildcards_literally(history: History) -> None:
    history.add("offline", "plain", "email my landlord", "## Task")
    history.add("offline", "plain", "100% sure", "out")
    assert [e.input for e in history.search("LANDLORD")] == ["email my landlord"]
    assert [e.input for e in history.search("task")] == ["email my landlord"]
    assert [e.input for e in history.search("0%")] == ["100% sure"]


def test_favourites_survive_pruning_and_clearing(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "KEEP", 2)
    keep = history.add("offline", "plain", "keep me", "x")
    history.set_favourite(keep, True)
    for n in range(4):
        history.add("offline", "plain", f"n{n}", "x")
    assert [e.input for e in history.search()] == ["n3", "n2", "keep me"]
    assert history.clear() == 2
    assert [e.input for e in history.search(favourites_only=True)] == ["keep me"]


def test_the_history_file_and_its_wal_are_private_from_the_start() -> None:
    import os
    import stat

    previous = os.umask(0o022)
    try:
        store = History(app_paths().data_dir / "history.sqlite3")
        store.conn.execute("PRAGMA journal_mode=WAL")
        store.add("offline", "plain", "secret prompt", "out")
        files = sorted(store.path.parent.glob("history.sqlite3*"))
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
        store.close()
    finally:
        os.umask(previous)
    assert modes == {
        "history.sqlite3": 0o600,
        "history.sqlite3-shm": 0o600,
        "history.sqlite3-wal": 0o600,
    }
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def test_the_same_enhancement_twice_is_one_entry(history: History) -> None:
    first = history.add("offline", "default", "write a haiku", "Write a haiku.")
    again = history.add("offline", "default", "write a haiku", "Write a haiku.")
    assert again == first and len(history.search()) == 1
    history.add("offline", "default", "write a limerick", "Write a limerick.")
    history.add("offline", "default", "write a haiku", "Write a haiku.")  # not the newest: kept
    assert len(history.search()) == 3
