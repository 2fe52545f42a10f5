"""Gateway calls land in the ledger; budgets are enforced before the upstream is called."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx

from promptready.gateway.apps import AppLimits
from promptready.ledger.meter import Meter
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from promptready.pricing import load_rate_card
from tests.fakes.upstream import FakeUpstream, serve
from tests.gateway.conftest import make_gateway

# The fake upstream bills 9 prompt + 4 completion tokens: $0.000004 at gpt-4o-mini's rate card
# price. Admission holds an estimate (body bytes / 2 prompt tokens + max_tokens), about $0.000009
# for this body, so a $0.00001 budget admits the first call and not the second.
CHAT = {
    "model": "fake/gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
    "max_tokens": 4,
}


def test_calls_are_metered_and_budgets_enforced(upstream: FakeUpstream, tmp_path: Path) -> None:
    app = make_gateway(upstream, tmp_path)
    app.meter = Meter(BatchWriter(tmp_path / "ledger.db"), load_rate_card())
    _, token = app.apps.create("tight", AppLimits(budget_usd_day=Decimal("0.00001")))
    auth = {"Authorization": f"Bearer {token}"}
    with serve(app, lifespan="on") as url:
        first = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=auth)
        second = httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=auth)
        usage = httpx.get(f"{url}/v1/usage", headers=auth).json()
    assert first.status_code == 200
    assert second.status_code == 402
    assert second.json()["error"]["code"] == "budget_exceeded"
    assert second.headers["x-should-retry"] == "false"
    assert "daily budget" in second.json()["error"]["message"]
    assert len(upstream.seen) == 1
    assert usage["app"] == "tight" and usage["spent_usd_today"] == "0.000004"
    rows = list(Ledger(tmp_path / "ledger.db").rows())  # the writer flushed on shutdown
    assert [(r["status"], r["app"]) for r in rows] == [("ok", "tight"), ("blocked", "tight")]
    assert rows[0]["request_id"] == first.headers["x-request-id"]
    assert rows[0]["cost_usd"] == "0.000004" and rows[0]["prompt_tokens"] == 9
