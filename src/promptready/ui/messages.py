"""Failures as the user sees them: one sentence of what happened and one action to take."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from promptready.errors import ConfigError, InputError, NotConfiguredError, PromptReadyError
from promptready.ui.wording import for_the_gui

_WHICH_MODEL = re.compile(r"Say which (?P<provider>\S+) model to use")


class Action(StrEnum):
    """What the one button next to a message does."""

    ADD_KEY = "Add a key"
    CHECK_KEY = "Check the key"
    RETRY = "Retry"
    OPEN_SETTINGS = "Open Settings"
    TOP_UP = "Top up"
    NONE = ""


@dataclass(frozen=True)
class Problem:
    """What went wrong, and the action that fixes it."""

    text: str
    action: Action


def problem_for(error: BaseException) -> Problem:
    """The message for an exception an enhancement raised (the keyring's included)."""
    from promptready.providers.credits import CreditsRefusedError
    from promptready.secrets import SecretsError

    if isinstance(error, CreditsRefusedError):
        from promptready.ui.credits.problems import credits_problem

        return credits_problem(error)
    if isinstance(error, NotConfiguredError):
        which = _WHICH_MODEL.match(str(error))
        if which:
            return Problem(
                f"Choose the model {which['provider']} should use (Settings → AI keys, Edit); "
                "this is the offline result.",
                Action.ADD_KEY,
            )
        return Problem(
            "AI mode needs a provider key, so this is the offline result.", Action.ADD_KEY
        )
    if isinstance(error, SecretsError):
        return Problem(
            "Your keyring is locked or unavailable, so this is the offline result; "
            "unlock it and retry.",
            Action.RETRY,
        )
    if isinstance(error, InputError):
        return Problem(for_the_gui(str(error)), Action.NONE)
    if isinstance(error, ConfigError):
        return Problem(for_the_gui(str(error)), Action.OPEN_SETTINGS)
    if isinstance(error, PromptReadyError):
        return Problem(for_the_gui(str(error)), Action.RETRY)
    return Problem(
        f"Something unexpected went wrong ({type(error).__name__}); this is the offline result.",
        Action.RETRY,
    )


def problem_for_fallback(reason: str) -> Problem:
    """The message for an AI call that fell back to the offline result."""
    from promptready.ui.credits.problems import credits_problem_for_reason

    credits = credits_problem_for_reason(reason)
    if credits is not None:
        return credits
    lowered = reason.lower()
    if "key" in lowered and ("reject" in lowered or "401" in lowered or "403" in lowered):
        return Problem(for_the_gui(reason), Action.CHECK_KEY)
    return Problem(for_the_gui(reason), Action.RETRY)
