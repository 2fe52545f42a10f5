"""Fixtures for the proxy's HTTP tests: the real app on a loopback port (in a thread, or as
``promptready-cloud serve`` processes), the fake upstream, and a store on the same database.

``start_cloud(**env)`` serves the app on the migrated database (SQLite and PostgreSQL in turn);
``store`` is a second instance on that database, for grants and balance checks;
``serve_processes`` starts real server processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from promptready.cloud.app import create_app
from promptready.cloud.config import PREFIX, CloudConfig, load
from promptready.cloud.store import Bucket, LedgerKind, Store
from tests.cloud.conftest import StoreFactory
from tests.fakes.upstream import FakeUpstream, serve

JWT_SECRET = "test-jwt-secret-that-is-long-enough-0123456789"
SRC = Path(__file__).resolve().parents[3] / "src"


def cloud_env(database_url: str, upstream_url: str, **overrides: str) -> dict[str, str]:
    """The proxy's environment for a test: one cohort on the fake upstream, no rate limits."""
    values = {
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "UPSTREAM_BASE_URL": upstream_url,
        "UPSTREAM_KEY": "sk-master-key-for-tests",
        "COHORTS": "A:1:gpt-4o-mini",
        "DEGRADE_MODEL": "",
        "DEVICE_RPS": "0",
        "REGISTRATIONS_PER_HOUR": "100000",
        "UPSTREAM_TIMEOUT_S": "2",
    }
    values.update(overrides)
    return {PREFIX + k: v for k, v in values.items()}


@dataclass(frozen=True)
class Cloud:
    """A running proxy."""

    url: str
    config: CloudConfig

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, **kwargs)


@dataclass(frozen=True)
class Device:
    """A registered device and its credentials."""

    id: uuid.UUID
    token: str
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class StartCloud(Protocol):
    def __call__(self, *, billing: dict[str, str] | None = None, **env: str) -> Cloud: ...


@pytest.fixture
def start_cloud(migrated_url: str, upstream: FakeUpstream) -> Iterator[StartCloud]:
    """Start the app (in a thread, on a loopback port) with these env overrides; billing is
    off unless ``billing`` holds its (STRIPE_*) environment."""
    with ExitStack() as stack:

        def start(*, billing: dict[str, str] | None = None, **env: str) -> Cloud:
            config = load(cloud_env(migrated_url, upstream.base_url, **env))
            app = create_app(config, env=billing or {}, expire_every_s=0.2)
            url = stack.enter_context(serve(app, "on"))
            return Cloud(url, config)

        yield start


@pytest.fixture
def cloud(start_cloud: StartCloud) -> Cloud:
    """The app with the test defaults."""
    return start_cloud()


@pytest.fixture
async def store(make_store: StoreFactory) -> Store:
    """Another instance on the proxy's database (the invariants are checked after the test)."""
    return await make_store()


async def register(client: httpx.AsyncClient, device_id: uuid.UUID | None = None) -> Device:
    """Register a new device through the API."""
    device_id = device_id or uuid.uuid4()
    response = await client.post("/api/v1/auth/device", json={"device_id": str(device_id)})
    assert response.status_code == 201, response.text
    body = response.json()
    return Device(device_id, body["access_token"], body["device_secret"])


async def give(store: Store, device: Device, credits: int) -> None:
    """Leave the device exactly ``credits``, all purchased (its free allowance is taken back)."""
    view = await store.credits(device.id)  # applies this month's free top-up first
    for bucket, held in view.buckets.items():
        if held:
            await store.revoke(
                device.id,
                held,
                kind=LedgerKind.ADJUSTMENT,
                idem_key=f"test-zero:{uuid.uuid4()}",
                reason="test: start from zero",
                bucket=bucket,
            )
    if credits:
        await store.grant(
            device.id,
            credits,
            bucket=Bucket.PURCHASED,
            kind=LedgerKind.GRANT,
            idem_key=f"test-grant:{uuid.uuid4()}",
            reason="test",
        )


@dataclass
class ServerProcess:
    """A ``promptready-cloud serve`` process; ``stderr`` holds its log lines after ``stop``."""

    process: subprocess.Popen[str]
    url: str
    stderr: str = ""

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM) without waiting, so that several stop at the same time; a
        second SIGTERM from ``stop`` only repeats the request."""
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, self.stderr = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, self.stderr = self.process.communicate()


def cli_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for a ``python -m promptready.cloud`` child process."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    return {**keep, **env, "PYTHONPATH": str(SRC)}


def start_servers(envs: list[dict[str, str]], *args: str) -> list[ServerProcess]:
    """Start one ``promptready-cloud serve --port 0 ARGS`` per environment, all at once (each
    takes a second or more to import and open its store), then wait for each listening line."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "promptready.cloud", "serve", "--port", "0", *args],
            env=cli_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in envs
    ]
    try:
        return [_listening(process) for process in processes]
    except BaseException:
        for process in processes:
            process.kill()
            process.communicate()
        raise


def start_server(env: dict[str, str], *args: str) -> ServerProcess:
    """Start ``promptready-cloud serve --port 0 ARGS`` and wait for its listening line."""
    return start_servers([env], *args)[0]


def _listening(process: subprocess.Popen[str]) -> ServerProcess:
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
    if found is None:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"serve did not start: {line!r} {err[-2000:]}")
    return ServerProcess(process, found.group(1))


@pytest.fixture
def serve_processes() -> Iterator[list[ServerProcess]]:
    """Server processes started by the test, stopped after it (all signalled first, so their
    shutdowns overlap)."""
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.terminate()
    for server in started:
        server.stop()
