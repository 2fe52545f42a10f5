"""The PyInstaller bundle, one run: its size against the goal, the build time, and cold starts.

- size of dist/PromptReady (goal, issue #17: ≤ 130 MB on Linux);
- build time of `pyinstaller build.spec` (skipped with --no-build: measures an existing bundle);
- process start to `--self-test` done, the bundle vs `python -m promptready --self-test`;
- process start to the app's ready line (tray shown, or the no-tray window offscreen), the bundle
  vs `python -m promptready`.

Run: `.venv/bin/python bench/bundle_bench.py [--no-build]` from the repo root.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "PromptReady"
GOAL_MB = 130
ROUNDS = 3


def size_mb(folder: Path) -> float:
    """Bytes of every file under ``folder``, in MB (symlinks, which PyInstaller adds, count once)."""
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 1e6


def build() -> float:
    """Seconds `pyinstaller build.spec` takes from a clean work folder."""
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    start = time.perf_counter()
    subprocess.run(
        [str(pyinstaller), "--noconfirm", "--clean", "--log-level", "ERROR", "build.spec"],
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - start


def _env(home: str) -> dict[str, str]:
    # The same null keyring as packaging/check_bundle.sh: a CI box has no Secret Service.
    return {
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        **os.environ,
        "PROMPTREADY_HOME": home,
        "QT_QPA_PLATFORM": "offscreen",
    }


def self_test_s(command: Sequence[str]) -> float:
    """Median seconds from process start to a green `--self-test`."""
    times = []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as home:
            start = time.perf_counter()
            subprocess.run(
                [*command, "--self-test"], env=_env(home), check=True, capture_output=True
            )
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def ready_s(command: Sequence[str]) -> float:
    """Median seconds from process start to the app's ready line on stderr."""
    times = []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as home:
            start = time.perf_counter()
            proc = subprocess.Popen(
                command,
                env=_env(home),
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
            )
            assert proc.stderr is not None
            try:
                for line in proc.stderr:
                    if line.startswith("PromptReady is running"):
                        times.append(time.perf_counter() - start)
                        break
                else:
                    raise RuntimeError(f"exited with {proc.wait()} before it was ready")
            finally:
                proc.kill()
                proc.wait()
    return statistics.median(times)


def main(argv: Sequence[str]) -> int:
    """Print one line per measure; exit 1 when the bundle is over its size goal."""
    if "--no-build" not in argv:
        print(f"build: {build():.1f} s")
    size = size_mb(BUNDLE)
    print(f"bundle size: {size:.1f} MB (goal ≤ {GOAL_MB} MB)")
    frozen, source = [str(BUNDLE / "PromptReady")], [sys.executable, "-m", "promptready"]
    a, b = self_test_s(frozen), self_test_s(source)
    print(f"--self-test done: bundle {a:.2f} s vs python -m {b:.2f} s (ratio {a / b:.2f})")
    a, b = ready_s(frozen), ready_s(source)
    print(f"ready (tray or window): bundle {a:.2f} s vs python -m {b:.2f} s (ratio {a / b:.2f})")
    return 0 if size <= GOAL_MB else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
