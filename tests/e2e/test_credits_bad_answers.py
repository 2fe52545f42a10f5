"""A credit service that answers badly (not JSON, wrong types, unusable tokens, 5xx, redirects,
a payment page that is not a web page): one clear line, exit 1, no traceback, nothing opened."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from promptready.cli import main
from promptready.providers.credits import MAX_ANSWER_BYTES
from tests.fakes.upstream import Receive, Scope, Send, serve

GOOD_SIGN_IN = {
    "access_token": "token-abc",
    "token_type": "bearer",
    "expires_in": 3600,
    "device_secret": "secret-xyz",
}
WALLET = {
    "status": "OK",
    "credits_remaining": 25,
    "cohort": "A",
    "plan": "free",
    "buckets": {"free": 25},
    "reserved": 0,
}


@dataclass
class FakeService:
    """Answers each path with what the test scripted (sign-in and wallet are good by default)."""

    answers: dict[str, tuple[int, bytes, list[tuple[bytes, bytes]]]] = field(default_factory=dict)

    def answer(
        self, path: str, status: int, body: object, headers: dict[str, str] | None = None
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        pairs = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
        self.answers[path] = (status, raw, pairs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        status, body, headers = self.answers.get(scope["path"], (404, b"{}", []))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeService]:
    fake = FakeService()
    fake.answer("/api/v1/auth/device", 201, GOOD_SIGN_IN)
    fake.answer(
        "/api/v1/auth/refresh", 200, {k: v for k, v in GOOD_SIGN_IN.items() if k != "device_secret"}
    )
    fake.answer("/api/v1/credits", 200, WALLET)
    with serve(fake) as url:
        monkeypatch.setenv("PROMPTREADY_CLOUD_URL", url)
        yield fake


def fails_with(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["credits", *argv]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("promptready: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "secret-xyz" not in err and "token-abc" not in err
    return err


def test_the_fake_service_is_usable_as_scripted(
    service: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["credits", "status"]) == 0
    assert capsys.readouterr().out.startswith("Balance: 25 credits")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html>oops</html>", "not a JSON object"),
        (b"[1, 2]", "not a JSON object"),
        ({**WALLET, "credits_remaining": "lots"}, "credits_remaining is not a whole number"),
        ({**WALLET, "credits_remaining": True}, "credits_remaining is not a whole number"),
        ({**WALLET, "buckets": {"free": "25"}}, "buckets is not a table"),
        ({**WALLET, "buckets": None}, "buckets is not a table"),
        ({**WALLET, "plan": 7}, "plan is not text"),
        ({**WALLET, "plan": "\x1b[2Jpro"}, "plan is not text"),
        ({**WALLET, "buckets": {"\x1b[31mfree": 1}}, "buckets is not a table"),
        ({k: v for k, v in WALLET.items() if k != "cohort"}, "cohort is not text"),
    ],
)
def test_a_wallet_answer_of_the_wrong_shape_is_one_clear_line(
    service: FakeService, capsys: pytest.CaptureFixture[str], body: object, says: str
) -> None:
    service.answer("/api/v1/credits", 200, body)
    assert says in fails_with(capsys, "status")


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (500, "server error (500)"),
        (502, "server error (502)"),
        (403, "refused the request (403)"),
        (302, "answered with a redirect"),
    ],
)
def test_an_error_status_is_one_clear_line(
    service: FakeService, capsys: pytest.CaptureFixture[str], status: int, says: str
) -> None:
    service.answer("/api/v1/credits", status, b"not json", {"Location": "http://elsewhere/"})
    assert says in fails_with(capsys, "status")


@pytest.mark.parametrize(
    "sign_in",
    [
        b"not json",
        {**GOOD_SIGN_IN, "access_token": 5},
        {**GOOD_SIGN_IN, "access_token": "two\r\nlines"},
        {**GOOD_SIGN_IN, "access_token": ""},
        {**GOOD_SIGN_IN, "device_secret": None},
        {**GOOD_SIGN_IN, "device_secret": "x" * 1000},
    ],
)
def test_an_unusable_sign_in_answer_is_one_clear_line(
    service: FakeService, capsys: pytest.CaptureFixture[str], sign_in: object
) -> None:
    service.answer("/api/v1/auth/device", 201, sign_in)
    err = fails_with(capsys, "status")
    assert "credit service sent" in err


def test_an_endless_answer_is_cut_off_with_one_clear_line(
    service: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.answer("/api/v1/credits", 200, b" " * (MAX_ANSWER_BYTES + 10))
    assert "far larger than any of its own" in fails_with(capsys, "status")


def test_a_registration_refused_by_a_server_error_is_one_clear_line(
    service: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.answer("/api/v1/auth/device", 500, {"error": {"message": "boom"}})
    assert "server error (500)" in fails_with(capsys, "status")


def test_a_payment_page_that_is_not_a_web_page_is_never_opened(
    service: FakeService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def browser(url: str, *args: object, **kwargs: object) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    for url in ("javascript:alert(1)", "file:///etc/passwd", 42):
        service.answer("/api/v1/billing/checkout", 200, {"url": url, "session_id": "cs_1"})
        err = fails_with(capsys, "buy", "Starter")
        assert "payment page is not a web address" in err or "url is not text" in err
    assert opened == []
