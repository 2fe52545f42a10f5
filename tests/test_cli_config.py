"""``promptready config``: where settings live, and any setting read or changed through the same
declarations as the file (bad values refused, nothing else in the file lost)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from promptready.cli import main
from promptready.commands.config import editor_command
from promptready.paths import app_paths
from promptready.settings import load_settings


def config(*args: str) -> int:
    return main(["config", *args])


def settings_file() -> Path:
    return app_paths().settings_file


def test_path_prints_the_settings_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert config("path") == 0
    assert capsys.readouterr().out.strip() == str(settings_file())


def test_set_writes_a_checked_value_that_get_reads_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert config("set", "gateway.port", "8790") == 0
    assert load_settings(settings_file()).settings.gateway.port == 8790
    capsys.readouterr()
    assert config("get", "gateway.port") == 0
    assert capsys.readouterr().out.strip() == "8790"


def test_text_settings_need_no_quotes() -> None:
    assert config("set", "ai.model", "llama3.1:8b") == 0
    assert load_settings(settings_file()).settings.ai.model == "llama3.1:8b"


def test_lists_and_tables_are_toml_values() -> None:
    assert config("set", "ai.fallbacks", '["groq/llama-3.1-8b-instant"]') == 0
    assert config("set", "ai.custom_models", '{ mylab = "qwen2.5" }') == 0
    ai = load_settings(settings_file()).settings.ai
    assert ai.fallbacks == ("groq/llama-3.1-8b-instant",)
    assert ai.custom_models == {"mylab": "qwen2.5"}


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("gateway.port", "99999", "at most 65535"),
        ("gateway.port", "eighty", "not a value"),
        ("desktop.theme", "purple", "one of system, light, dark"),
        ("gateway.monthly_cap_usd", "lots", "amount in USD"),
        ("ai.custom_providers", '{ mylab = "ftp://host" }', "not a usable base URL"),
        ("nosuch.key", "1", "not a setting"),
    ],
)
def test_a_bad_value_is_refused_and_nothing_is_written(
    key: str, value: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert config("set", key, value) != 0
    assert words in capsys.readouterr().err
    assert not settings_file().exists()


def test_set_keeps_every_other_setting() -> None:
    config("set", "ai.custom_providers", '{ mylab = "http://127.0.0.1:9/v1" }')
    config("set", "desktop.theme", "dark")
    settings = load_settings(settings_file()).settings
    assert settings.ai.custom_providers == {"mylab": "http://127.0.0.1:9/v1"}
    assert settings.desktop.theme == "dark"


def test_unset_restores_the_default() -> None:
    config("set", "gateway.port", "8790")
    assert config("unset", "gateway.port") == 0
    assert load_settings(settings_file()).settings.gateway.port == 8788


def test_get_without_a_key_prints_the_commented_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert config("get") == 0
    out = capsys.readouterr().out
    assert "# Port of the local API on 127.0.0.1." in out
    assert tomllib.loads(out)["gateway"]["port"] == 8788


def test_get_reports_a_bad_value_in_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text('[gateway]\nmonthly_cap_usd = "lots"\n')
    assert config("get", "gateway.monthly_cap_usd") == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == '""'
    assert "gateway.monthly_cap_usd" in captured.err and "lots" in captured.err


def write_editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        f"path.write_text(path.read_text().replace('port = 8788', {body!r}))\n"
    )
    return f"{sys.executable} {script}"


def test_edit_opens_the_editor_and_checks_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VISUAL", write_editor(tmp_path, "port = 8799"))
    assert config("edit") == 0
    assert load_settings(settings_file()).settings.gateway.port == 8799
    assert "is valid" in capsys.readouterr().out


def test_edit_reports_what_the_user_got_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VISUAL", write_editor(tmp_path, 'port = "high"'))
    assert config("edit") == 1
    assert "gateway.port must be a whole number" in capsys.readouterr().err


def test_edit_with_a_missing_editor_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VISUAL", "/nonexistent/editor")
    assert config("edit") != 0
    assert "set $EDITOR" in capsys.readouterr().err


def test_the_editor_comes_from_visual_then_editor_then_the_platform() -> None:
    assert editor_command({"VISUAL": "code -w", "EDITOR": "nano"}, "linux") == ["code", "-w"]
    assert editor_command({"EDITOR": "nano"}, "linux") == ["nano"]
    assert editor_command({}, "win32") == ["notepad"]
    assert editor_command({}, "linux") == ["vi"]
