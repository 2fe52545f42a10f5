"""The modes a user picks from (tray menu, first run): Offline, PromptReady credits, and AI with
their own key (offered only when they stored one). Credits is AI mode on the credits provider."""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from promptready.engine import Mode
from promptready.providers.credits import CREDITS
from promptready.secrets import SecretsError, SecretStore
from promptready.ui.context import DesktopContext


class Choice(StrEnum):
    """A mode as the user names it."""

    OFFLINE = "Offline"
    CREDITS = "Credits"
    OWN_KEY = "AI (own key)"


def has_own_key(store: SecretStore | None = None) -> bool:
    """Whether any provider key is stored (a locked keyring counts as none)."""
    try:
        return bool((store or SecretStore()).providers())
    except SecretsError:
        return False


def choices(context: DesktopContext, own_key: bool) -> list[Choice]:
    """What to offer: Offline always, Credits and AI (own key) where they apply."""
    if context.offline_only:
        return [Choice.OFFLINE]
    found = [Choice.OFFLINE, Choice.CREDITS]
    if own_key:
        found.append(Choice.OWN_KEY)
    return found


def current(context: DesktopContext, own_key: bool) -> Choice:
    """The mode in force now, as a choice (AI with no key stored goes through credits)."""
    if context.mode() is Mode.OFFLINE:
        return Choice.OFFLINE
    if context.settings.ai.provider == CREDITS or not own_key:
        return Choice.CREDITS
    return Choice.OWN_KEY


def choose(context: DesktopContext, choice: Choice) -> None:
    """Switch to ``choice`` and save it (own key: the provider picked from the keys again)."""
    settings = context.settings
    mode = Mode.OFFLINE if choice is Choice.OFFLINE else Mode.AI
    enhance = dataclasses.replace(settings.enhance, mode=mode.value)
    ai = settings.ai
    if choice is Choice.CREDITS:
        ai = dataclasses.replace(ai, provider=CREDITS, model="")
    elif choice is Choice.OWN_KEY and ai.provider == CREDITS:
        ai = dataclasses.replace(ai, provider="", model="")
    context.save_settings(dataclasses.replace(settings, enhance=enhance, ai=ai))
