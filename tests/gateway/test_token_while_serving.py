"""A token created on the CLI while ``promptready serve`` runs works on its very first request,
even when the server has just re-read the apps file (its re-read is throttled to once a second)."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.fakes.client import MESSAGES
from tests.gateway.test_serve_command import configured, server  # noqa: F401 - fixtures

CHAT = {"model": "fake/gpt-4o-mini", "messages": MESSAGES}


def _chat(url: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {token}"}
    )


def test_a_token_created_while_serving_works_at_once(
    server: tuple[subprocess.Popen[str], str],  # noqa: F811 - the imported fixture
    configured: str,  # noqa: F811
) -> None:
    _, url = server
    # A request with the old token makes the server read the apps file just now.
    assert _chat(url, configured).status_code == 200
    created = subprocess.run(
        [sys.executable, "-m", "promptready", "tokens", "create", "newcomer"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = created.stdout.strip().splitlines()[-1]
    assert _chat(url, token).status_code == 200


def test_a_mistyped_token_is_still_refused_after_the_fresh_read(
    server: tuple[subprocess.Popen[str], str],  # noqa: F811
    configured: str,  # noqa: F811
) -> None:
    _, url = server
    assert _chat(url, configured + "x").status_code == 401
