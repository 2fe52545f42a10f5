"""``promptready-cloud admin reconcile [--since DATE]`` from the command line: exit 0 when Stripe
and the ledger agree, 1 on a difference, 2 for a bad date."""

from __future__ import annotations

import pytest

from promptready.cloud.cli import main
from tests.cloud.billing.conftest import JWT_SECRET, SECRET
from tests.cloud.billing.stripe_standin import StripeStandin


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, standin: StripeStandin
) -> StripeStandin:
    for name, value in {
        "PROMPTREADY_CLOUD_DATABASE_URL": sqlite_url,
        "PROMPTREADY_CLOUD_JWT_SECRET": JWT_SECRET,
        "STRIPE_API_KEY": "sk_test_cli",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": standin.url,
    }.items():
        monkeypatch.setenv(name, value)
    return standin


def test_nothing_to_reconcile_exits_0(
    environment: StripeStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["admin", "reconcile", "--since", "2026-01-01"]) == 0
    assert capsys.readouterr().out.startswith("0 differences")


def test_a_payment_stripe_has_and_the_ledger_lacks_exits_1(
    environment: StripeStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    import stripe

    client = stripe.StripeClient("sk_test_cli", base_addresses={"api": environment.url})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 500}}],
        }
    )
    environment.pay_session(session.id)
    assert main(["admin", "reconcile"]) == 1
    assert f"DIFFERENCE checkout {session.id}" in capsys.readouterr().out


def test_a_bad_date_is_one_line_and_exit_2(
    environment: StripeStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["admin", "reconcile", "--since", "last tuesday"])
    assert exited.value.code == 2
    assert "--since must be a date like 2026-12-01" in capsys.readouterr().err
