"""Every credits refusal is one sentence and one action (bad answers included)."""

from __future__ import annotations

from datetime import UTC, datetime

from promptready.providers.credits import refusal
from promptready.ui.credits.problems import credits_problem, credits_problem_for_reason
from promptready.ui.messages import Action, problem_for, problem_for_fallback

CAPACITY = b'{"status": "SERVICE_AT_CAPACITY", "resets_at": "2026-12-07T00:00:00+00:00"}'


def test_a_refused_sign_in_says_it_is_refreshing() -> None:
    problem = problem_for(refusal(401, b"{}", None))
    assert problem.text == "Your credits sign-in expired; refreshing it…"
    assert problem.action is Action.RETRY


def test_no_credits_offers_top_up() -> None:
    problem = credits_problem(refusal(402, b"{}", None))
    assert problem.action is Action.TOP_UP
    assert problem.text.endswith("so this is the offline result.")


def test_the_offline_result_of_a_402_offers_top_up() -> None:
    reason = f"AI mode failed, so this is the offline result: {refusal(402, b'{}', None)}"
    assert problem_for_fallback(reason).action is Action.TOP_UP


def test_a_rate_limit_says_how_many_seconds_to_wait() -> None:
    problem = credits_problem(refusal(429, b"{}", "7"))
    assert problem.text == "Too many requests for now; wait 7 s and retry."


def test_capacity_names_the_date_and_the_way_out() -> None:
    problem = credits_problem(refusal(503, CAPACITY, None, now=datetime(2026, 12, 1, tzinfo=UTC)))
    assert problem.text == (
        "PromptReady credits are at capacity this week; use your own key or offline "
        "until 2026-12-07 00:00 UTC."
    )
    assert problem.action is Action.ADD_KEY


def test_a_garbled_capacity_answer_still_gives_a_day() -> None:
    problem = credits_problem(
        refusal(503, b'{"status": "SERVICE_AT_CAPACITY", "resets_at": 5}', None)
    )
    assert problem.text.endswith("until next Monday.")


def test_a_plain_server_error_is_not_called_capacity() -> None:
    problem = credits_problem(refusal(503, b"not json", None))
    assert "capacity" not in problem.text
    assert problem.action is Action.RETRY


def test_other_reasons_are_left_to_the_general_wording() -> None:
    assert credits_problem_for_reason("The model judged this text not to be a prompt.") is None
