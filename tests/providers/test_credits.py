"""The credit proxy's desktop side without a server: its address, the device id file, the
sentences for the service's refusals, its place in the provider registry, and its ledger rows."""

from __future__ import annotations

import json
import os
import stat
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring

from promptready.errors import ConfigError, NotConfiguredError
from promptready.ledger.meter import BudgetError, Caller, Meter, TokenBound
from promptready.pricing import load_rate_card
from promptready.providers.credits import (
    CREDITS,
    CreditsError,
    CreditsProvider,
    credits_config,
    device_auth,
    offer_credits,
    refusal,
    service_url,
)
from promptready.providers.credits_auth import DEVICE_FILE, device_id
from promptready.providers.registry import ModelRef, ProviderRegistry
from promptready.providers.routing import Route
from promptready.providers.wire import Usage
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import DEFAULT_CREDITS_URL, AISettings, CreditsSettings, parse_settings

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def test_the_service_address_defaults_to_the_setting() -> None:
    assert service_url(CreditsSettings(), {}) == DEFAULT_CREDITS_URL


def test_the_environment_variable_overrides_the_setting() -> None:
    env = {"PROMPTREADY_CLOUD_URL": "http://127.0.0.1:8080/"}
    assert service_url(CreditsSettings(url="https://elsewhere"), env) == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "bad",
    ["ftp://host", "not a url", "https://user:pw@host", "https://h/?q", "http://cloud.example"],
)
def test_a_bad_environment_address_names_the_variable(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"^PROMPTREADY_CLOUD_URL: "):
        service_url(CreditsSettings(), {"PROMPTREADY_CLOUD_URL": bad})


def test_a_bad_credits_url_setting_falls_back_to_the_default_and_says_so() -> None:
    settings, problems = parse_settings({"credits": {"url": "javascript:alert(1)"}})
    assert settings.credits.url == DEFAULT_CREDITS_URL
    assert len(problems) == 1 and problems[0].startswith("credits.url")
    settings, problems = parse_settings({"credits": {"url": 5}})
    assert settings.credits.url == DEFAULT_CREDITS_URL and problems
    settings, problems = parse_settings({"credits": {"url": "http://cloud.example"}})
    assert settings.credits.url == DEFAULT_CREDITS_URL and "must use https" in problems[0]


def test_plain_http_is_allowed_to_this_machine_only() -> None:
    for url in ("http://127.0.0.1:8080", "http://localhost", "https://cloud.example/"):
        settings, problems = parse_settings({"credits": {"url": url}})
        assert problems == [] and settings.credits.url == url.rstrip("/")


def test_the_device_id_is_created_once_as_a_private_uuid4(tmp_path: Path) -> None:
    first = device_id(tmp_path / "data")
    assert first.version == 4
    assert device_id(tmp_path / "data") == first
    path = tmp_path / "data" / DEVICE_FILE
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [DEVICE_FILE]  # no draft left behind


