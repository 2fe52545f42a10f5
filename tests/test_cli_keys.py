"""``promptready keys``: keys go in through stdin, come out masked, and are checked for real."""

from __future__ import annotations

import dataclasses
import io

import pytest

from promptready.cli import main
from promptready.paths import app_paths
from promptready.settings import load_settings, save_settings
from tests.fakes.upstream import FakeUpstream, Script

KEY = "sk-cli-test-key-0123456789-SECRET"


@pytest.fixture
def stdin_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))


def keys(*args: str) -> int:
    return main(["keys", *args])


@pytest.mark.usefixtures("stdin_key")
def test_set_reads_the_key_from_stdin_and_prints_it_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert keys("set", "openai") == 0
    captured = capsys.readouterr()
    assert "Saved the openai key (…CRET)" in captured.out
    assert KEY not in captured.out + captured.err
    assert "not a secure OS keyring" in captured.err  # the test backend is a plain file


@pytest.mark.usefixtures("stdin_key")
def test_list_shows_masked_keys(capsys: pytest.CaptureFixture[str]) -> None:
    keys("set", "groq")
    capsys.readouterr()
    assert keys("list") == 0
    out = capsys.readouterr().out
    assert "groq" in out and "…CRET" in out and "https://api.groq.com/openai/v1" in out
    assert KEY not in out


def test_list_with_no_keys_says_how_to_add_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert keys("list") == 0
    assert "promptready keys set openai" in capsys.readouterr().out


@pytest.mark.usefixtures("stdin_key")
def test_custom_provider_needs_and_saves_a_base_url(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys("set", "mylab", "--base-url", upstream.base_url + "/") == 0
    saved = load_settings(app_paths().settings_file).settings.ai.custom_providers
    assert saved == {"mylab": upstream.base_url}


def test_unknown_provider_without_base_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert keys("set", "mylab") == 1
    assert "--base-url" in capsys.readouterr().err


@pytest.mark.usefixtures("stdin_key")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "openai", "--base-url", "https://example.test/v1"], "built-in provider"),
        (["set", "mylab", "--base-url", "ftp://example.test"], "not a usable base URL"),
        (["set", "mylab", "--base-url", "https://u:p@example.test/v1"], "not in the base URL"),
        (["set", "bad name"], "not a valid provider name"),
    ],
)
def test_bad_set_arguments_are_clear_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys(*args) == 1
    assert message in capsys.readouterr().err


def test_empty_stdin_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert keys("set", "openai") == 1
    assert "No key on standard input" in capsys.readouterr().err


