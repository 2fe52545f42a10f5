"""Hypothesis strategies for hostile raw HTTP/1.1 requests: request lines, Host/Origin/auth
headers, framing (Content-Length right, wrong, doubled, chunked) and bodies from valid chat JSON
to garbage. Shared by the fuzz test and ``bench/http_fuzz.py``."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from promptready.gateway.app import GatewayConfig
from promptready.gateway.protocol import Limits
from tests.gateway.raw import RawResponse, connect, read_response

T = TypeVar("T")
# The gateway under fuzzing: a small body limit, one allow-listed origin, short deadlines so
# framing that promises more than it sends is answered quickly.
FUZZ_CONFIG = GatewayConfig(
    max_body_bytes=64 * 1024, allowed_origins=frozenset({b"http://localhost:3000"})
)
FUZZ_LIMITS = Limits(idle_s=1, head_s=0.5, body_s=0.5, max_connections=64)
TOKEN = "{token}"  # replaced by the live gateway's token
PORT = "{port}"

METHODS = [b"GET", b"POST", b"OPTIONS", b"HEAD", b"PUT", b"DELETE", b"PATCH", b"TRACE"]
TARGETS = [
    b"/v1/chat/completions",
    b"/v1/embeddings",
    b"/v1/responses",
    b"/v1/models",
    b"/v1/usage",
    b"/health",
    b"*",
    b"http://evil.com/v1/chat/completions",
    b"http://127.0.0.1:{port}/v1/models",
    b"/v1/chat/completions?stream=true",
    b"/v1/../v1/models",
    b"/%2e%2e/v1/models",
    b"//v1/models",
    b"/v1/chat/completions#frag",
]
HOSTS = [
    b"127.0.0.1:{port}",
    b"localhost:{port}",
    b"[::1]:{port}",
    b"localhost",
    b"127.0.0.1:{port}@evil.com",
    b"localhost:evil.com",
    b"[::1].evil.com",
    b"evil.example",
    b"localhost:1",
    b"",
    b"LOCALHOST:{port}",
    b"127.0.0.1:00{port}",
]
AUTHS = [b"Bearer {token}", b"bearer {token}", b"Bearer pr-nope", b"Basic dXNlcg==", b"Bearer "]
ORIGINS = [b"http://localhost:3000", b"https://evil.example", b"null", b"http://localhost:3000/"]
MODELS = [
    "fake-gpt",
    "promptready/offline",
    "promptready/auto",
    "groq/llama",
    "",
    "fake-gpt\r\nx: y",
]


def mostly(usual: st.SearchStrategy[T], odd: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``usual`` nine times in ten, by a true coin (hypothesis's own choices favour the odd
    branch): enough requests must get far enough to test the app."""
    return st.tuples(st.randoms(use_true_random=True), usual, odd).map(
        lambda drawn: drawn[2] if drawn[0].random() < 0.1 else drawn[1]
    )


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
messages = (
    st.lists(
        st.fixed_dictionaries(
            {"role": st.sampled_from(["user", "system", "assistant"]) | json_values},
            optional={"content": st.text(max_size=40) | json_values},
        ),
        max_size=3,
    )
    | json_values
)
chat = st.fixed_dictionaries(
    {
        "model": mostly(st.just("fake-gpt"), st.sampled_from(MODELS) | json_values),
        "messages": mostly(st.just([{"role": "user", "content": "hi"}]), messages),
    },
    optional={
        "input": st.text(max_size=20) | json_values,
        "stream": st.booleans() | json_values,
        "stream_options": st.fixed_dictionaries({"include_usage": st.booleans() | scalars})
        | json_values,
        "max_tokens": st.integers(-5, 10**6) | scalars,
        "n": st.integers(-1, 3) | scalars,
        "metadata": json_values,
    },
).map(orjson.dumps)
deep = st.integers(1, 1200).map(
    lambda d: b'{"model": "fake-gpt", "x": ' + b"[" * d + b"]" * d + b"}"
)
bodies = chat | deep | st.binary(max_size=120) | json_values.map(orjson.dumps)
names = st.sampled_from(
    [b"X-Custom", b"Accept", b"Content-Type", b"Connection", b"Upgrade", b"Cookie"]
) | st.binary(min_size=1, max_size=12)
values = st.sampled_from([b"close", b"keep-alive", b"websocket", b"application/json"]) | st.binary(
    max_size=40
)