def test_processes_starting_at_once_agree_on_one_device_id(tmp_path: Path) -> None:
    found: list[uuid.UUID] = []
    threads = [threading.Thread(target=lambda: found.append(device_id(tmp_path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1 and len(found) == 8


def test_a_damaged_device_id_file_is_a_clear_error_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / DEVICE_FILE
    path.write_text("not-a-uuid\n")
    with pytest.raises(CreditsError, match="is damaged; restore it"):
        device_id(tmp_path)
    assert path.read_text() == "not-a-uuid\n"


def test_out_of_credits_says_how_to_top_up() -> None:
    error = refusal(402, b'{"status": "INSUFFICIENT_CREDITS"}', None)
    assert str(error) == (
        "You are out of PromptReady credits; top up with `promptready credits buy PACK`, or use "
        "your own key (`promptready keys set openai`) or offline mode."
    )
    assert not error.retryable and error.status == 402


def test_a_rate_limit_says_how_long_to_wait_and_may_be_retried() -> None:
    error = refusal(429, b"{}", "7")
    assert "wait 7 s" in str(error) and error.retryable
    assert "wait 1 s" in str(refusal(429, b"", None))


def test_weekly_capacity_names_the_reset_from_the_answer() -> None:
    body = b'{"status": "SERVICE_AT_CAPACITY", "resets_at": "2026-12-07T00:00:00+00:00"}'
    error = refusal(503, body, "400000", NOW)
    assert "at capacity this week, until 2026-12-07 00:00 UTC" in str(error)
    assert "promptready keys set openai" in str(error) and not error.retryable


def test_weekly_capacity_without_a_date_uses_retry_after() -> None:
    error = refusal(503, b'{"status": "SERVICE_AT_CAPACITY"}', "3600", NOW)
    assert "until 2026-12-01 20:00 UTC" in str(error)


@pytest.mark.parametrize(
    ("resets_at", "retry_after"), [("soon", "1e300"), (17, "Tue, 99 Foo"), (None, None)]
)
def test_weekly_capacity_with_an_unreadable_date_still_is_a_sentence(
    resets_at: object, retry_after: str | None
) -> None:
    body = json.dumps({"status": "SERVICE_AT_CAPACITY", "resets_at": resets_at}).encode()
    assert "until next Monday" in str(refusal(503, body, retry_after, NOW))


def test_other_statuses_are_one_sentence_each() -> None:
    assert "server error (500); try again shortly" in str(refusal(500, b"oops", None))
    assert refusal(502, b"", None).retryable
    refused = refusal(400, b'{"error": {"message": "pack must be a name."}}', None)
    assert str(refused) == "The credit service refused the request (400): pack must be a name."
    assert "refused the request (418)." in str(refusal(418, b"\xff\xfe", None))
    assert "access token" in str(refusal(401, b"{}", None))
    escape = refusal(400, b'{"error": {"message": "\\u001b[2Jgone"}}', None)
    assert str(escape) == "The credit service refused the request (400): [2Jgone"


def credits_registry(tmp_path: Path, keys: tuple[str, ...] = ()) -> ProviderRegistry:
    store = SecretStore(PlaintextKeyring())
    for name in keys:
        store.set_key(name, ApiKey(f"sk-{name}-0123456789"))
    registry = ProviderRegistry(AISettings(), store)
    offer_credits(registry, "http://127.0.0.1:9", tmp_path)
    return registry


def test_with_no_key_the_default_provider_is_credits(tmp_path: Path) -> None:
    registry = credits_registry(tmp_path)
    assert registry.default_provider() == CREDITS
    [route] = registry.routes()
    assert isinstance(route.provider, CreditsProvider)
    assert route.provider.config.base_url == "http://127.0.0.1:9/v1"


def test_a_provider_key_comes_before_credits(tmp_path: Path) -> None:
    assert credits_registry(tmp_path, keys=("groq",)).default_provider() == "groq"


def test_credits_models_parse_but_credits_takes_no_key(tmp_path: Path) -> None:
    registry = credits_registry(tmp_path, keys=("openai",))
    assert registry.parse("credits/gpt-oss-20b") == ModelRef(CREDITS, "gpt-oss-20b")
    assert registry.parse("credits") == ModelRef(CREDITS, "default")
    assert CREDITS not in registry.configs()  # not offered where keys are added
    assert CREDITS not in registry.with_keys()  # nor in auto or /v1/models while keys exist


def test_without_a_service_there_is_no_credits_provider(tmp_path: Path) -> None:
    registry = ProviderRegistry(AISettings(), SecretStore(PlaintextKeyring()))
    with pytest.raises(NotConfiguredError):
        registry.parse("credits/default")
    with pytest.raises(NotConfiguredError):
        device_auth(registry)


def test_the_device_secret_is_kept_apart_from_provider_keys() -> None:
    store = SecretStore(PlaintextKeyring())
    assert store.get_device_secret("http://a") is None
    store.set_device_secret("http://a", ApiKey("secret-of-a"))
    assert store.get_device_secret("http://a") == ApiKey("secret-of-a")
    assert store.get_device_secret("http://b") is None  # one per service
    assert store.providers() == []
    assert "secret-of-a" not in repr(store.get_device_secret("http://a"))


class RecordingWriter:
    """Stands in for the ledger writer: keeps the rows it is given."""

    closed = False

    def __init__(self) -> None:
        self.rows: list[object] = []

    def commit_now(self, row: object) -> None:
        self.rows.append(row)

    def submit(self, row: object) -> None:
        self.rows.append(row)

    def spent_micro(self, app: str) -> tuple[int, int, int]:
        return 0, 0, 0


def credits_route(tmp_path: Path) -> Route:
    return credits_registry(tmp_path).route(ModelRef(CREDITS, "default"))


def test_a_credits_row_counts_credits_by_the_rate_cards_rule(tmp_path: Path) -> None:
    writer = RecordingWriter()
    meter = Meter(writer, load_rate_card())  # type: ignore[arg-type]
    hold = meter.hold(Caller("cli"), mode="credits")
    hold.answered_by(credits_route(tmp_path))
    hold.usage = Usage(1500, 600)
    row = hold.row()
    assert row.mode == "credits" and row.credits == load_rate_card().credits_for_chat(2100, "")
    assert row.credits == 3  # ceil(2100 / 1000)
    # Its dollars are what a budget counts: the credits at the dearest pack's price per credit.
    assert row.cost_usd == load_rate_card().credits_usd(3) == Decimal("0.09")
    assert not row.unpriced


def test_a_failed_credits_call_costs_no_credits(tmp_path: Path) -> None:
    meter = Meter(RecordingWriter(), load_rate_card())  # type: ignore[arg-type]
    hold = meter.hold(Caller("cli"), mode="credits")
    hold.status = "error"
    row = hold.row()
    assert (row.mode, row.credits) == ("credits", 0)


def test_an_app_with_a_dollar_budget_holds_its_credits_at_their_price(tmp_path: Path) -> None:
    meter = Meter(RecordingWriter(), load_rate_card())  # type: ignore[arg-type]
    caller = Caller("gateway", app="notes", budget_usd_day=Decimal("0.06"))
    hold = meter.hold(caller, [credits_route(tmp_path)], TokenBound(500, 500), mode="credits")
    # 1,000 tokens at the card's dearest multiplier (2: the cohort's model is not known here)
    # are two credits, at $0.03 each.
    assert hold.micro == 60_000


def test_a_credits_default_call_that_fits_only_at_multiplier_one_is_refused(
    tmp_path: Path,
) -> None:
    meter = Meter(RecordingWriter(), load_rate_card())  # type: ignore[arg-type]
    caller = Caller("gateway", app="notes", budget_usd_day=Decimal("0.05"))
    with pytest.raises(BudgetError, match=r"may cost up to \$0\.060000"):
        meter.hold(caller, [credits_route(tmp_path)], TokenBound(500, 500), mode="credits")


def test_a_held_credits_call_is_charged_the_credits_it_used(tmp_path: Path) -> None:
    writer = RecordingWriter()
    meter = Meter(writer, load_rate_card())  # type: ignore[arg-type]
    caller = Caller("gateway", app="notes", budget_usd_day=Decimal("1"))
    hold = meter.hold(caller, [credits_route(tmp_path)], TokenBound(500, 500), mode="credits")
    hold.answered_by(credits_route(tmp_path))
    hold.usage = Usage(300, 200)
    hold.settle_now()
    (row,) = writer.rows
    assert (row.credits, row.cost_usd) == (1, Decimal("0.03"))  # type: ignore[attr-defined]
    assert meter.held_micro("notes") == 0


def test_a_credits_call_beyond_a_dollar_budget_is_refused(tmp_path: Path) -> None:
    writer = RecordingWriter()
    meter = Meter(writer, load_rate_card())  # type: ignore[arg-type]
    caller = Caller("gateway", app="notes", budget_usd_day=Decimal("0.01"))
    with pytest.raises(BudgetError, match="daily budget"):
        meter.hold(caller, [credits_route(tmp_path)], TokenBound(500, 500), mode="credits")
    assert [getattr(r, "status", None) for r in writer.rows] == ["blocked"]


def test_credits_config_is_a_keyless_provider_with_credits_rows() -> None:
    config = credits_config("https://cloud.example")
    assert (config.name, config.needs_key, config.ledger_mode) == (CREDITS, False, "credits")
