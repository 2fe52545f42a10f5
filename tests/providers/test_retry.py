"""Retry decisions: exponential backoff, Retry-After honoured within a cap."""

from __future__ import annotations

import pytest

from promptready.providers.retry import RetryPolicy, is_retryable, parse_retry_after


def test_backoff_doubles_until_attempts_run_out() -> None:
    policy = RetryPolicy(attempts=4, base_delay_s=0.5, max_delay_s=10)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, None]


def test_backoff_is_capped() -> None:
    assert RetryPolicy(attempts=10, base_delay_s=1, max_delay_s=3).delay(6) == 3


def test_retry_after_seconds_replaces_backoff() -> None:
    assert RetryPolicy().delay(1, "2") == 2.0


def test_retry_after_too_long_moves_on_instead_of_waiting() -> None:
    assert RetryPolicy(max_retry_after_s=5).delay(1, "120") is None


def test_retry_after_http_date_is_understood() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


@pytest.mark.parametrize("junk", ["soon", "", "nan", "inf", "-5"])
def test_unreadable_or_negative_retry_after_is_not_trusted(junk: str) -> None:
    assert parse_retry_after(junk) in (None, 0.0)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, True), (503, True), (500, True), (400, False), (401, False), (404, False)],
)
def test_only_transient_statuses_are_retryable(status: int, expected: bool) -> None:
    assert is_retryable(status) is expected
