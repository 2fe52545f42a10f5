"""``promptready credits ...`` against a real credit proxy with billing on, its Stripe being the
stand-in: the fake browser below plays the user on the Checkout page, and the stand-in delivers
its signed webhooks to the proxy while the command waits."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from promptready.cli import main
from promptready.cloud.wallet import Bucket
from tests.cloud.billing.stripe_standin import StripeStandin
from tests.e2e import conftest as e2e
from tests.e2e.conftest import WEBHOOK, RunningCloud, this_device


@dataclass
class Browser:
    """The user's browser: records the pages opened; on a Checkout page it pays (when
    ``pays``) a moment later, as a person would, on the Stripe stand-in."""

    standin: StripeStandin
    pays: bool = True
    opens: bool = True
    pages: list[str] = field(default_factory=list)

    def open(self, url: str, *args: object, **kwargs: object) -> bool:
        self.pages.append(url)
        if self.pays and "/pay/" in url:
            session = url.rsplit("/", 1)[-1]
            threading.Timer(0.3, self.standin.pay_session, (session,)).start()
        return self.opens


# The proxy with billing on, its webhooks from the Stripe stand-in.
cloud = e2e.billing_cloud


@pytest.fixture
def browser(standin: StripeStandin, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    fake = Browser(standin)
    monkeypatch.setattr("webbrowser.open", fake.open)
    yield fake


def status(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["credits", "status", "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_status_json_shows_the_free_allowance_of_a_new_device(
    cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status(capsys) == {
        "credits_remaining": 25,
        "buckets": {"free": 25, "purchased": 0, "subscription": 0},
        "reserved": 0,
        "cohort": "A",
        "plan": "free",
        "used_month": 0,
    }
    assert cloud.count("/api/v1/auth/device") == 1  # registered silently on first use


def test_status_prints_the_balance_buckets_plan_and_cohort(
    cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Balance: 25 credits"
    assert "  Free this month: 25" in lines and "Plan: Free" in lines and "Cohort: A" in lines


def test_the_migration_grant_is_claimed_once(
    cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "claim-migration"]) == 0
    assert capsys.readouterr().out == "Granted 500 credits; you now have 525.\n"
    assert main(["credits", "claim-migration"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("promptready: ") and "already claimed" in err
    assert status(capsys)["credits_remaining"] == 525


def test_buy_opens_checkout_and_waits_until_the_webhook_credits_the_pack(
    cloud: RunningCloud, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "buy", "Starter", "--timeout", "20"]) == 0
    out, err = capsys.readouterr()
    [page] = browser.pages
    assert page.startswith(browser.standin.url + "/pay/cs_")
    assert "Payment received; you now have 275 credits." in out
    assert "Waiting up to 20 s" in err
    assert cloud.count(WEBHOOK) >= 1
    assert cloud.credits(this_device()).buckets[Bucket.PURCHASED] == 250  # granted once


def test_buy_gives_up_with_a_clear_message_when_no_payment_arrives(
    cloud: RunningCloud, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    browser.pays = False
    assert main(["credits", "buy", "Starter", "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert "no payment was confirmed within 1 s" in err and "credits status" in err
    assert cloud.credits(this_device()).buckets[Bucket.PURCHASED] == 0


def test_buy_prints_the_page_when_no_browser_opens(
    cloud: RunningCloud, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    browser.opens = False
    assert main(["credits", "buy", "Starter", "--timeout", "20"]) == 0
    out = capsys.readouterr().out
    assert f"Open the payment page in your browser: {browser.pages[0]}" in out


def test_an_unknown_pack_is_the_services_sentence(
    cloud: RunningCloud, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "buy", "Gigantic"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("promptready: The credit service refused the request (400)")
    assert "Traceback" not in err and browser.pages == []


def test_a_bad_timeout_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("0", "-3", "nan", "soon"):
        with pytest.raises(SystemExit):
            main(["credits", "buy", "Starter", "--timeout", value])
        assert "is not a number of seconds" in capsys.readouterr().err


def test_the_portal_opens_after_the_first_purchase(
    cloud: RunningCloud, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "portal"]) == 1
    assert "after your first purchase" in capsys.readouterr().err
    assert main(["credits", "buy", "Starter", "--timeout", "20"]) == 0
    assert main(["credits", "portal"]) == 0
    assert "billing portal" in capsys.readouterr().out
    assert len(browser.pages) == 2


def test_subscribe_opens_checkout_for_pro_and_waits_for_the_plan(
    cloud: RunningCloud, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "subscribe", "--timeout", "20"]) == 0
    assert "Payment received" in capsys.readouterr().out
    assert status(capsys)["plan"] == "pro"


def test_auto_reload_turns_on_and_off(
    cloud: RunningCloud, browser: Browser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "buy", "Starter", "--timeout", "20"]) == 0
    capsys.readouterr()
    assert main(["credits", "auto-reload", "on"]) == 0
    assert capsys.readouterr().out.startswith("Auto-reload is on: below ")
    assert main(["credits", "auto-reload", "off"]) == 0
    assert capsys.readouterr().out.startswith("Auto-reload is off")


def test_status_of_an_empty_wallet_is_an_answer_not_an_error(
    cloud: RunningCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    status(capsys)  # registers the device
    cloud.grant(this_device(), 0)
    assert status(capsys)["credits_remaining"] == 0
