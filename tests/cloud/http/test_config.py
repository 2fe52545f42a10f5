"""Configuration: every variable typed, defaults documented, a bad value named in one line."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from promptready.cloud.auth import key_id
from promptready.cloud.cohorts import DEFAULT_COHORTS, Cohort
from promptready.cloud.config import PREFIX, VARIABLES, load
from promptready.errors import ConfigError

SECRET = "x" * 48
BASE = {f"{PREFIX}JWT_SECRET": SECRET, f"{PREFIX}UPSTREAM_BASE_URL": "http://127.0.0.1:9/v1"}
README = Path(__file__).resolve().parents[3] / "README.md"


def env(**values: str) -> dict[str, str]:
    return {**BASE, **{PREFIX + k: v for k, v in values.items()}}


def error_for(**values: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(env(**values))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_defaults_give_a_working_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTREADY_HOME", str(tmp_path))
    config = load(BASE)
    assert config.database_url.startswith("sqlite")
    assert str(tmp_path) in config.database_url
    assert config.device_rps == 1.0
    assert config.weekly_cap_usd == Decimal("100")
    assert config.cohorts == DEFAULT_COHORTS
    assert config.require_serving().current_kid == key_id(SECRET.encode())


def test_the_store_settings_carry_the_configured_policy() -> None:
    settings = load(
        env(
            WEEKLY_CAP_USD="12.50",
            DEVICE_RPS="0",
            HOLD_TTL_S="30",
            REGISTRATIONS_PER_HOUR="3",
            GRANT_BUDGET_MONTH="900",
            BYOK_GRANT="50",
            OVERDRAFT_CREDITS="5",
            DEGRADE_AT="0.75",
            DEGRADE_MODEL="gpt-4o-mini",
            USAGE_HASH_KEY="u" * 20,
        )
    ).store_settings()
    assert settings.weekly_cap_usd == Decimal("12.50")
    assert settings.device_rps == 0
    assert settings.hold_ttl_s == 30
    assert settings.registrations_per_hour == 3
    assert settings.grant_budget_month == 900
    assert settings.byok_grant == 50
    assert settings.overdraft_credits == 5
    assert settings.degrade_at == Decimal("0.75")
    assert settings.degrade_model == "gpt-4o-mini"
    assert settings.usage_key == b"u" * 20


def test_the_hot_path_commits_asynchronously_unless_made_durable() -> None:
    assert load(env()).store_settings().durable_hot_path is False
    assert load(env(DURABLE_HOT_PATH="1")).store_settings().durable_hot_path is True
    assert load(env(DURABLE_HOT_PATH="0")).store_settings().durable_hot_path is False


def test_cohorts_parse_with_their_own_upstreams() -> None:
    config = load(
        env(
            COHORTS="X:3:gpt-4o-mini, Y:1:gpt-4.1-nano",
            COHORT_Y_BASE_URL="https://other.example/v1/",
            COHORT_Y_KEY="sk-y",
        )
    )
    assert config.cohorts == (
        Cohort("X", 3, "gpt-4o-mini"),
        Cohort("Y", 1, "gpt-4.1-nano", "https://other.example/v1", "sk-y"),
    )
    assert config.target(config.cohorts[1], "gpt-4.1-nano").base_url == "https://other.example/v1"
    assert config.target(config.cohorts[0], "gpt-4o-mini").base_url == "http://127.0.0.1:9/v1"


def test_a_degraded_request_goes_to_the_upstream_serving_the_degrade_model() -> None:
    config = load(
        env(
            COHORTS="X:1:gpt-4o-mini,Y:1:gpt-4.1-nano",
            COHORT_Y_BASE_URL="https://cheap.example/v1",
            DEGRADE_MODEL="gpt-4.1-nano",
        )
    )
    assert config.target(config.cohorts[0], "gpt-4.1-nano").base_url == "https://cheap.example/v1"


def test_prices_extend_the_rate_card() -> None:
    config = load(env(COHORTS="A:1:house-model", PRICES="house-model=1.5/2", DEGRADE_MODEL=""))
    price = config.rate_card.price("house-model")
    assert price is not None and price.input == Decimal("1.5")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://nope"),
        ("UPSTREAM_BASE_URL", "ftp://host"),
        ("UPSTREAM_TIMEOUT_S", "0"),
        ("WEEKLY_CAP_USD", "lots"),
        ("WEEKLY_CAP_USD", "-1"),
        ("WEEKLY_CAP_USD", "NaN"),
        ("DEGRADE_AT", "1.5"),
        ("DEVICE_RPS", "-2"),
        ("REGISTRATIONS_PER_HOUR", "2.5"),
        ("BYOK_GRANT", "-5"),
        ("GRANT_BUDGET_MONTH", "many"),
        ("HOLD_TTL_S", "0"),
        ("OVERDRAFT_CREDITS", "x"),
        ("DURABLE_HOT_PATH", "yes"),
        ("DURABLE_HOT_PATH", "2"),
        ("COHORTS", "A:70"),
        ("COHORTS", "A:x:gpt-4o-mini"),
        ("COHORTS", "A:1:gpt-4o-mini,A:1:gpt-4o"),
        ("COHORTS", "A:0:gpt-4o-mini"),
        ("COHORTS", "bad name:1:gpt-4o-mini"),
        ("PRICES", "m=1"),
        ("PRICES", "m=a/b"),
        ("USAGE_HASH_KEY", "short"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_variable(name: str, value: str) -> None:
    assert PREFIX + name in error_for(**{name: value})


def test_a_short_jwt_secret_is_refused_without_echoing_it() -> None:
    message = error_for(JWT_SECRET="hunter2-but-longer")
    assert f"{PREFIX}JWT_SECRET" in message and "32" in message
    assert "hunter2" not in message


def test_a_short_previous_secret_is_refused() -> None:
    assert f"{PREFIX}JWT_PREVIOUS_SECRETS" in error_for(JWT_PREVIOUS_SECRETS="tiny")


def test_serving_needs_a_jwt_secret() -> None:
    config = load({f"{PREFIX}UPSTREAM_BASE_URL": "http://127.0.0.1:9/v1"})
    with pytest.raises(ConfigError, match=f"{PREFIX}JWT_SECRET is not set"):
        config.require_serving()


def test_serving_needs_an_upstream_for_every_cohort() -> None:
    config = load({f"{PREFIX}JWT_SECRET": SECRET, f"{PREFIX}COHORT_A_BASE_URL": "http://a/v1"})
    with pytest.raises(ConfigError, match="cohort B"):
        config.require_serving()


def test_a_cohort_upstream_for_an_undefined_cohort_is_an_error() -> None:
    assert f"{PREFIX}COHORT_Z_KEY" in error_for(COHORT_Z_KEY="sk")


def test_a_model_without_a_price_is_an_error() -> None:
    assert "mystery-model" in error_for(COHORTS="A:1:mystery-model")


def test_the_config_repr_hides_its_secrets() -> None:
    assert SECRET not in repr(load(BASE))


def test_readme_documents_every_variable_with_its_default() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Hosted credit proxy") :]
    for variable in VARIABLES:
        row = next((line for line in section.splitlines() if f"`{variable.env}`" in line), None)
        assert row is not None, f"{variable.env} is not documented"
        shown = f"`{variable.default}`" if variable.default else "unset"
        assert shown in row, f"{variable.env}: README does not show the default {shown}"
    assert re.search(r"COHORT_<NAME>_BASE_URL", section)
