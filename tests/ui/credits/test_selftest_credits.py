"""``--self-test``'s credits line: checked against a configured credit service, skipped with a
clear line when none is configured, a FAIL line when it does not answer."""

from __future__ import annotations

import pytest

from promptready.selftest import check_credits, run_checks
from tests.e2e.conftest import RunningCloud


def test_the_configured_service_is_checked(cloud: RunningCloud) -> None:
    assert check_credits() == f"the credit service at {cloud.url} answers /healthz"


def test_with_no_service_configured_the_check_is_skipped_with_a_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMPTREADY_CLOUD_URL", raising=False)
    assert check_credits() == (
        "skipped: no credit service configured (credits.url or PROMPTREADY_CLOUD_URL)"
    )


def test_an_unreachable_service_is_a_fail_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTREADY_CLOUD_URL", "http://127.0.0.1:9")
    [check] = run_checks([("credits", check_credits)])
    assert not check.ok
    assert check.line().startswith("FAIL credits")


def test_a_bad_service_address_is_a_fail_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTREADY_CLOUD_URL", "http://example.com")
    [check] = run_checks([("credits", check_credits)])
    assert not check.ok and "PROMPTREADY_CLOUD_URL" in check.detail
