"""App tokens: shown once, stored hashed, revocable, limits validated from the file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from promptready.errors import ConfigError
from promptready.gateway.apps import AppLimits, AppRegistry, hash_token


def test_created_token_authenticates_and_is_stored_only_as_a_hash(tmp_path: Path) -> None:
    apps = AppRegistry(tmp_path / "apps.toml")
    app, token = apps.create("editor", AppLimits(budget_usd_day=Decimal("1.50"), rpm=30))
    assert apps.authenticate(token) == app
    text = (tmp_path / "apps.toml").read_text(encoding="utf-8")
    assert token not in text and hash_token(token) in text
    assert (tmp_path / "apps.toml").stat().st_mode & 0o077 == 0


def test_limits_survive_a_reload(tmp_path: Path) -> None:
    limits = AppLimits(
        budget_usd_day=Decimal("1.50"),
        budget_usd_month=Decimal("20"),
        rpm=30,
        models=("openai/gpt-4o-mini",),
        cache_ttl_s=60,
    )
    AppRegistry(tmp_path / "apps.toml").create("editor", limits)
    (app,) = AppRegistry(tmp_path / "apps.toml").apps()
    assert app.limits == limits


def test_revoked_token_stops_working(tmp_path: Path) -> None:
    apps = AppRegistry(tmp_path / "apps.toml")
    _, token = apps.create("editor")
    assert apps.revoke("editor") is True
    assert apps.authenticate(token) is None
    assert apps.revoke("editor") is False


def test_another_process_revoking_is_seen_after_reload(tmp_path: Path) -> None:
    server_view = AppRegistry(tmp_path / "apps.toml")
    cli_view = AppRegistry(tmp_path / "apps.toml")
    _, token = cli_view.create("editor")
    server_view.reload()
    assert server_view.authenticate(token) is not None
    cli_view.revoke("editor")
    server_view.reload()
    assert server_view.authenticate(token) is None


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    apps = AppRegistry(tmp_path / "apps.toml")
    apps.create("editor")
    with pytest.raises(ConfigError, match="exists"):
        apps.create("editor")


@pytest.mark.parametrize("name", ["", "a b", "../x", "x" * 65, "é"])
def test_bad_app_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="not a valid app name"):
        AppRegistry(tmp_path / "apps.toml").create(name)


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("budget_usd_day = 1.5", "budget_usd_day"),
        ('budget_usd_day = "lots"', "budget_usd_day"),
        ('budget_usd_day = "-1"', "budget_usd_day"),
        ("rpm = 0", "rpm"),
        ('models = "gpt-4o"', "models"),
        ("cache_ttl_s = -5", "cache_ttl_s"),
    ],
)
def test_bad_limits_in_the_file_name_the_key(tmp_path: Path, entry: str, key: str) -> None:
    path = tmp_path / "apps.toml"
    path.write_text(f'[apps.editor]\nhash = "{"0" * 64}"\n{entry}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        AppRegistry(path)


def test_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "apps.toml"
    path.write_text("[apps.editor\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="could not be read"):
        AppRegistry(path)
