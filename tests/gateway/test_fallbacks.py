"""Chat completions follow the fallback chain (and ``auto``) like AI mode does: a failure another
model may not share moves on to the next one while nothing has reached the client, never after;
the response headers name the provider and model that answered."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from keyrings.alt.file import PlaintextKeyring

from promptready.engine import Engine
from promptready.gateway.app import Gateway
from promptready.gateway.apps import AppRegistry
from promptready.ledger.meter import Meter
from promptready.ledger.store import Ledger
from promptready.ledger.writer import BatchWriter
from promptready.pricing import load_rate_card
from promptready.providers.http import HttpClient, Timeouts
from promptready.providers.registry import ProviderRegistry
from promptready.providers.retry import is_retryable
from promptready.providers.routing import AllRoutesFailedError, stream_with_fallback
from promptready.secrets import ApiKey, SecretStore
from promptready.settings import AISettings, Settings
from tests.fakes.client import chat
from tests.fakes.upstream import FakeUpstream, Script, serve

MESSAGES = [{"role": "user", "content": "hello"}]


@dataclass
class TwoUpstreams:
    url: str  # the gateway's base URL, ending in /v1
    auth: dict[str, str]
    primary: FakeUpstream  # "fake", serving gpt-4o-mini
    backup: FakeUpstream  # "backup", serving fake-gpt: the configured fallback
    ledger: Path

    def chat(self, model: str = "fake/gpt-4o-mini", **body: object) -> httpx.Response:
        payload = {"model": model, "messages": MESSAGES, **body}
        return httpx.post(f"{self.url}/chat/completions", json=payload, headers=self.auth)


def engine_over(
    primary_url: str,
    backup_url: str,
    http: HttpClient | None = None,
    first_byte_s: int = 10,
    deadline_s: int = 30,
) -> Engine:
    """AI mode on ``fake/gpt-4o-mini`` with ``backup/fake-gpt`` as its fallback."""
    secrets = SecretStore(PlaintextKeyring())
    secrets.set_key("fake", ApiKey("sk-primary-0123456789"))
    secrets.set_key("backup", ApiKey("sk-backup-0123456789"))
    ai = AISettings(
        provider="fake",
        model="gpt-4o-mini",
        fallbacks=("backup/fake-gpt",),
        routing="cheapest",
        custom_providers={"fake": primary_url, "backup": backup_url},
        first_byte_s=first_byte_s,
        deadline_s=deadline_s,
    )
    return Engine(Settings(ai=ai), ProviderRegistry(ai, secrets, http))


def gateway_over(
    primary_url: str,
    backup_url: str,
    home: Path,
    http: HttpClient | None = None,
    first_byte_s: int = 10,
    deadline_s: int = 30,
) -> Gateway:
    engine = engine_over(primary_url, backup_url, http, first_byte_s, deadline_s)
    gateway = Gateway(engine, AppRegistry(home / "apps.toml"))
    gateway.meter = Meter(BatchWriter(home / "ledger.db"), load_rate_card())
    return gateway


@contextmanager
def running(
    upstream: FakeUpstream,
    tmp_path: Path,
    first_byte_s: int = 10,
    deadline_s: int = 30,
    http: HttpClient | None = None,
) -> Iterator[TwoUpstreams]:
    """The gateway over ``upstream`` and a second fake; the ledger is flushed on exit."""
    backup = FakeUpstream()
    with serve(backup) as backup_url:
        backup.base_url = f"{backup_url}/v1"
        gateway = gateway_over(
            upstream.base_url, backup.base_url, tmp_path, http, first_byte_s, deadline_s
        )
        token = gateway.apps.create("tests")[1]
        with serve(gateway, lifespan="on") as url:
            yield TwoUpstreams(
                f"{url}/v1",
                {"Authorization": f"Bearer {token}"},
                upstream,
                backup,
                tmp_path / "ledger.db",
            )


@pytest.fixture
def two(upstream: FakeUpstream, tmp_path: Path) -> Iterator[TwoUpstreams]:
    with running(upstream, tmp_path) as both:
        yield both


def answered_by(response: httpx.Response) -> tuple[str, str]:
    return response.headers["x-promptready-provider"], response.headers["x-promptready-model"]


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
def test_a_status_another_model_may_not_share_falls_back_to_the_next_model(
    two: TwoUpstreams, status: int
) -> None:
    two.primary.script(Script(status=status, retry_after="30"))
    response = two.chat()
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Rewritten prompt for fake-gpt"
    assert answered_by(response) == ("backup", "fake-gpt")
    assert len(two.primary.seen) == 1 and two.backup.seen[0].body["model"] == "fake-gpt"


def test_without_a_failure_the_requested_model_answers(two: TwoUpstreams) -> None:
    response = two.chat()
    assert answered_by(response) == ("fake", "gpt-4o-mini")
    assert two.backup.seen == []


def test_a_client_error_is_not_retried_on_another_model(two: TwoUpstreams) -> None:
    two.primary.script(Script(status=400))
    response = two.chat()
    assert response.status_code == 400
    assert answered_by(response) == ("fake", "gpt-4o-mini")
    assert two.backup.seen == []


def test_when_every_model_fails_the_last_answer_is_passed_through(two: TwoUpstreams) -> None:
    two.primary.script(Script(status=503))
    two.backup.script(Script(status=429, retry_after="7"))
    response = two.chat()
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert answered_by(response) == ("backup", "fake-gpt")


def test_an_unreachable_upstream_falls_back(upstream: FakeUpstream, tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/v1"  # nothing listens here
        gateway = gateway_over(dead_url, upstream.base_url, tmp_path)
        token = gateway.apps.create("tests")[1]
        with serve(gateway, lifespan="on") as url:
            response = chat(url, token, "fake/gpt-4o-mini")
    assert response.status_code == 200
    assert answered_by(response) == ("backup", "fake-gpt")


def test_an_upstream_that_goes_quiet_falls_back(upstream: FakeUpstream, tmp_path: Path) -> None:
    backup = FakeUpstream()
    with serve(backup) as backup_url:
        quick = HttpClient(Timeouts(idle_s=0.3))  # no byte for 0.3 s: a timeout
        gateway = gateway_over(upstream.base_url, f"{backup_url}/v1", tmp_path, quick)
        token = gateway.apps.create("tests")[1]
        upstream.script(Script(hang_s=2))
        with serve(gateway, lifespan="on") as url:
            response = chat(url, token, "fake/gpt-4o-mini")
    assert response.status_code == 200
    assert answered_by(response) == ("backup", "fake-gpt")


def test_a_stream_falls_back_before_its_first_byte(two: TwoUpstreams) -> None:
    two.primary.script(Script(status=503))
    response = two.chat(stream=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert answered_by(response) == ("backup", "fake-gpt")
    assert '"Rewritten"' in response.text and response.text.endswith("data: [DONE]\n\n")


def test_a_stream_never_falls_back_once_it_started(two: TwoUpstreams) -> None:
    two.primary.script(Script(cut_after_chunks=2))
    response = two.chat(stream=True)
    events = [e for e in response.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]" and '"upstream_stream_error"' in events[-2]
    assert answered_by(response) == ("fake", "gpt-4o-mini")
    assert two.backup.seen == []


def test_auto_takes_the_ranked_models_in_order(two: TwoUpstreams) -> None:
    # "cheapest": gpt-4o-mini has a rate card price, fake-gpt has none and ranks last.
    assert answered_by(two.chat("auto")) == ("fake", "gpt-4o-mini")
    two.primary.script(Script(status=500))
    assert answered_by(two.chat("auto")) == ("backup", "fake-gpt")


def test_embeddings_do_not_fall_back(two: TwoUpstreams) -> None:
    two.primary.script(Script(status=503))
    response = httpx.post(
        f"{two.url}/embeddings",
        json={"model": "fake/text-embedding-3-small", "input": "hi"},
        headers=two.auth,
    )
    assert response.status_code == 503
    assert two.backup.seen == []


def test_the_ledger_row_names_the_model_that_answered_and_the_hops(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    with running(upstream, tmp_path) as two:
        two.primary.script(Script(status=503))
        request_id = two.chat().headers["x-request-id"]
    (row,) = Ledger(tmp_path / "ledger.db").rows()  # flushed when the gateway stopped
    assert (row["provider"], row["model"], row["status"]) == ("backup", "fake-gpt", "ok")
    assert row["hops"] == "fake/gpt-4o-mini:503 → backup/fake-gpt:ok"
    assert row["request_id"] == request_id


async def test_calls_hung_on_one_provider_leave_connections_for_another(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    """100 calls stuck on the primary (a full pool for that provider) must not make a call to
    the backup wait: it answers at once, not when the hung calls give up."""
    upstream.script(*[Script(hang_s=8)] * 100)
    with running(upstream, tmp_path) as two:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            url, body = f"{two.url}/chat/completions", {"messages": MESSAGES}
            hung = [
                asyncio.ensure_future(
                    client.post(url, json={**body, "model": "fake/gpt-4o-mini"}, headers=two.auth)
                )
                for _ in range(100)
            ]
            for _ in range(200):
                if len(upstream.seen) >= 100:
                    break
                await asyncio.sleep(0.05)
            assert len(upstream.seen) == 100
            answer = await client.post(
                url, json={**body, "model": "backup/fake-gpt"}, headers=two.auth, timeout=1.0
            )
            assert answer.status_code == 200 and answered_by(answer) == ("backup", "fake-gpt")
            for call in hung:
                call.cancel()  # the clients hang up; the gateway cuts the upstream calls
            await asyncio.gather(*hung, return_exceptions=True)


def test_an_upstream_redirect_is_not_followed_and_the_error_names_it(two: TwoUpstreams) -> None:
    elsewhere = "http://127.0.0.1:9/v1/chat/completions"
    two.primary.script(Script(redirect_to=elsewhere))
    response = two.chat()
    assert response.status_code == 502
    assert f"redirect (307 to {elsewhere})" in response.json()["error"]["message"]
    assert len(two.primary.seen) == 1 and two.backup.seen == []


def test_a_stream_from_a_silent_provider_falls_back_after_the_first_byte_clock(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.script(Script(hang_s=6))
    with running(upstream, tmp_path, first_byte_s=1) as two:
        started = time.monotonic()
        response = two.chat(stream=True)
        waited = time.monotonic() - started
        assert response.status_code == 200 and answered_by(response) == ("backup", "fake-gpt")
    assert waited < 5  # the clock, not the provider's 6 s
    (row,) = Ledger(tmp_path / "ledger.db").rows()
    assert row["hops"] == "fake/gpt-4o-mini:timeout → backup/fake-gpt:ok"


async def _ai_mode_moves_on(engine: Engine) -> bool:
    """Whether AI mode's route loop (its routes, its policy) left the primary for the backup."""

    async def no_wait(seconds: float) -> None:
        return None

    try:
        routes, policy = engine.ai_routes(), engine.fallback_policy()
        stream = stream_with_fallback(routes, {"messages": MESSAGES}, policy=policy, sleep=no_wait)
        answered = {route.provider.name async for route, _ in stream}
    except AllRoutesFailedError:
        return False
    finally:
        await engine.close()
    return answered == {"backup"}


