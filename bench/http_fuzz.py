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

from tests.fakes.upstream import FakeUpstream, serve  # noqa: E402
from tests.gateway.conftest import make_gateway  # noqa: E402
from tests.gateway.hostile import FUZZ_CONFIG, FUZZ_LIMITS, fuzz  # noqa: E402
from tests.gateway.raw import production_server  # noqa: E402

from promptready.ledger.meter import Meter  # noqa: E402
from promptready.ledger.writer import BatchWriter  # noqa: E402
from promptready.pricing import load_rate_card  # noqa: E402


def run(examples: int, chosen_seed: int, samples: bool = False) -> int:
    home = Path(tempfile.mkdtemp(prefix="pr-fuzz-"))
    upstream = FakeUpstream()
    with serve(upstream) as upstream_url:
        upstream.base_url = f"{upstream_url}/v1"
        gateway = make_gateway(upstream, home, FUZZ_CONFIG)
        gateway.meter = Meter(BatchWriter(home / "ledger.sqlite3"), load_rate_card())
        _, token = gateway.apps.create("fuzz")
        with production_server(gateway, FUZZ_LIMITS) as port:
            # uvicorn warns of each malformed request: thousands of lines that say nothing here.
            logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
            started = time.perf_counter()
            tally = fuzz(port, token, examples, chosen_seed)
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
    print(f"errors logged by uvicorn: {len(tally.logged)}")
    print(f"server still answering /health: {'yes' if alive else 'NO'}")
    if samples:
        for kind, raw in sorted(tally.samples.items()):
            print(f"SAMPLE {kind}: {raw[:300]!r}")
    for reason, raw in tally.failures[:10]:
        print(f"FAILURE {reason}: {raw[:300]!r}")
    for record in tally.logged[:5]:
        print(f"LOGGED {record[:2000]}")
    return 0 if alive and not tally.failures and not tally.logged else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=3000, help="requests to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", action="store_true", help="print one request per class")
    args = parser.parse_args()
    raise SystemExit(run(args.n, args.seed, args.samples))


if __name__ == "__main__":
    main()
