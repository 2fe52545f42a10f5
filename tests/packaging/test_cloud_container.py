"""The proxy's Dockerfile and compose file: non-root, health-checked, known variables only, and
their commands (migrate, serve, the health check) work against PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from promptready.cloud.config import VARIABLES

# The context manager behind the cloud tests' database fixtures, for a database handed to
# another process (its docstring's own use case).
from tests.cloud.conftest import postgres_database

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _on_port(command: list[str], port: int) -> list[str]:
    # The image listens on 8080; here another process may hold it, so the same command moves.
    return [part.replace("8080", str(port)) for part in command]


def test_the_images_migrate_serve_and_health_check_commands_work_on_postgresql(
    tmp_path: Path,
) -> None:
    """No docker engine here: the image's own commands, run as they are, outside a container."""
    with postgres_database() as url:
        _migrate_serve_and_check(url, tmp_path)


def _migrate_serve_and_check(url: str, home: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PROMPTREADY_HOME": str(home),
        "PROMPTREADY_CLOUD_DATABASE_URL": url,
        "PROMPTREADY_CLOUD_JWT_SECRET": "s" * 32,
        "PROMPTREADY_CLOUD_UPSTREAM_BASE_URL": "http://127.0.0.1:9",
    }
    scripts = Path(sys.executable).parent  # the image puts console scripts on PATH the same way
    env["PATH"] = f"{scripts}{os.pathsep}{env.get('PATH', '')}"
    migrate = _compose()["services"]["migrate"]["command"]
    subprocess.run(migrate, env=env, check=True, capture_output=True, timeout=120)
    serve = _on_port(json.loads(_instructions()["CMD"]), port)
    server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check = _health_check(port)
        deadline = time.monotonic() + 60
        while subprocess.run(check, env=env, capture_output=True, check=False).returncode != 0:
            assert server.poll() is None, "serve exited"
            assert time.monotonic() < deadline, "/healthz never answered"
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _health_check(port: int) -> list[str]:
    # HEALTHCHECK [options] CMD [exec form]: the JSON after CMD is the command docker runs.
    _, _, command = _instructions()["HEALTHCHECK"].partition("CMD ")
    return _on_port(json.loads(command), port)