@pytest.mark.parametrize("status", [400, 401, 404, 408, 409, 422, 429, 500, 501, 503, 529])
async def test_the_gateway_moves_on_from_exactly_the_statuses_ai_mode_moves_on_from(
    two: TwoUpstreams, status: int
) -> None:
    two.primary.script(Script(status=status))
    through_gateway = answered_by(two.chat())[0] == "backup"
    engine = engine_over(two.primary.base_url, two.backup.base_url)
    two.primary.script(*[Script(status=status)] * engine.fallback_policy().retry.attempts)
    assert through_gateway == await _ai_mode_moves_on(engine) == is_retryable(status)


def test_a_json_call_hung_on_every_route_ends_at_the_deadline_and_its_row_says_so(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    # The idle timeout leaves the primary at 1.5 s; the backup would hang until 3 s without the
    # deadline of 2 s.
    upstream.script(Script(hang_s=6))
    with running(upstream, tmp_path, deadline_s=2, http=HttpClient(Timeouts(idle_s=1.5))) as two:
        two.backup.script(Script(hang_s=6))
        started = time.monotonic()
        response = two.chat()
        waited = time.monotonic() - started
    assert waited < 2.9
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_unavailable" and "ai.deadline_s" in error["message"]
    (row,) = Ledger(tmp_path / "ledger.db").rows()
    assert (row["status"], row["error_code"]) == ("error", "deadline_exceeded")
    assert row["hops"] == "fake/gpt-4o-mini:timeout → backup/fake-gpt:deadline"


def test_a_stream_that_started_is_not_cut_at_the_deadline(
    upstream: FakeUpstream, tmp_path: Path
) -> None:
    upstream.script(Script(content="one two three", chunk_delay_s=0.6))  # about 1.8 s in all
    with running(upstream, tmp_path, deadline_s=1) as two:
        started = time.monotonic()
        response = two.chat(stream=True)
        waited = time.monotonic() - started
        assert two.backup.seen == []
    assert waited > 1.5
    assert answered_by(response) == ("fake", "gpt-4o-mini")
    assert '" three"' in response.text and response.text.endswith("data: [DONE]\n\n")
    assert "error" not in response.text
    (row,) = Ledger(tmp_path / "ledger.db").rows()
    assert (row["status"], row["error_code"], row["hops"]) == ("ok", None, None)
