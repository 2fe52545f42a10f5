"""A ledger record refuses values that would store a wrong row."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.ledger.makers import record


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError, match="bad ledger record browser"):
        record(source="browser")


def test_a_float_cost_is_refused() -> None:
    with pytest.raises(ValueError, match="finite Decimal"):
        record(cost_usd=0.1)


def test_a_timestamp_without_a_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        record(timestamp=datetime(2026, 11, 20, 12, 0))


def test_negative_token_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        record(prompt_tokens=-1)
