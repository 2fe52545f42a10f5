"""Reading the credit service's answers: auto-reload's state, and a bad answer is one clear
sentence."""

from __future__ import annotations

import pytest

from promptready.providers.credits import CreditsError
from promptready.providers.credits_account import AutoReload, auto_reload_of

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
