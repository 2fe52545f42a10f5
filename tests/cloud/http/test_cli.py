"""``promptready-cloud`` as a process: config errors, serve (one and two workers), migrate, admin,
and logs that never hold an id, a secret, a token or prompt text (§8 case 43)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from promptready.cloud.cli import main
from promptready.cloud.config import PREFIX
from tests.cloud.http.conftest import ServerProcess, cli_env, cloud_env, start_server
from tests.fakes.upstream import FakeUpstream

SECRET_PROMPT = "my confidential launch plan for project bluebird"


def run(
    env: dict[str, str], *args: str, python: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``python [PYTHON] -m promptready.cloud ARGS`` as a process, with ``env``."""
    return subprocess.run(
        [sys.executable, *python, "-m", "promptready.cloud", *args],
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path, upstream: FakeUpstream) -> dict[str, str]:
    return cloud_env(f"sqlite:///{tmp_path / 'cloud.sqlite3'}", upstream.base_url)


Command = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def in_process(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Command:
    """``promptready-cloud ARGS`` run by ``main`` in this process, with ``env``: what ``run``
    does without a new interpreter importing the store (0.6 s of CPU each). For commands whose
    run as a process is tested once with ``run``."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["promptready-cloud", *args], code, out, err)

    return command


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("JWT_SECRET", "short", "at least 32"),
        ("WEEKLY_CAP_USD", "ten", "must be a number"),
        ("DEVICE_RPS", "-1", "zero"),
        ("COHORTS", "A-70", "NAME:WEIGHT:MODEL"),
        ("DATABASE_URL", "oracle://db", ""),
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_it(
    env: dict[str, str], name: str, value: str, words: str
) -> None:
    result = run({**env, PREFIX + name: value}, "serve", "--port", "0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert PREFIX + name in lines[0] and words in lines[0]
    assert result.stdout == ""


def test_serve_without_a_jwt_secret_says_why(env: dict[str, str]) -> None:
    del env[PREFIX + "JWT_SECRET"]
    result = run(env, "serve", "--port", "0")
    assert result.returncode == 2
    assert f"{PREFIX}JWT_SECRET is not set" in result.stderr


@pytest.mark.parametrize(
    "args", [["serve", "--port", "http"], ["serve", "--workers", "0"], ["nope"]]
)
def test_a_bad_argument_exits_2(env: dict[str, str], args: list[str]) -> None:
    assert run(env, *args).returncode == 2


def imported(env: dict[str, str], *args: str) -> set[str]:
    """The top-level packages a ``promptready-cloud`` process imports (``-X importtime``)."""
    result = run(env, *args, python=("-X", "importtime"))
    lines = (line.rpartition("|")[2].strip() for line in result.stderr.splitlines())
    return {name.split(".")[0] for name in lines if name and " " not in name}


def test_help_loads_neither_the_database_nor_http_libraries(env: dict[str, str]) -> None:
    found = imported(env, "--help")
    assert found.isdisjoint({"sqlalchemy", "httptools", "aiohttp", "stripe", "asyncpg"})


def test_an_admin_command_loads_neither_an_http_client_nor_stripe(env: dict[str, str]) -> None:
    found = imported(env, "admin", "balance", str(uuid.uuid4()))
    assert "sqlalchemy" in found  # it did reach the store
    assert found.isdisjoint({"httptools", "aiohttp", "stripe", "prometheus_client"})


def test_migrate_then_admin_commands_work_on_the_same_database(env: dict[str, str]) -> None:
    device = str(uuid.uuid4())
    assert run(env, "migrate").returncode == 0
    granted = run(env, "admin", "grant", device, "40", "--reason", "support", "--json")
    # An unregistered device has no wallet: the store says so, exit 1, one line.
    assert granted.returncode == 1, granted.stdout + granted.stderr
    assert len(granted.stderr.strip().splitlines()) == 1


def test_admin_grant_balance_ledger_cap_stats_prune(
    env: dict[str, str], serve_processes: list[ServerProcess], in_process: Command
) -> None:
    server = start_server(env)
    serve_processes.append(server)
    device = uuid.uuid4()
    httpx.post(
        f"{server.url}/api/v1/auth/device", json={"device_id": str(device)}
    ).raise_for_status()
    grant = run(env, "admin", "grant", str(device), "40", "--reason", "support", "--idem-key", "t1")
    again = in_process("admin", "grant", str(device), "40", "--idem-key", "t1")
    assert grant.returncode == 0 and "granted 40 credits; balance 65" in grant.stdout
    assert again.returncode == 0 and "nothing changed" in again.stdout
    balance = json.loads(in_process("admin", "balance", str(device), "--json").stdout)
    assert balance["balance"] == 65 and balance["buckets"]["purchased"] == 40
    ledger = in_process("admin", "ledger", str(device)).stdout
    assert "support" in ledger and "+40" in ledger
    capped = in_process("admin", "set-cap", "250.50")
    assert capped.returncode == 0 and "$250.50" in capped.stdout
    stats = json.loads(in_process("admin", "stats", "--json").stdout)
    assert stats["devices"] == 1 and stats["week"]["cap_usd"] == "250.500000"
    assert in_process("admin", "prune", "--days", "7").returncode == 0
    assert run(env, "admin", "grant", "not-a-uuid", "5").returncode == 2
    assert run(env, "admin", "set-cap", "-3").returncode == 2


def test_two_workers_share_one_port_and_logs_hold_no_secrets(
    env: dict[str, str], serve_processes: list[ServerProcess]
) -> None:
    server = start_server(env, "--workers", "2")
    serve_processes.append(server)
    device = uuid.uuid4()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        registered = client.post("/api/v1/auth/device", json={"device_id": str(device)}).json()
        token, secret = registered["access_token"], registered["device_secret"]
        auth = {"Authorization": f"Bearer {token}"}
        enhanced = client.post("/api/v1/enhance", headers=auth, json={"content": SECRET_PROMPT})
        client.post(
            "/api/v1/auth/refresh", json={"device_id": str(device), "device_secret": "wrong"}
        )
        client.get("/api/v1/credits", headers={"Authorization": f"Bearer {token}x"})
        chat = {"messages": [{"role": "user", "content": SECRET_PROMPT}], "stream": True}
        client.post("/v1/chat/completions", headers=auth, json=chat)
    assert enhanced.status_code == 200
    server.stop()
    lines = [json.loads(line) for line in server.stderr.splitlines() if line.startswith("{")]
    assert len(lines) >= 5
    assert all({"ts", "level", "event"} <= line.keys() for line in lines)
    for needle in (str(device), device.hex, secret, token, SECRET_PROMPT, "bluebird"):
        assert needle not in server.stderr
    ready = {line["pid"] for line in lines if line["event"] == "ready"}
    assert len(ready) == 2  # two worker processes started on the one port


def test_a_bad_billing_setting_stops_serve_with_exit_2(env: dict[str, str]) -> None:
    result = run({**env, "STRIPE_API_KEY": "sk_test_x"}, "serve", "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "promptready-cloud: STRIPE_WEBHOOK_SECRET is not set; billing needs the webhook secret"
    ]
