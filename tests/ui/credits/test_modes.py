"""The Mode choices: Offline and Credits always, AI (own key) only with a stored key."""

from __future__ import annotations

from promptready.engine import Mode
from promptready.secrets import ApiKey, SecretStore
from promptready.ui.context import DesktopContext
from promptready.ui.credits.modes import Choice, choices, choose, current, has_own_key


def test_without_a_key_the_choices_are_offline_and_credits(context: DesktopContext) -> None:
    assert not has_own_key()
    assert choices(context, has_own_key()) == [Choice.OFFLINE, Choice.CREDITS]


def test_a_stored_key_adds_ai_with_the_own_key(context: DesktopContext) -> None:
    SecretStore().set_key("openai", ApiKey("sk-test-own-key-123456"))
    assert choices(context, has_own_key()) == [Choice.OFFLINE, Choice.CREDITS, Choice.OWN_KEY]


def test_choosing_credits_then_own_key_switches_the_provider(ai_context: DesktopContext) -> None:
    choose(ai_context, Choice.CREDITS)
    assert current(ai_context, has_own_key()) is Choice.CREDITS
    choose(ai_context, Choice.OWN_KEY)
    assert ai_context.mode() is Mode.AI
    assert ai_context.settings.ai.provider == ""


def test_choosing_offline_is_offline_mode(ai_context: DesktopContext) -> None:
    choose(ai_context, Choice.OFFLINE)
    assert current(ai_context, has_own_key()) is Choice.OFFLINE
