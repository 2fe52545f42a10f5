"""AI mode with no provider key, end to end: ``promptready enhance --mode ai`` → the credit proxy
→ the fake upstream, one desktop ledger row that agrees with the cloud's debit, and the
service's refusals (402, 429, 503) as one sentence each with the offline result."""

from __future__ import annotations

import json
import os
import stat
import uuid
from typing import Any

import pytest

from promptready.cli import main
from promptready.cloud.wallet import LedgerKind
from promptready.ledger.store import Ledger
from promptready.paths import app_paths
from promptready.pricing import load_rate_card
from promptready.providers.credits_auth import DEVICE_FILE
from promptready.secrets import ApiKey, SecretStore
from tests.e2e.conftest import FAITHFUL_REWRITE, RunningCloud, StartCloud, this_device
from tests.fakes.upstream import PROMPT_TOKENS, FakeUpstream, Script

ROUGH = "write a python script that renames my photos by the date they were taken"
MASTER_KEY = "sk-master-key-for-tests"  # the cloud's upstream key (tests.cloud.http.conftest)


def enhance_json(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    assert main(["enhance", "--mode", "ai", "--json", ROUGH]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), err


def last_row() -> dict[str, Any]:
    ledger = Ledger(app_paths().ledger_file)
    try:
        [row] = ledger.last(1)
    finally:
        ledger.close()
    return row


def debited(cloud: RunningCloud, device: uuid.UUID) -> int:
    return -sum(e.delta for e in cloud.ledger(device) if e.kind is LedgerKind.DEBIT)


def test_ai_mode_with_no_key_enhances_through_the_credit_proxy(
    start_cloud: StartCloud, upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    start_cloud()
    result, err = enhance_json(capsys)
    assert result["mode"] == "ai" and result["fallback_reason"] is None, err
    assert result["ai"]["provider"] == "credits"
    assert result["text"] == FAITHFUL_REWRITE
    [chat] = [s for s in upstream.seen if s.path.endswith("/chat/completions")]
    assert chat.body["model"] == "gpt-4o-mini"  # the cohort's model
    assert chat.headers["authorization"] == f"Bearer {MASTER_KEY}"  # the device token stays home


def test_the_desktop_row_and_the_clouds_debit_agree(
    start_cloud: StartCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = start_cloud()
    result, _ = enhance_json(capsys)
    row = last_row()
    charged = debited(cloud, this_device())
    assert charged >= 1
    assert row["mode"] == "credits" and row["status"] == "ok" and row["provider"] == "credits"
    assert row["credits"] == charged
    assert row["prompt_tokens"] == PROMPT_TOKENS == result["ai"]["prompt_tokens"]
    assert row["completion_tokens"] == result["ai"]["completion_tokens"] > 0
    # Paid in credits; its dollars are the credits at the dearest pack's price (budgets count it).
    assert row["cost_usd"] == str(load_rate_card().credits_usd(charged)) and not row["unpriced"]


def test_the_row_records_what_the_cohort_model_was_charged(
    start_cloud: StartCloud, upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    # gpt-4o costs twice the credits of the model the desktop names (credits/default): only the
    # service knows which model answered, so the row must take its number, not compute its own.
    cloud = start_cloud(COHORTS="A:1:gpt-4o")
    upstream.default = Script(content=" ".join([FAITHFUL_REWRITE] * 30))  # ≈ 660 tokens
    enhance_json(capsys)
    charged = debited(cloud, this_device())
    assert charged == 2
    assert last_row()["credits"] == charged


def test_usage_shows_the_credits_spent(
    start_cloud: StartCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = start_cloud()
    enhance_json(capsys)
    enhance_json(capsys)
    assert main(["usage", "--by", "mode", "--json"]) == 0
    totals = {t["key"]: t for t in json.loads(capsys.readouterr().out)}
    assert totals["credits"]["calls"] == 2
    assert totals["credits"]["credits"] == debited(cloud, this_device())


def test_the_device_registers_once_and_later_runs_sign_in_with_its_secret(
    start_cloud: StartCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = start_cloud()
    enhance_json(capsys)
    enhance_json(capsys)  # a new process's worth of state: the token is not kept on disk
    assert cloud.count("/api/v1/auth/device") == 1
    assert cloud.count("/api/v1/auth/refresh") == 1
    assert SecretStore().get_device_secret(cloud.url) is not None
    path = app_paths().data_dir / DEVICE_FILE
    assert uuid.UUID(path.read_text().strip()).version == 4
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_device_secret_and_token_never_reach_the_output_or_the_logs(
    start_cloud: StartCloud, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    cloud = start_cloud()
    assert main(["enhance", "--mode", "ai", "--json", ROUGH]) == 0
    assert main(["credits", "status", "--json"]) == 0
    secret = SecretStore().get_device_secret(cloud.url)
    assert secret is not None
    out, err = capfd.readouterr()
    for text in (out, err, caplog.text):
        assert secret.reveal() not in text
        assert "eyJ" not in text  # no JWT (their header always starts so)


def test_out_of_credits_is_one_sentence_and_the_offline_result(
    start_cloud: StartCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud = start_cloud()
    enhance_json(capsys)  # registers the device
    cloud.grant(this_device(), 0)
    result, _ = enhance_json(capsys)
    assert result["mode"] == "offline" and "## Task" in result["text"]
    reason = result["fallback_reason"]
    assert "out of PromptReady credits" in reason and "promptready credits buy" in reason
    assert "promptready keys set openai" in reason and "offline" in reason
    row = last_row()
    assert (row["mode"], row["status"], row["credits"]) == ("credits", "error", 0)
    assert debited(cloud, this_device()) == 1  # the first call only


def test_a_rate_limit_says_how_long_to_wait(
    start_cloud: StartCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    start_cloud(DEVICE_RPS="0.01")  # one request per 100 s: longer than AI mode waits
    enhance_json(capsys)
    result, _ = enhance_json(capsys)
    assert result["mode"] == "offline"
    assert "limiting this device's requests; wait" in result["fallback_reason"]
    seconds = int(result["fallback_reason"].split("wait ")[1].split(" s")[0])
    assert 50 <= seconds <= 100


def test_the_weekly_capacity_names_the_day_it_returns(
    start_cloud: StartCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    start_cloud(WEEKLY_CAP_USD="0.000001")
    result, _ = enhance_json(capsys)
    assert result["mode"] == "offline"
    reason = result["fallback_reason"]
    assert "at capacity this week, until " in reason and "00:00 UTC" in reason
    assert "promptready keys set openai" in reason


def test_an_unreachable_service_falls_back_offline_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTREADY_CLOUD_URL", "http://127.0.0.1:9")
    result, _ = enhance_json(capsys)
    assert result["mode"] == "offline"
    assert "Could not reach the credit service at http://127.0.0.1:9" in result["fallback_reason"]


def test_a_bad_service_address_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROMPTREADY_CLOUD_URL", "ftp://nowhere")
    assert main(["enhance", "--mode", "ai", ROUGH]) == 1
    err = capsys.readouterr().err
    assert err.startswith("promptready: PROMPTREADY_CLOUD_URL") and "Traceback" not in err


def test_picking_credits_in_settings_uses_them_even_with_a_provider_key(
    start_cloud: StartCloud, upstream: FakeUpstream, capsys: pytest.CaptureFixture[str]
) -> None:
    start_cloud()
    SecretStore().set_key("openai", ApiKey("sk-openai-key-never-used-0123"))
    settings = app_paths().settings_file
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('[ai]\nprovider = "credits"\n')
    result, _ = enhance_json(capsys)
    assert result["mode"] == "ai" and result["ai"]["provider"] == "credits"
    assert all("sk-openai" not in str(s.headers) for s in upstream.seen)
