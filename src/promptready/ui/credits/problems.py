"""Credit service refusals as the user sees them: one sentence, one action."""

from __future__ import annotations

import math

from promptready.providers.credits import OUT_OF_CREDITS, CreditsRefusedError, capacity_until
from promptready.providers.retry import parse_retry_after
from promptready.ui.messages import Action, Problem


def credits_problem(error: CreditsRefusedError) -> Problem:
    """The message and button for a refusal of the credit service (401, 402, 429, 503...)."""
    if error.status == 401:
        return Problem("Your credits sign-in expired; refreshing it…", Action.RETRY)
    if error.status == 402:
        return Problem(
            "You are out of PromptReady credits, so this is the offline result.", Action.TOP_UP
        )
    if error.status == 429:
        wait = parse_retry_after(error.retry_after) if error.retry_after else None
        seconds = max(1, math.ceil(wait)) if wait is not None else 1
        return Problem(f"Too many requests for now; wait {seconds} s and retry.", Action.RETRY)
    until = capacity_until(error)
    if until is not None:
        return Problem(
            f"PromptReady credits are at capacity this week; use your own key or offline "
            f"until {until}.",
            Action.ADD_KEY,
        )
    return Problem(str(error), Action.RETRY)


def out_of_credits(reason: str) -> bool:
    """Whether an offline result's reason is the credit service's 402 (no credits left)."""
    return OUT_OF_CREDITS in reason


def credits_problem_for_reason(reason: str) -> Problem | None:
    """The message for an AI run the credit service refused for want of credits, else None
    (its other refusals already read as one sentence with their action)."""
    if out_of_credits(reason):
        return Problem(
            "You are out of PromptReady credits, so this is the offline result.", Action.TOP_UP
        )
    return None
