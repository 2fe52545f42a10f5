"""Budgets hold under bursts: admission reserves each request's estimated cost before the upstream
call and settles to the actual cost after, so parallel requests cannot overshoot a budget."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from promptready.gateway.apps import AppLimits
from promptready.ledger.meter import Meter
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from promptready.pricing import cost_usd, load_rate_card
from tests.fakes.upstream import PROMPT_TOKENS, FakeUpstream, Script, serve
from tests.gateway.conftest import make_gateway

MODEL = "fake/gpt-4o-mini"
REPLY_TOKENS = 4  # the fake upstream answers "Rewritten prompt for gpt-4o-mini"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
PRICE = load_rate_card().price(MODEL)
assert PRICE is not None
ONE_CALL = cost_usd(PRICE, PROMPT_TOKENS, REPLY_TOKENS)  # $0.000004
# What admission holds for CHAT: (body bytes / 2) prompt + max_tokens completion tokens.
HOLD_AT_MOST = Decimal("0.00001")
BURST = 200


def run(
    upstream: FakeUpstream,
    tmp_path: Path,
    apps: list[AppLimits],
    bodies: list[dict[str, Any]],
    cap: Decimal | None = None,
) -> tuple[list[httpx.Response], list[dict[str, Any]]]:
    """Send ``bodies`` all at once (spread over one token per app) to a metered gateway; the
    responses, and the ledger rows once the server has stopped (which flushes the writer)."""
    gateway = make_gateway(upstream, tmp_path)
    gateway.meter = Meter(BatchWriter(tmp_path / "ledger.db"), load_rate_card(), cap)
    tokens = [gateway.apps.create(f"app{i}", limits)[1] for i, limits in enumerate(apps)]
    with serve(gateway, lifespan="on") as url:
        responses = asyncio.run(_send_all(f"{url}/v1/chat/completions", tokens, bodies))
    return responses, list(Ledger(tmp_path / "ledger.db").rows())


async def _send_all(
    url: str, tokens: list[str], bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        return await asyncio.gather(
            *(
                client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
                for token, body in zip(itertools.cycle(tokens), bodies, strict=False)
            )
        )


def spent(rows: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(row["cost_usd"]) for row in rows), Decimal(0))


def assert_refusals_are_final(responses: list[httpx.Response], phrase: str) -> None:
    refused = [r for r in responses if r.status_code != 200]
    assert refused, "the burst was meant to run into the budget"
    for response in refused:
        assert response.status_code == 402, response.text
        error = response.json()["error"]
        assert error["code"] == "budget_exceeded" and phrase in error["message"]
        assert response.headers["x-should-retry"] == "false"


def test_a_burst_never_takes_an_app_past_its_daily_budget(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    budget = ONE_CALL * 50
    responses, rows = run(upstream, tmp_path, [AppLimits(budget_usd_day=budget)], [CHAT] * BURST)
    assert spent(rows) <= budget
    assert_refusals_are_final(responses, "daily budget")
    answered = sum(r.status_code == 200 for r in responses)
    assert answered == sum(row["status"] == "ok" for row in rows) == len(upstream.seen)
    # Holds are released as calls settle, so at least budget / hold calls get in.
    assert budget // HOLD_AT_MOST <= answered <= 50


def test_a_burst_of_streams_never_takes_an_app_past_its_daily_budget(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    budget = ONE_CALL * 50
    streams = [{**CHAT, "stream": True}] * BURST
    responses, rows = run(upstream, tmp_path, [AppLimits(budget_usd_day=budget)], streams)
    assert spent(rows) <= budget
    answered = sum(r.status_code == 200 for r in responses)
    assert answered == sum(row["status"] == "ok" for row in rows) == len(upstream.seen)
    assert all(row["completion_tokens"] == REPLY_TOKENS for row in rows if row["status"] == "ok")
    assert 0 < answered <= 50


def test_a_burst_never_takes_the_local_api_past_its_monthly_cap(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    cap = ONE_CALL * 50
    apps = [AppLimits(), AppLimits()]  # no budgets of their own: only the cap applies
    responses, rows = run(upstream, tmp_path, apps, [CHAT] * BURST, cap=cap)
    assert spent(rows) <= cap
    assert_refusals_are_final(responses, "monthly cap")
    answered = sum(r.status_code == 200 for r in responses)
    assert cap // HOLD_AT_MOST <= answered <= 50
    assert {row["app"] for row in rows if row["status"] == "ok"} == {"app0", "app1"}


def test_a_request_that_could_overrun_the_budget_is_refused_before_the_upstream(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    # No max_tokens: the answer may run to 1,024 tokens ($0.0006), more than the whole budget.
    unbounded = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    limits = AppLimits(budget_usd_day=Decimal("0.0001"))
    (response,), rows = run(upstream, tmp_path, [limits], [unbounded])
    assert response.status_code == 402
    assert "may cost up to $0.00062" in response.json()["error"]["message"]
    assert "max_tokens" in response.json()["error"]["message"]
    assert upstream.seen == []
    assert [row["status"] for row in rows] == ["blocked"]


def test_a_failed_call_gives_its_hold_back(upstream: FakeUpstream, tmp_path: Path) -> None:
    upstream.script(Script(status=500))
    gateway = make_gateway(upstream, tmp_path)
    gateway.meter = Meter(BatchWriter(tmp_path / "ledger.db"), load_rate_card())
    # Room for one hold: the second call gets in only if the failed first one let go of its own.
    token = gateway.apps.create("one", AppLimits(budget_usd_day=HOLD_AT_MOST))[1]
    auth = {"Authorization": f"Bearer {token}"}
    with serve(gateway, lifespan="on") as url:
        first = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=auth)
        second = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=auth)
        usage = httpx.get(f"{url}/v1/usage", headers=auth).json()
    assert (first.status_code, second.status_code) == (500, 200)
    assert usage["spent_usd_today"] == str(ONE_CALL) and usage["held_usd"] == "0"