@dataclass(frozen=True)
class Shape:
    """How a request is framed."""

    method: bytes
    target: bytes
    version: bytes
    hosts: list[bytes]
    auth: bytes | None
    origin: bytes | None
    preflight: bool
    expect: bytes | None
    length: str  # "right", "none", "short", "long", "garbage", "double", "chunked"
    extra: list[tuple[bytes, bytes]]
    body: bytes

    def encode(self, port: int, token: str) -> bytes:
        """The request's bytes, with the live port and token filled in."""

        def fill(raw: bytes) -> bytes:
            return raw.replace(b"{port}", str(port).encode()).replace(b"{token}", token.encode())

        lines = [fill(self.method + b" " + self.target + b" " + self.version)]
        lines += [b"Host: " + fill(h) for h in self.hosts]
        if self.auth is not None:
            lines.append(b"Authorization: " + fill(self.auth))
        if self.origin is not None:
            lines.append(b"Origin: " + self.origin)
        if self.preflight:
            lines.append(b"Access-Control-Request-Method: POST")
        if self.expect is not None:
            lines.append(b"Expect: " + self.expect)
        lines += [n + b": " + v for n, v in self.extra]
        body = self.body
        size = len(body)
        framing = {
            "right": [b"Content-Length: %d" % size],
            "short": [b"Content-Length: %d" % max(0, size - 3)],
            "long": [b"Content-Length: %d" % (size + 3)],
            "garbage": [b"Content-Length: 1x"],
            "double": [b"Content-Length: %d" % size, b"Content-Length: %d" % (size + 1)],
            "chunked": [b"Transfer-Encoding: chunked"],
            "none": [],
        }[self.length]
        if self.length == "chunked":
            body = (b"%x\r\n" % size + body + b"\r\n" if size else b"") + b"0\r\n\r\n"
        return b"\r\n".join([*lines, *framing]) + b"\r\n\r\n" + body


shapes = st.builds(
    Shape,
    method=mostly(
        st.sampled_from([b"POST", b"GET", b"OPTIONS"]),
        st.sampled_from(METHODS) | st.binary(min_size=1, max_size=6),
    ),
    target=mostly(st.sampled_from(TARGETS[:6]), st.sampled_from(TARGETS) | st.binary(max_size=24)),
    version=mostly(st.just(b"HTTP/1.1"), st.sampled_from([b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1x"])),
    hosts=mostly(
        st.sampled_from(HOSTS[:4]).map(lambda h: [h]),
        st.lists(st.sampled_from(HOSTS) | st.binary(max_size=20), max_size=2),
    ),
    auth=mostly(st.just(AUTHS[0]), st.none() | st.sampled_from(AUTHS) | st.binary(max_size=20)),
    origin=mostly(st.none(), st.sampled_from(ORIGINS)),
    preflight=mostly(st.just(False), st.just(True)),
    expect=mostly(st.none(), st.sampled_from([b"100-continue", b"teapot"])),
    length=mostly(
        st.just("right"), st.sampled_from(["none", "short", "long", "garbage", "double", "chunked"])
    ),
    extra=mostly(st.just([]), st.lists(st.tuples(names, values), max_size=3)),
    body=mostly(chat, deep | st.binary(max_size=120) | json_values.map(orjson.dumps)),
)


@dataclass
class Tally:
    """What the fuzzed server answered, by class; ``failures`` holds the bad ones."""

    sent: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, bytes]] = field(default_factory=list)
    samples: dict[str, bytes] = field(default_factory=dict)  # one request of each class
    logged: list[str] = field(default_factory=list)  # errors the server logged

    def send(self, port: int, raw: bytes, timeout_s: float = 5.0) -> RawResponse | None:
        """Send one request on a fresh connection and record how it was answered."""
        self.sent += 1
        try:
            with connect(port, timeout_s) as sock:
                # Refused mid-send: the answer, if any, is still there to read.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(raw)
                response = read_response(sock)
        except TimeoutError:
            self.answers["no answer in time"] += 1
            self.failures.append(("no answer in time", raw))
            return None
        except ConnectionResetError:
            self.answers["reset"] += 1
            return None
        if response is None:
            self.answers["closed without answer"] += 1
            return None
        kind = f"{response.status} {_code(response)}"
        self.answers[kind] += 1
        self.samples.setdefault(kind, raw)
        if response.status >= 500:
            self.failures.append((f"{response.status} {response.body[:200]!r}", raw))
        return response


def _code(response: RawResponse) -> str:
    """The OpenAI error code of an answer, or what kind of answer it is."""
    if response.status < 300:
        return "ok"
    if not response.body:
        return "(no body: HEAD)"
    try:
        return str(orjson.loads(response.body)["error"]["code"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return "(not an OpenAI error)"


class ServerErrors(logging.Handler):
    """Every error uvicorn logs (an exception that escaped the app), kept while installed.
    Enter it once the server runs: uvicorn's logging setup replaces the logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))

    def __enter__(self) -> ServerErrors:
        logging.getLogger("uvicorn.error").addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger("uvicorn.error").removeHandler(self)


def fuzz(port: int, token: str, examples: int, seed_value: int | None = None) -> Tally:
    """Send ``examples`` hostile requests to a running gateway; what it answered, and (in
    ``Tally.logged``) every error uvicorn logged meanwhile."""
    tally = Tally()

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(shapes)
    def one(shape: Shape) -> None:
        tally.send(port, shape.encode(port, token))

    run = one if seed_value is None else seed(seed_value)(one)
    with ServerErrors() as errors:
        run()
    tally.logged = errors.records
    return tally
