"""Offline enhancement speed: median time per call for 200 B, 2 KB, 20 KB and 1 MB inputs,
next to a baseline over the same text in the same run (``str.split`` + ``"\\n".join``).

Goals (foundation issue): 2 KB under 2 ms median; cost linear in size (1 MB well under 1 s).
Run: ``.venv/bin/python bench/enhance_bench.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from promptready.enhance import enhance

PIECES = [
    "fix this, the nightly export keeps failing since we moved to the new cluster and I have no idea why. ",
    "It should write every order from yesterday to s3://exports/orders/ as CSV for the finance team.\n\n",
    "```python\ndef export(day):\n    rows = db.fetch(day)\n    return write_csv(rows, bucket)\n```\n\n",
    "2024-05-02 10:14:05 ERROR connection refused: redis://127.0.0.1:6379\n"
    "2024-05-02 10:14:05 FATAL worker 3 exited with code 1\n\n",
]


def make_text(size: int) -> str:
    """Deterministic realistic input (prose + code + logs) of about ``size`` bytes."""
    text = ""
    i = 0
    while len(text.encode()) < size:
        text += PIECES[i % len(PIECES)]
        i += 1
    return text.encode()[:size].decode("utf-8", "ignore")


def median_ms(func: Callable[[], object], rounds: int) -> float:
    func()  # warm-up: lexicon load, regex compile
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    print(f"{'input':>8} {'enhance ms':>11} {'baseline ms':>12} {'ratio':>8} {'ms per KB':>10}")
    per_kb = []
    for label, size, rounds in (
        ("200 B", 200, 400),
        ("2 KB", 2048, 300),
        ("20 KB", 20480, 60),
        ("1 MB", 1 << 20, 7),
    ):
        text = make_text(size)
        ours = median_ms(lambda text=text: enhance(text), rounds)  # type: ignore[misc]
        base = median_ms(lambda text=text: "\n".join(text.split()), rounds)  # type: ignore[misc]
        per_kb.append(ours / (size / 1024))
        print(f"{label:>8} {ours:>11.3f} {base:>12.3f} {ours / base:>7.1f}x {per_kb[-1]:>10.4f}")
    print(
        "\ngoals: 2 KB under 2 ms median; 1 MB well under 1 s (linear: ms per KB flat or falling)"
    )


if __name__ == "__main__":
    main()
