"""The UI's facade over the local API: lifecycle and app tokens, nothing of gateway/ leaking."""

from __future__ import annotations

from decimal import Decimal

import httpx

from promptready.local_api import AppLimits, LocalApi, sdk_snippet


def test_start_and_stop() -> None:
    api = LocalApi()
    url = api.start(0)
    running = api.url
    assert running == url and httpx.get(f"{url}/health").status_code == 200
    api.stop()
    assert api.url is None
    api.stop()  # twice is fine


def test_tokens_are_created_listed_updated_and_revoked() -> None:
    api = LocalApi()
    _, token = api.create("editor", AppLimits(budget_usd_day=Decimal("2")))
    assert token.startswith("pr-") and [a.name for a in api.apps()] == ["editor"]
    api.update("editor", AppLimits(budget_usd_month=Decimal("9")))
    assert api.apps()[0].limits == AppLimits(budget_usd_month=Decimal("9"))
    assert api.revoke("editor") and not api.revoke("editor")
    assert api.apps() == []


def test_the_snippet_uses_the_openai_sdk_against_the_url() -> None:
    snippet = sdk_snippet("http://127.0.0.1:8788", "pr-abc")
    assert 'OpenAI(base_url="http://127.0.0.1:8788/v1", api_key="pr-abc")' in snippet
    compile(snippet, "<snippet>", "exec")
