"""The desktop against a real credit proxy: the cloud's ASGI app on uvicorn on a loopback port
(SQLite), the fake upstream behind it, and optionally the Stripe stand-in for billing.

``start_cloud(**env)`` starts it and points the desktop at it (``PROMPTREADY_CLOUD_URL``); the
returned ``RunningCloud`` records the paths it served and opens a ``Store`` on its database for
balance checks. ``standin`` is a Stripe stand-in whose webhooks go to the running cloud.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from promptready.cloud.app import create_app
from promptready.cloud.config import CloudConfig, load
from promptready.cloud.store import CreditsView, LedgerEntry, Store
from promptready.cloud.wallet import Bucket, LedgerKind
from promptready.paths import app_paths
from promptready.providers.credits_auth import device_id
from tests.cloud.billing.stripe_standin import StripeStandin
from tests.cloud.databases import Templates
from tests.cloud.http.conftest import Device, cloud_env, give
from tests.fakes.upstream import FakeUpstream, Receive, Scope, Script, Send, serve

WEBHOOK_SECRET = "whsec_desktop_e2e_secret"
WEBHOOK = "/api/v1/billing/webhook"
FAITHFUL_REWRITE = (
    "Write a Python script that renames my photos by the date they were taken, "
    "read from each photo's EXIF data."
)


@dataclass
class RunningCloud:
    """A credit proxy serving on loopback, and what it was asked."""

    url: str
    config: CloudConfig
    database_url: str
    paths: list[str] = field(default_factory=list)

    def count(self, path: str) -> int:
        """How many requests reached ``path``."""
        return sum(1 for p in self.paths if p == path)

    def _with_store(self, use: Callable[[Store], Any]) -> Any:
        async def run() -> Any:
            store = await Store.open(self.database_url, self.config.store_settings())
            try:
                return await use(store)
            finally:
                await store.close()

        return asyncio.run(run())

    def credits(self, device: uuid.UUID) -> CreditsView:
        """The device's wallet, read from the cloud's database."""
        return self._with_store(lambda store: store.credits(device))  # type: ignore[no-any-return]

    def ledger(self, device: uuid.UUID) -> list[LedgerEntry]:
        """The device's credit ledger at the cloud."""
        return self._with_store(lambda store: store.ledger(device))  # type: ignore[no-any-return]

    def grant(self, device: uuid.UUID, credits: int) -> None:
        """Leave the device exactly ``credits`` (purchased; its free allowance taken back)."""

        async def use(store: Store) -> None:
            await give(store, Device(device, "", ""), credits)

        self._with_store(use)

    def use_free(self, device: uuid.UUID, credits: int) -> None:
        """Take ``credits`` of the device's free allowance, as if it had spent them."""

        async def use(store: Store) -> None:
            await store.credits(device)  # applies this month's free top-up first
            await store.revoke(
                device,
                credits,
                kind=LedgerKind.ADJUSTMENT,
                idem_key=f"test-free:{uuid.uuid4()}",
                reason="test: free credits used",
                bucket=Bucket.FREE,
            )

        self._with_store(use)


class StartCloud(Protocol):
    def __call__(self, environ: dict[str, str] | None = None, **env: str) -> RunningCloud: ...


def this_device() -> uuid.UUID:
    """The desktop's device id (created on first use, like the client does)."""
    return device_id(app_paths().data_dir)


@pytest.fixture
def standin() -> Iterator[StripeStandin]:
    """A Stripe stand-in; ``start_cloud`` points billing at it and its webhooks at the cloud."""
    with StripeStandin(webhook_secret=WEBHOOK_SECRET) as server:
        yield server


def billing_env(standin: StripeStandin) -> dict[str, str]:
    """The cloud's environment with billing on, its Stripe being the stand-in."""
    return {
        "STRIPE_API_KEY": "sk_test_desktop",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.url,
    }


@pytest.fixture
def start_cloud(
    tmp_path: Path,
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    db_templates: Templates,
) -> Iterator[StartCloud]:
    """Start the proxy on a fresh SQLite database and point the desktop at it: ``env`` overrides
    the test defaults (names without ``PROMPTREADY_CLOUD_``), ``environ`` adds whole variables."""
    database_url = db_templates.sqlite(tmp_path / "cloud.sqlite3")
    # A rewrite that keeps the user's words: the engine refuses answers that drop them.
    upstream.default = Script(content=FAITHFUL_REWRITE)
    with ExitStack() as stack:

        def start(environ: dict[str, str] | None = None, **env: str) -> RunningCloud:
            full = {**cloud_env(database_url, upstream.base_url, **env), **(environ or {})}
            config = load(full)
            app = create_app(config, env=full, expire_every_s=0.2)
            cloud = RunningCloud("", config, database_url)

            async def recording(scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] == "http":
                    cloud.paths.append(scope["path"])
                await app(scope, receive, send)

            cloud.url = stack.enter_context(serve(recording, "on"))
            monkeypatch.setenv("PROMPTREADY_CLOUD_URL", cloud.url)
            return cloud

        yield start


@pytest.fixture
def billing_cloud(start_cloud: StartCloud, standin: StripeStandin) -> RunningCloud:
    """The proxy with billing on; the stand-in's webhooks go to it."""
    running = start_cloud(environ=billing_env(standin))
    standin.webhook_url = f"{running.url}{WEBHOOK}"
    return running
