"""A desktop context in credits mode (AI, no key) against a real credit proxy on loopback with
billing on, its Stripe being the stand-in; shared by the credits UI tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pytestqt.qtbot import QtBot

from promptready.settings import EnhanceSettings, Settings
from promptready.ui.context import DesktopContext
from promptready.ui.credits.watch import CreditsWatch
from promptready.ui.popup import EnhancePopup
from tests.cloud.billing.stripe_standin import StripeStandin
from tests.e2e import conftest as e2e
from tests.e2e.conftest import RunningCloud, this_device
from tests.ui.conftest import Loop, open_context

# The cloud on loopback and the Stripe stand-in, as the end-to-end tests have them.
start_cloud = e2e.start_cloud
standin = e2e.standin


@dataclass
class Browser:
    """The user's browser: records the pages opened; on a Checkout page it pays a moment later
    on the stand-in (unless ``pays`` is off), as a person would."""

    standin: StripeStandin
    pays: bool = True
    pages: list[str] = field(default_factory=list)

    def open(self, url: str) -> bool:
        self.pages.append(url)
        if self.pays and "/pay/" in url:
            session = url.rsplit("/", 1)[-1]
            threading.Timer(0.3, self.standin.pay_session, (session,)).start()
        return True


# The proxy with billing on, its webhooks from the Stripe stand-in.
cloud = e2e.billing_cloud


@pytest.fixture
def browser(standin: StripeStandin) -> Browser:
    return Browser(standin)


@pytest.fixture
def credits_context(qloop: Loop, cloud: RunningCloud) -> Iterator[DesktopContext]:
    """AI mode with no key: enhancements go through PromptReady credits."""
    asyncio.set_event_loop(qloop.loop)  # starting the cloud ran a loop of its own
    ctx = open_context(qloop, Settings(enhance=EnhanceSettings(mode="ai")))
    yield ctx
    qloop.run(ctx.aclose())


def fetch(qloop: Loop, watch: CreditsWatch) -> None:
    """Ask for the wallet and wait for the answer."""
    task = watch.refresh()
    assert task is not None, "credits should apply"
    qloop.run(finished(task))


async def finished(task: asyncio.Task[None]) -> None:
    """Wait for a task the app spawned."""
    await task


def leave_balance(qloop: Loop, cloud: RunningCloud, watch: CreditsWatch, credits: int) -> None:
    """Register the device (first call), then leave it exactly ``credits``."""
    if watch.wallet is None:
        fetch(qloop, watch)
    grant(qloop, cloud, credits)


def grant(qloop: Loop, cloud: RunningCloud, credits: int) -> None:
    """Leave the (registered) device exactly ``credits``, keeping the qasync loop current (the
    store runs on a loop of its own, which unsets the current one)."""
    cloud.grant(this_device(), credits)
    asyncio.set_event_loop(qloop.loop)


def use_free(qloop: Loop, cloud: RunningCloud, credits: int) -> None:
    """Spend ``credits`` of the (registered) device's free allowance at the cloud, keeping the
    qasync loop current as ``grant`` does."""
    cloud.use_free(this_device(), credits)
    asyncio.set_event_loop(qloop.loop)


def balance_at_cloud(qloop: Loop, cloud: RunningCloud) -> int:
    """What the (registered) device can spend, read from the cloud's database, keeping the
    qasync loop current as ``grant`` does."""
    available = cloud.credits(this_device()).available
    asyncio.set_event_loop(qloop.loop)
    return available


def popup_with_balance(
    qtbot: QtBot, qloop: Loop, cloud: RunningCloud, context: DesktopContext, balance: int
) -> EnhancePopup:
    """The popup, shown with the device left ``balance`` credits, once it has read them."""
    watch = CreditsWatch(context)
    leave_balance(qloop, cloud, watch, balance)
    popup = EnhancePopup(context, watch)
    qtbot.addWidget(popup)
    popup.show()
    assert watch._fetching is not None  # opening asks for the balance
    qloop.run(finished(watch._fetching))
    return popup