@pytest.mark.usefixtures("stdin_key")
def test_test_reports_a_valid_key(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("set", "mylab", "--base-url", upstream.base_url)
    capsys.readouterr()
    assert keys("test", "mylab") == 0
    assert capsys.readouterr().out.startswith("valid: The mylab key works (2 models)")
    assert upstream.seen[-1].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.usefixtures("stdin_key")
def test_test_reports_an_invalid_key(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream.valid_keys = frozenset({"other"})
    keys("set", "mylab", "--base-url", upstream.base_url)
    capsys.readouterr()
    assert keys("test", "mylab") == 1
    out = capsys.readouterr().out
    assert out.startswith("invalid key:") and KEY not in out


@pytest.mark.usefixtures("stdin_key")
def test_test_reports_no_network(capsys: pytest.CaptureFixture[str]) -> None:
    keys("set", "gone", "--base-url", "http://127.0.0.1:9/v1")
    capsys.readouterr()
    assert keys("test", "gone") == 1
    assert capsys.readouterr().out.startswith("no network:")


@pytest.mark.usefixtures("stdin_key")
def test_remove_deletes_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    keys("set", "openai")
    assert keys("remove", "openai") == 0
    assert keys("remove", "openai") == 1
    assert "no openai key" in capsys.readouterr().out


@pytest.mark.usefixtures("stdin_key")
def test_enhance_ai_mode_end_to_end(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("set", "mylab", "--base-url", upstream.base_url)
    path = app_paths().settings_file
    settings = load_settings(path).settings
    ai = dataclasses.replace(settings.ai, provider="mylab", model="fake-gpt")
    save_settings(dataclasses.replace(settings, ai=ai), path)
    capsys.readouterr()
    upstream.script(Script(content="Write a haiku about green tea, in three short lines."))
    assert main(["enhance", "--mode", "ai", "write a haiku about tea"]) == 0
    assert capsys.readouterr().out == "Write a haiku about green tea, in three short lines.\n"


@pytest.mark.usefixtures("stdin_key")
def test_an_ai_answer_that_drops_the_users_words_gives_the_offline_prompt(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("set", "mylab", "--base-url", upstream.base_url, "--model", "fake-gpt")
    capsys.readouterr()
    upstream.script(Script(content="Rewritten prompt for fake-gpt"))
    assert main(["enhance", "--mode", "ai", "write a haiku about tea"]) == 0
    captured = capsys.readouterr()
    assert "haiku about tea" in captured.out and "Rewritten" not in captured.out
    assert "kept too little of what you wrote" in captured.err


@pytest.mark.usefixtures("stdin_key")
def test_the_key_appears_in_no_output_log_or_ledger_row(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    keys("set", "mylab", "--base-url", upstream.base_url)
    path = app_paths().settings_file
    settings = load_settings(path).settings
    ai = dataclasses.replace(settings.ai, provider="mylab", model="fake-gpt")
    save_settings(dataclasses.replace(settings, ai=ai), path)
    upstream.script(Script(status=500), Script(status=500), Script(status=500))
    main(["enhance", "--mode", "ai", "write a haiku"])  # fails over to offline
    main(["enhance", "--mode", "ai", "--json", "write a haiku"])  # succeeds
    main(["keys", "test", "mylab"])
    main(["usage", "export", "--format", "json"])
    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text + path.read_text(encoding="utf-8")
    for stored in app_paths().data_dir.iterdir():  # the ledger and its WAL file
        everything += stored.read_bytes().decode("utf-8", "replace")
    assert upstream.seen[-1].headers["authorization"] == f"Bearer {KEY}"  # it was really used
    assert KEY not in everything


@pytest.mark.usefixtures("stdin_key")
def test_a_custom_provider_with_a_model_works_in_ai_mode_at_once(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys("set", "mylab", "--base-url", upstream.base_url, "--model", "fake-gpt") == 0
    assert load_settings(app_paths().settings_file).settings.ai.custom_models == {
        "mylab": "fake-gpt"
    }
    capsys.readouterr()
    assert main(["enhance", "--mode", "ai", "write a haiku about tea"]) == 0
    assert upstream.seen[-1].body["model"] == "fake-gpt"


@pytest.mark.usefixtures("stdin_key")
def test_a_custom_provider_without_a_model_is_told_how_to_name_one(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert keys("set", "mylab", "--base-url", upstream.base_url) == 0
    assert "promptready keys set mylab --model MODEL" in capsys.readouterr().out


@pytest.mark.usefixtures("stdin_key")
def test_test_lists_the_models_to_choose_from(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("set", "mylab", "--base-url", upstream.base_url)
    capsys.readouterr()
    keys("test", "mylab")
    assert "Models: fake-gpt, gpt-4o-mini" in capsys.readouterr().out  # sorted


@pytest.mark.usefixtures("stdin_key")
def test_removing_a_custom_provider_forgets_its_url_and_model(
    upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    keys("set", "mylab", "--base-url", upstream.base_url, "--model", "fake-gpt")
    assert keys("remove", "mylab") == 0
    ai = load_settings(app_paths().settings_file).settings.ai
    assert ai.custom_providers == {} and ai.custom_models == {}
    assert "Removed the custom provider mylab and its key." in capsys.readouterr().out
