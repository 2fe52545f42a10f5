"""Fuzz the live gateway with hostile raw HTTP/1.1 requests (hypothesis over request lines,
Host/Origin/auth headers, framing and bodies; see tests/gateway/hostile.py) on the production
stack (``server.make_server``: uvicorn, the guarded protocol) before the fake upstream, metered.

Prints how many requests were sent, the answers by class, and every failure: a 5xx, a request
with no answer in time, an error uvicorn logged (an exception that escaped the app), or a server
that stopped answering. Exit status 1 on any failure. Not a test: a pass costs minutes.

Run: ``PYTHONPATH=src .venv/bin/python bench/http_fuzz.py [-n 3000] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from tests.fakes.upstream import FakeUpstream, serve  # noqa: E402
from tests.gateway.conftest import make_gateway  # noqa: E402
from tests.gateway.hostile import ServerErrors, Shape, Tally, shapes  # noqa: E402
from tests.gateway.raw import production_server  # noqa: E402

from promptready.gateway.app import GatewayConfig  # noqa: E402
from promptready.gateway.metering import Meter  # noqa: E402
from promptready.gateway.protocol import Limits  # noqa: E402
from promptready.ledger.writer import BatchWriter  # noqa: E402
from promptready.pricing import load_rate_card  # noqa: E402

# Short deadlines so framing that promises more than it sends is answered quickly.
FUZZ_LIMITS = Limits(idle_s=1, head_s=0.5, body_s=0.5, max_connections=64)


def run(examples: int, chosen_seed: int, samples: bool = False) -> int:
    home = Path(tempfile.mkdtemp(prefix="pr-fuzz-"))
    upstream = FakeUpstream()
    tally = Tally()
    with serve(upstream) as upstream_url:
        upstream.base_url = f"{upstream_url}/v1"
        config = GatewayConfig(
            max_body_bytes=64 * 1024, allowed_origins=frozenset({b"http://localhost:3000"})
        )
        gateway = make_gateway(upstream, home, config)
        gateway.meter = Meter(BatchWriter(home / "ledger.sqlite3"), load_rate_card())
        _, token = gateway.apps.create("fuzz")
        with production_server(gateway, FUZZ_LIMITS) as port, ServerErrors() as errors:
            # uvicorn warns of each malformed request: thousands of lines that say nothing here.
            logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
            started = time.perf_counter()

            @seed(chosen_seed)
            @settings(
                max_examples=examples,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(shapes)
            def fuzz(shape: Shape) -> None:
                tally.send(port, shape.encode(port, token))

            fuzz()
            elapsed = time.perf_counter() - started
            health = tally.send(
                port, f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            )
    alive = health is not None and health.status == 200
    print(f"requests sent: {tally.sent} in {elapsed:.1f} s ({tally.sent / elapsed:.0f}/s)")
    print("answers by class:")
    for name, count in sorted(tally.answers.items()):
        print(f"  {name:<28} {count}")
    print(f"upstream calls: {len(upstream.seen)}")
    print(f"5xx / no answer: {len(tally.failures)}")
    print(f"errors logged by uvicorn: {len(errors.records)}")
    print(f"server still answering /health: {'yes' if alive else 'NO'}")
    if samples:
        for kind, raw in sorted(tally.samples.items()):
            print(f"SAMPLE {kind}: {raw[:300]!r}")
    for reason, raw in tally.failures[:10]:
        print(f"FAILURE {reason}: {raw[:300]!r}")
    for record in errors.records[:5]:
        print(f"LOGGED {record[:2000]}")
    return 0 if alive and not tally.failures and not errors.records else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=3000, help="requests to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", action="store_true", help="print one request per class")
    args = parser.parse_args()
    raise SystemExit(run(args.n, args.seed, args.samples))


if __name__ == "__main__":
    main()
