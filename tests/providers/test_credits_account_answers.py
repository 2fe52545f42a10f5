"""Reading the credit service's answers: auto-reload's state and this month's use; a bad answer
is one clear sentence."""

from __future__ import annotations

import pytest

from promptready.providers.credits import CreditsError
from promptready.providers.credits_account import (
    AutoReload,
    auto_reload_of,
    wallet_lines,
    wallet_of,
)

ON = {
    "enabled": True,
    "off_reason": None,
    "has_payment_method": True,
    "below": 50,
    "pack": "Starter",
}


def test_auto_reload_is_read_from_the_services_answer() -> None:
    assert auto_reload_of(ON) == AutoReload(True, None, True, 50, "Starter")


def test_the_servers_reason_for_turning_it_off_is_kept() -> None:
    state = auto_reload_of({**ON, "enabled": False, "off_reason": "your bank asked to confirm"})
    assert not state.enabled and state.off_reason == "your bank asked to confirm"


@pytest.mark.parametrize(
    "bad",
    [{**ON, "off_reason": 5}, {**ON, "enabled": "yes"}, {**ON, "below": "50"}, {}],
)
def test_a_malformed_answer_is_a_clear_error(bad: dict[str, object]) -> None:
    with pytest.raises(CreditsError, match="credit service"):
        auto_reload_of(bad)


WALLET = {"credits_remaining": 9, "buckets": {"free": 9}, "reserved": 0, "cohort": "A"}


def test_this_months_use_is_read_and_shown() -> None:
    wallet = wallet_of({**WALLET, "plan": "free", "used_this_month": 16})
    assert wallet.used_month == 16
    assert "Used this month: 16" in wallet_lines(wallet)


def test_a_service_that_does_not_say_this_months_use_leaves_the_line_out() -> None:
    wallet = wallet_of({**WALLET, "plan": "free"})
    assert wallet.used_month is None
    assert not any(line.startswith("Used this month") for line in wallet_lines(wallet))


@pytest.mark.parametrize("bad", ["16", 1.5, True, [16]])
def test_a_malformed_use_is_a_clear_error(bad: object) -> None:
    with pytest.raises(CreditsError, match="used_this_month is not a whole number"):
        wallet_of({**WALLET, "plan": "free", "used_this_month": bad})
