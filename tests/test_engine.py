"""The engine: one entry point, modes and formats from settings or the caller, typed results."""

from __future__ import annotations

import pytest

from promptready.engine import Engine, Mode, parse_format, parse_mode
from promptready.enhance import OutputFormat
from promptready.errors import ConfigError, InputError
from promptready.settings import EnhanceSettings, Settings

ROUGH = "summarize the attached meeting notes for my manager in 5 bullet points"


def test_offline_is_the_default_mode() -> None:
    result = Engine().enhance(ROUGH)
    assert result.mode is Mode.OFFLINE
    assert result.format is OutputFormat.MARKDOWN
    assert "5 bullet points" in result.text


def test_format_and_mode_come_from_settings_when_not_given() -> None:
    engine = Engine(Settings(enhance=EnhanceSettings(format="xml")))
    assert engine.enhance(ROUGH).format is OutputFormat.XML


def test_caller_overrides_settings() -> None:
    engine = Engine(Settings(enhance=EnhanceSettings(format="xml")))
    assert engine.enhance(ROUGH, fmt="text").format is OutputFormat.TEXT


def test_ai_mode_without_a_provider_key_tries_credits_then_says_how_to_add_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTREADY_CLOUD_URL", "http://127.0.0.1:9")  # nothing listens there
    result = Engine().enhance(ROUGH, mode="ai")
    assert result.mode is Mode.OFFLINE and result.fallback_reason is not None
    assert "credit service" in result.fallback_reason
    assert "promptready keys set openai" in result.fallback_reason


def test_timings_are_measured() -> None:
    timings = Engine().enhance(ROUGH).timings
    assert 0 < timings.offline_ms <= timings.total_ms


def test_result_serialises_to_plain_json_types() -> None:
    payload = Engine().enhance(ROUGH).to_dict()
    assert payload["mode"] == "offline"
    assert set(payload) >= {"text", "mode", "format", "analysis", "changes", "timings"}


def test_empty_text_is_an_input_error() -> None:
    with pytest.raises(InputError):
        Engine().enhance("  \n\t ")


@pytest.mark.parametrize("bad", ["turbo", "", "AI mode"])
def test_unknown_mode_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="offline or ai"):
        parse_mode(bad)


def test_unknown_format_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="markdown, text, xml"):
        parse_format("html")


def test_mode_and_format_parse_case_insensitively() -> None:
    assert parse_mode(" AI ") is Mode.AI
    assert parse_format("XML") is OutputFormat.XML
