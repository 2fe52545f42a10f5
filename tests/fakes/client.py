"""A client for the gateway in tests: one chat call, or one left in flight while the test acts."""

from __future__ import annotations

import threading

import httpx

from tests.fakes.upstream import FakeUpstream

MESSAGES = [{"role": "user", "content": "hello"}]


def chat(url: str, token: str, model: str = "fake/fake-gpt") -> httpx.Response:
    """POST one non-streaming chat completion to the gateway at ``url``."""
    return httpx.post(
        f"{url}/v1/chat/completions",
        json={"model": model, "messages": MESSAGES},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


class InFlight:
    """A chat call running on its own thread, started once the upstream has received it."""

    def __init__(self, url: str, token: str, upstream: FakeUpstream) -> None:
        self._answers: list[httpx.Response] = []
        self._worker = threading.Thread(target=lambda: self._answers.append(chat(url, token)))
        self._worker.start()
        while not upstream.seen:
            threading.Event().wait(0.02)

    def answer(self) -> httpx.Response:
        """The response, once the call finishes (within 10 s)."""
        self._worker.join(timeout=10)
        assert self._answers, "the call in flight got no answer"
        return self._answers[0]
