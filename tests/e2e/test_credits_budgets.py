"""A local API app's budgets bound its ``credits/...`` calls as they bound its own-key ones: each
call counts its credits at the dearest pack's price per credit, and a call that would not fit is
refused before it reaches the credit service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from promptready.engine import open_engine
from promptready.gateway.apps import AppLimits
from promptready.gateway.assemble import build_gateway
from promptready.ledger.store import Ledger
from promptready.paths import app_paths
from promptready.pricing import load_rate_card
from tests.e2e.conftest import StartCloud
from tests.fakes.upstream import serve

CHAT = "/v1/chat/completions"
HELLO = {"model": "credits/default", "messages": [{"role": "user", "content": "hello"}]}


def call(url: str, token: str, path: str = CHAT) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if path == CHAT:
        return httpx.post(f"{url}{path}", json=HELLO, headers=headers, timeout=30)
    return httpx.get(f"{url}{path}", headers=headers, timeout=30)


def test_a_credits_call_is_charged_to_the_apps_budget(start_cloud: StartCloud) -> None:
    start_cloud()
    gateway = build_gateway(open_engine("gateway")[0])
    _, token = gateway.apps.create("editor", AppLimits(budget_usd_month=Decimal("5")))
    with serve(gateway, lifespan="on") as url:
        answer = call(url, token)
        usage = call(url, token, "/v1/usage").json()
    assert answer.status_code == 200, answer.text
    card = load_rate_card()
    one_credit = card.credits_usd(1)
    assert one_credit == Decimal("0.03")  # the Micro pack: $3 for 100 credits
    row = last_row()
    assert row["mode"] == "credits" and row["credits"] >= 1
    assert Decimal(row["cost_usd"]) == one_credit * row["credits"]
    assert Decimal(usage["spent_usd_month"]) == Decimal(row["cost_usd"])


def last_row() -> dict[str, Any]:
    """The ledger's newest row."""
    ledger = Ledger(app_paths().ledger_file)
    try:
        (row,) = ledger.last(1)
    finally:
        ledger.close()
    return dict(row)


def test_a_credits_call_over_the_apps_budget_is_refused(start_cloud: StartCloud) -> None:
    cloud = start_cloud()
    gateway = build_gateway(open_engine("gateway")[0])
    _, token = gateway.apps.create("editor", AppLimits(budget_usd_day=Decimal("0.01")))
    with serve(gateway, lifespan="on") as url:
        refused = call(url, token)
    assert refused.status_code == 402, refused.text
    assert "daily budget" in refused.json()["error"]["message"]
    assert cloud.count(CHAT) == 0  # refused before the credit service was asked
