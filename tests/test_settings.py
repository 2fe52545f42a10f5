"""Settings: declared once, validated by key, never stopping the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptready.setting_edits import (
    forget_custom_provider,
    merge_settings,
    set_setting,
    with_custom_provider,
)
from promptready.settings import (
    Settings,
    describe_settings,
    load_settings,
    parse_settings,
    save_settings,
    settings_to_toml,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults_and_no_problems(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path / "absent.toml")
    assert loaded.settings == Settings()
    assert loaded.problems == ()


def test_valid_values_are_used(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.toml",
        '[enhance]\nformat = "xml"\nmode = "ai"\n[privacy]\nstore_prompts = true\n',
    )
    loaded = load_settings(path)
    assert loaded.settings.enhance.format == "xml"
    assert loaded.settings.enhance.mode == "ai"
    assert loaded.settings.privacy.store_prompts is True
    assert loaded.problems == ()


def test_bad_choice_names_the_key_and_falls_back_to_default(tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", '[enhance]\nformat = "html"\nmode = "ai"\n')
    loaded = load_settings(path)
    assert loaded.settings.enhance.format == "markdown"
    assert loaded.settings.enhance.mode == "ai"  # the good value next to it survives
    assert len(loaded.problems) == 1
    assert "enhance.format" in loaded.problems[0]
    assert "'html'" in loaded.problems[0]


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[privacy]\nstore_prompts = 1\n", "privacy.store_prompts"),
        ('[privacy]\nstore_prompts = "yes"\n', "privacy.store_prompts"),
        ("[enhance]\nformat = 3\n", "enhance.format"),
        ('[enhance]\ncolour = "red"\n', "enhance.colour"),
        ("[nonsense]\nx = 1\n", "[nonsense]"),
        ('enhance = "markdown"\n', "[enhance]"),
    ],
)
def test_wrong_types_and_unknown_keys_are_reported_by_name(
    tmp_path: Path, toml: str, key: str
) -> None:
    loaded = load_settings(write(tmp_path / "s.toml", toml))
    assert loaded.settings == Settings()
    assert any(key in p for p in loaded.problems), loaded.problems


def test_broken_toml_gives_defaults_and_says_where(tmp_path: Path) -> None:
    loaded = load_settings(write(tmp_path / "s.toml", "[enhance\nformat = \n"))
    assert loaded.settings == Settings()
    assert "not valid TOML" in loaded.problems[0]
    assert "line 1" in loaded.problems[0]


def test_binary_file_gives_defaults_and_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    loaded = load_settings(path)
    assert loaded.settings == Settings()
    assert loaded.problems


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    settings, _ = parse_settings(
        {"enhance": {"format": "text"}, "privacy": {"store_prompts": True}}
    )
    path = tmp_path / "nested" / "settings.toml"
    save_settings(settings, path)
    assert load_settings(path).settings == settings
    assert not list(path.parent.glob("*.tmp"))


def test_defaults_render_as_valid_toml() -> None:
    text = settings_to_toml(Settings())
    assert parse_settings(__import__("tomllib").loads(text)) == (Settings(), [])


def test_every_setting_is_described_with_help() -> None:
    rows = describe_settings()
    keys = [key for key, _, _, _ in rows]
    assert "enhance.format" in keys and "privacy.store_prompts" in keys
    assert all(help_text for _, _, _, help_text in rows)


def test_price_overrides_are_read_and_written_as_exact_decimals(tmp_path: Path) -> None:
    from decimal import Decimal

    path = write(
        tmp_path / "s.toml", '[pricing.models."openai/gpt-4o"]\ninput = "1.25"\noutput = "5"\n'
    )
    loaded = load_settings(path)
    assert loaded.problems == ()
    price = loaded.settings.pricing.models["openai/gpt-4o"]
    assert price.input == Decimal("1.25")
    save_settings(loaded.settings, path)
    assert load_settings(path).settings == loaded.settings


def test_a_price_override_with_a_cached_price_and_a_long_context_tier_survives_a_save(
    tmp_path: Path,
) -> None:
    text = (
        '[pricing.models."gemini/gemini-2.5-pro"]\ninput = "1"\noutput = "2"\n'
        'cached_input = "0.25"\nlong_context = { above = 1000, input = "2", output = "4" }\n'
    )
    loaded = load_settings(write(tmp_path / "s.toml", text))
    assert loaded.problems == ()
    save_settings(loaded.settings, tmp_path / "s.toml")
    assert load_settings(tmp_path / "s.toml").settings == loaded.settings


def test_bad_price_override_names_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.toml", '[pricing.models."openai/gpt-4o"]\ninput = 1.25\noutput = "5"\n'
    )
    problems = load_settings(path).problems
    assert any("pricing.models.openai/gpt-4o.input" in p for p in problems), problems


def test_the_file_has_a_comment_for_every_setting() -> None:
    text = settings_to_toml(Settings())
    for key, _, _, help_text in describe_settings():
        name = key.split(".")[1]
        assert f"# {help_text}\n{name} = " in text


@pytest.mark.parametrize("cap", ["lots", "-5", "NaN", 20])
def test_a_bad_monthly_cap_falls_back_to_no_cap_and_is_reported(cap: object) -> None:
    settings, problems = parse_settings({"gateway": {"monthly_cap_usd": cap}})
    assert settings.gateway.monthly_cap_usd == ""
    assert len(problems) == 1 and "gateway.monthly_cap_usd" in problems[0]


def test_a_custom_model_needs_a_name() -> None:
    settings, problems = parse_settings({"ai": {"custom_models": {"mylab": " "}}})
    assert settings.ai.custom_models == {} and "ai.custom_models.mylab" in problems[0]


def test_merge_keeps_what_the_window_did_not_change() -> None:
    shown = Settings()
    saved = set_setting(shown, "desktop.theme", "dark")
    on_disk = set_setting(shown, "ai.custom_providers", '{ mylab = "http://127.0.0.1:9/v1" }')
    merged = merge_settings(shown, saved, on_disk)
    assert merged.desktop.theme == "dark"
    assert merged.ai.custom_providers == {"mylab": "http://127.0.0.1:9/v1"}


def test_forgetting_a_custom_provider_clears_it_as_the_default() -> None:
    settings = with_custom_provider(Settings(), "mylab", "http://127.0.0.1:9/v1/", "qwen")
    settings = set_setting(settings, "ai.provider", "mylab")
    assert settings.ai.custom_providers == {"mylab": "http://127.0.0.1:9/v1"}
    forgotten = forget_custom_provider(settings, "mylab")
    assert forgotten.ai == Settings().ai


def test_the_readme_lists_every_setting_as_declared() -> None:
    from promptready.settings import settings_table

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    listed = readme.split("<!-- settings:begin -->\n")[1].split("\n<!-- settings:end -->")[0]
    assert listed == settings_table(), "regenerate the README's table from settings_table()"
