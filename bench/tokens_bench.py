"""Token counting cost: median time to count a 2 KB prompt with a warm encoding, next to a
``len(text)`` baseline over the same text in the same run; then the one-off lazy load of each
encoding (time and resident-memory growth), each in a fresh interpreter so neither hides the other.

Run: ``.venv/bin/python bench/tokens_bench.py`` (Linux: RSS is read from /proc/self/statm).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from promptready import tokens

PROMPT = (
    "You are reviewing a pull request that moves the nightly export to the new cluster. "
    "Summarise the change, list the risks, and propose a rollback plan.\n\n"
    "```python\ndef export(day):\n    rows = db.fetch(day)\n    return write_csv(rows, bucket)\n```\n"
    "2024-05-02 10:14:05 ERROR connection refused: redis://127.0.0.1:6379\n"
)
TEXT = (PROMPT * 20).encode()[:2048].decode("utf-8", "ignore")
MODELS = {"o200k_base": "gpt-4o", "cl100k_base": "gpt-4"}


def median_us(func: Callable[[], object], rounds: int) -> float:
    """Median wall time of ``func`` in microseconds, after one warm-up call."""
    func()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def measure_load(encoding: str) -> dict[str, float]:
    """Time and RSS growth of the first count with ``encoding`` (tiktoken already imported)."""
    import tiktoken  # noqa: F401 - imported first so its own cost is not charged to the load

    before, start = rss_mb(), time.perf_counter()
    tokens.count_text("warm up", MODELS[encoding])
    return {"load_ms": (time.perf_counter() - start) * 1000, "rss_mb": rss_mb() - before}


def main() -> None:
    """Print the warm counting ratio and each encoding's load cost."""
    print(f"2 KB prompt ({len(TEXT)} chars), median of 500")
    print(f"{'encoding':>12} {'tokens':>7} {'count us':>9} {'len() us':>9} {'ratio':>9}")
    for encoding, model in MODELS.items():
        count = tokens.count_text(TEXT, model)
        ours = median_us(lambda model=model: tokens.count_text(TEXT, model), 500)  # type: ignore[misc]
        base = median_us(lambda: len(TEXT), 500)
        ratio = ours / base
        print(f"{encoding:>12} {count.tokens:>7} {ours:>9.1f} {base:>9.3f} {ratio:>8.0f}x")
    print(f"\n{'encoding':>12} {'lazy load ms':>13} {'RSS growth MB':>14}")
    for encoding in MODELS:
        out = subprocess.run(
            [sys.executable, __file__, "--load", encoding],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = json.loads(out)
        print(f"{encoding:>12} {found['load_ms']:>13.0f} {found['rss_mb']:>14.1f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--load"]:
        print(json.dumps(measure_load(sys.argv[2])))
    else:
        main()
