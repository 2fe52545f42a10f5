"""The proxy's Dockerfile and compose file: non-root, health-checked, known variables only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from promptready.cloud.config import VARIABLES

CLOUD = Path(__file__).resolve().parents[2] / "packaging" / "cloud"


def _instructions() -> dict[str, str]:
    joined = (CLOUD / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    found: dict[str, str] = {}
    for line in lines:
        if not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found[word.upper()] = rest.strip()  # the last one wins, as in docker
    return found


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((CLOUD / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_image_runs_as_a_non_root_user() -> None:
    user = _instructions()["USER"]
    assert user and user not in {"root", "0"}


def test_the_health_check_asks_healthz_without_curl() -> None:
    check = _instructions()["HEALTHCHECK"]
    assert "/healthz" in check and "urllib" in check and "curl" not in check


def test_the_command_is_exec_form_serve_on_all_interfaces() -> None:
    command = json.loads(_instructions()["CMD"])
    assert command == ["promptready-cloud", "serve", "--host", "0.0.0.0", "--port", "8080"]


def test_compose_runs_migrations_once_before_two_proxies_behind_a_balancer() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["promptready-cloud", "migrate"]
    for name in ("proxy1", "proxy2"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    balancer = (CLOUD / "nginx.conf").read_text()
    assert "server proxy1:8080;" in balancer and "server proxy2:8080;" in balancer


def test_every_variable_compose_sets_is_one_the_proxy_reads() -> None:
    known = {variable.env for variable in VARIABLES}
    services = _compose()["services"]
    for name in ("migrate", "proxy1", "proxy2"):
        assert set(services[name]["environment"]) <= known, name
