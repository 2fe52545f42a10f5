"""CPU of the gateway's stream relay (``wire.StreamRelay``) per stream, now and at a git ref,
in one run: a chat stream of 17 content chunks, the finish chunk, the usage chunk and [DONE]
(the shape of ``fake_upstream.py``'s), fed as one read, three reads and one read per event.

Prints the best of many repeats (microseconds per stream) and the ratio now / before.
Run: ``.venv/bin/python bench/relay_bench.py --before 6bd87fd``.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

import orjson

ROOT = Path(__file__).resolve().parent.parent
WIRE = "src/promptready/providers/wire.py"


def load(path: Path, name: str) -> ModuleType:
    """``wire.py`` at ``path`` as a module of its own (pure: it imports nothing of ours)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def wire_at(ref: str) -> ModuleType:
    """``wire.py`` as it was at git ``ref``."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:{WIRE}"], check=True, capture_output=True
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="pr-wire-")) / "wire_before.py"
    path.write_bytes(source)
    return load(path, "wire_before")


def stream_events() -> list[bytes]:
    """The events of one chat stream as the fake upstream sends it."""
    base = {"id": "chatcmpl-b", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def event(payload: Mapping[str, object]) -> bytes:
        return b"data: " + orjson.dumps({**base, **payload}) + b"\n\n"

    words = [{"choices": [{"index": 0, "delta": {"content": " word"}}]}] * 17
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 17}}
    return [*(event(w) for w in words), event(finish), event(usage), b"data: [DONE]\n\n"]


def per_stream_us(wires: list[ModuleType], reads: list[bytes], rounds: int = 60) -> list[float]:
    """Best microseconds per stream of each module's relay; the modules take turns, round by
    round, so a busy spell of the machine falls on all of them alike."""

    def relay_with(wire: ModuleType) -> Callable[[], None]:
        def relay_one() -> None:
            relay = wire.StreamRelay(False)
            for read in reads:
                relay.feed(read)
            relay.close()

        return relay_one

    runs = [relay_with(wire) for wire in wires]
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for index, run in enumerate(runs):
            best[index] = min(best[index], timeit.timeit(run, number=200) / 200 * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default="HEAD", help="git ref to compare with")
    args = parser.parse_args()
    before, now = wire_at(args.before), load(ROOT / WIRE, "wire_now")
    events = stream_events()
    shapes = {
        "one read": [b"".join(events)],
        "three reads": [b"".join(events[:8]), b"".join(events[8:16]), b"".join(events[16:])],
        "a read per event": events,
    }
    print(f"| reads | before ({args.before}) us | now us | now / before |")
    print("|---|---|---|---|")
    for label, reads in shapes.items():
        old, new = per_stream_us([before, now], reads)
        print(f"| {label} | {old:.1f} | {new:.1f} | {new / old:.2f} |")


if __name__ == "__main__":
    main()
