"""Fixtures for the ledger tests: ledgers that are closed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from promptready.ledger.store import Ledger


@pytest.fixture
def open_ledger(tmp_path: Path) -> Iterator[Callable[..., Ledger]]:
    """Open ledgers (default: tmp_path/l.db); all are closed after the test."""
    opened: list[Ledger] = []

    def make(path: Path | None = None, store_prompts: bool = False) -> Ledger:
        ledger = Ledger(path or tmp_path / "l.db", store_prompts)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(open_ledger: Callable[..., Ledger]) -> Ledger:
    """A fresh ledger in tmp_path."""
    return open_ledger()
