"""The command line as a user runs it: arguments, stdin, JSON, errors and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from promptready import __version__
from promptready.cli import main
from promptready.commands.enhance import MAX_STDIN_BYTES, after_live_stream, read_stdin
from promptready.errors import InputError
from promptready.ui.app import ALREADY_RUNNING
from promptready.ui.single_instance import SingleInstance
from tests.fakes.upstream import FakeUpstream, Script

ROUGH = "write a python script that renames my photos by the date they were taken"


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console entry point in a real process."""
    return subprocess.run(
        [sys.executable, "-m", "promptready", *args],
        input=stdin.decode("utf-8", "replace") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"promptready {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["enhance", "--help"]])
def test_every_command_has_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 0
    assert "usage: promptready" in capsys.readouterr().out


def test_no_command_starts_the_desktop_app_or_focuses_the_running_one(
    qtbot: QtBot, capsys: pytest.CaptureFixture[str]
) -> None:
    running = SingleInstance()
    assert running.claim()
    with qtbot.waitSignal(running.activated, timeout=5000):
        assert main([]) == 0
    running.release()
    assert ALREADY_RUNNING in capsys.readouterr().err


def test_enhance_prints_the_prompt_with_the_users_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enhance", ROUGH]) == 0
    out = capsys.readouterr().out
    assert "renames my photos by the date they were taken" in out


def test_enhance_json_has_text_mode_analysis_and_changes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["enhance", "--json", ROUGH]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["mode"] == "offline"
    assert payload["format"] == "markdown"
    assert payload["analysis"]["task"] == "code"
    assert 0 <= payload["analysis"]["confidence"] <= 1
    assert isinstance(payload["analysis"]["lint"], list)
    assert isinstance(payload["changes"], list) and payload["changes"]
    assert ROUGH.rsplit(maxsplit=1)[-1] in payload["text"]


@pytest.mark.parametrize("fmt", ["markdown", "text", "xml"])
def test_enhance_honours_the_format(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enhance", "--json", "--format", fmt, ROUGH]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["format"] == fmt
    if fmt == "xml":
        assert "<task>" in payload["text"]


def test_enhance_reads_stdin_in_a_real_process() -> None:
    done = run_cli("enhance", stdin=ROUGH.encode())
    assert done.returncode == 0, done.stderr
    assert "renames my photos" in done.stdout


def test_enhance_with_empty_stdin_is_a_clear_error() -> None:
    done = run_cli("enhance", stdin=b"   \n")
    assert done.returncode == 1
    assert done.stderr.startswith("promptready: ")
    assert "Traceback" not in done.stderr


def test_ai_mode_without_a_provider_names_how_to_configure_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTREADY_CLOUD_URL", "http://127.0.0.1:9")  # credits unreachable
    assert main(["enhance", "--mode", "ai", ROUGH]) == 0  # the offline result, and why
    err = capsys.readouterr().err
    assert "promptready keys set" in err


def test_bad_format_choice_is_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["enhance", "--format", "html", ROUGH])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_broken_settings_file_warns_and_still_enhances(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = isolated_home / "promptready" / "config"
    config.mkdir(parents=True)
    (config / "settings.toml").write_text('[enhance]\nformat = "html"\n', encoding="utf-8")
    assert main(["enhance", ROUGH]) == 0
    captured = capsys.readouterr()
    assert "enhance.format" in captured.err
    assert "renames my photos" in captured.out


def test_stdin_that_is_not_utf8_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        read_stdin(io.BytesIO(b"caf\xe9 au lait"))


def test_stdin_over_the_limit_is_refused_without_reading_it_all() -> None:
    with pytest.raises(InputError, match="larger than"):
        read_stdin(io.BytesIO(b"a" * (MAX_STDIN_BYTES + 10)))


def test_unexpected_bug_leaves_a_crash_report(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("promptready.engine.Engine.enhance", explode)
    assert main(["enhance", ROUGH]) == 1
    err = capsys.readouterr().err
    assert "this is a bug" in err
    log = isolated_home / "promptready" / "logs" / "crash.log"
    assert "RuntimeError: boom" in log.read_text(encoding="utf-8")


def test_each_enhancement_is_one_ledger_row(capsys: pytest.CaptureFixture[str]) -> None:
    from promptready.ledger.store import Ledger
    from promptready.paths import app_paths

    assert main(["enhance", ROUGH]) == 0
    assert main(["enhance", ROUGH]) == 0
    rows = Ledger(app_paths().ledger_file).last(5)
    assert [(r["source"], r["mode"], r["status"]) for r in rows] == [("cli", "offline", "ok")] * 2
    assert rows[0]["prompt_text"] is None  # not stored unless the user opts in


def test_a_live_stream_that_cleaning_left_unchanged_just_ends_the_line() -> None:
    assert after_live_stream("## Task\nDo it.\n", "## Task\nDo it.") == "\n"


def test_a_live_stream_with_a_preamble_is_followed_by_the_cleaned_prompt() -> None:
    shown = after_live_stream("Sure! Here is your prompt:\n## Task\nDo it.", "## Task\nDo it.")
    assert shown.endswith("--- cleaned prompt ---\n## Task\nDo it.\n")


def test_piped_ai_mode_says_what_it_waits_for_and_gives_the_offline_result_at_the_deadline(
    upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTREADY_CLOUD_URL", "http://127.0.0.1:9")  # no credits to fall to
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-cli-test-0123456789\n"))
    assert main(["keys", "set", "fake", "--base-url", upstream.base_url, "--model", "slow"]) == 0
    for setting, value in [("ai.provider", "fake"), ("ai.deadline_s", "2")]:
        assert main(["config", "set", setting, value]) == 0
    upstream.script(*[Script(hang_s=30)] * 3)
    started = time.monotonic()
    done = run_cli("enhance", "--mode", "ai", ROUGH)  # stdout is a pipe, not a terminal
    took = time.monotonic() - started
    assert done.returncode == 0
    assert "promptready: waiting for fake/slow (up to 2 s more)…" in done.stderr
    assert "No model answered within 2 s" in done.stderr
    assert "renames my photos by the date they were taken" in done.stdout  # the offline result
    assert 2 <= took < 2 + 15  # the deadline, plus a loaded machine's interpreter start-up
