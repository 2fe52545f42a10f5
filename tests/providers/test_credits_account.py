"""Waiting for a payment: ask until it is applied or the time is up, saying how long so far."""

from __future__ import annotations

from pathlib import Path

from keyrings.alt.file import PlaintextKeyring

from promptready.providers.credits import ServiceClient
from promptready.providers.credits_account import Account, Payment, Wallet
from promptready.providers.credits_auth import DeviceAuth
from promptready.providers.http import HttpClient
from promptready.secrets import SecretStore


class ScriptedAccount(Account):
    """An account whose answers are scripted, on a clock that moves only when it sleeps."""

    def __init__(self, tmp_path: Path, payments: list[Payment], plan: str = "free") -> None:
        auth = DeviceAuth(
            ServiceClient("http://127.0.0.1:9", HttpClient()),
            tmp_path,
            SecretStore(PlaintextKeyring()),
        )
        super().__init__(auth)
        self.payments = payments
        self.plan = plan
        self.now = 0.0
        self.slept: list[float] = []

    async def payment(self, session_id: str) -> Payment:
        return self.payments.pop(0) if len(self.payments) > 1 else self.payments[0]

    async def wallet(self) -> Wallet:
        return Wallet(40, {"subscription": 40}, 0, "A", self.plan)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def unpaid() -> Payment:
    return Payment("cs_1", paid=False, fulfilled=False, credits_remaining=25)


async def test_it_returns_as_soon_as_the_payment_is_applied(tmp_path: Path) -> None:
    done = Payment("cs_1", paid=True, fulfilled=True, credits_remaining=275)
    account = ScriptedAccount(tmp_path, [unpaid(), unpaid(), done])
    heard: list[float] = []
    payment = await account.wait_for_payment(
        "cs_1", timeout_s=30, on_wait=heard.append, sleep=account.sleep, clock=lambda: account.now
    )
    assert payment == done
    assert heard == [0.0, 1.0] and account.slept == [1.0, 1.0]


async def test_it_gives_up_at_the_timeout_without_sleeping_past_it(tmp_path: Path) -> None:
    account = ScriptedAccount(tmp_path, [unpaid()])
    payment = await account.wait_for_payment(
        "cs_1", timeout_s=2.5, sleep=account.sleep, clock=lambda: account.now
    )
    assert not payment.fulfilled
    assert account.slept == [1.0, 1.0, 0.5] and account.now == 2.5


async def test_a_subscription_is_applied_once_the_wallet_is_on_the_plan(tmp_path: Path) -> None:
    paid = Payment("cs_1", paid=True, fulfilled=False, credits_remaining=25)
    account = ScriptedAccount(tmp_path, [paid], plan="pro")
    payment = await account.wait_for_payment(
        "cs_1", timeout_s=10, plan="pro", sleep=account.sleep, clock=lambda: account.now
    )
    assert payment.fulfilled and payment.credits_remaining == 40 and account.slept == []
