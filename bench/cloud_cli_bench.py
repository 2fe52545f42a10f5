"""What one ``python -m promptready.cloud ...`` process costs before it does its work: modules
imported and CPU seconds (user + system, from the child's rusage: load-insensitive), for
``--help``, a config error, ``migrate``, ``admin ...`` on SQLite, against a bare interpreter
(``python -c pass``) measured in the same run, and against another checkout with ``--before``.

Runs are interleaved (before, now, before, now, ...) and each cell is the median of ``-n`` runs.
The test suite starts about 25 of these processes (tests/cloud/http/test_cli.py), so CPU per
start is what CI pays.

Run: ``PYTHONPATH=src .venv/bin/python bench/cloud_cli_bench.py [-n 7] [--before ../main/src]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "PROMPTREADY_CLOUD_"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789"
DEVICE = str(uuid.UUID(int=7))
COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "serve, bad setting": ["serve", "--port", "0"],
    "migrate": ["migrate"],
    "admin balance": ["admin", "balance", DEVICE],
    "admin grant": ["admin", "grant", DEVICE, "5"],
    "admin stats": ["admin", "stats", "--json"],
    "admin reconcile": ["admin", "reconcile"],
}


@dataclass(frozen=True)
class Run:
    """One process: CPU seconds and wall seconds."""

    cpu_s: float
    wall_s: float


def run(argv: list[str], env: dict[str, str]) -> Run:
    """Start ``argv`` and wait; the child's CPU from wait4's rusage."""
    start = os.times().elapsed
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped by wait4; keeps Popen from waiting again
    return Run(usage.ru_utime + usage.ru_stime, os.times().elapsed - start)


def modules(argv: list[str], env: dict[str, str]) -> int:
    """How many modules the process imports (lines of ``-X importtime``)."""
    found = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return sum(1 for line in found.stderr.splitlines() if line.startswith("import time:")) - 1


def environment(src: Path, home: Path, command: str) -> dict[str, str]:
    """The command's environment: a SQLite database in ``home``; a bad setting for that cell."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    env = {
        **keep,
        "PYTHONPATH": str(src),
        "PROMPTREADY_HOME": str(home),
        PREFIX + "DATABASE_URL": f"sqlite:///{home / 'cloud.sqlite3'}",
        PREFIX + "JWT_SECRET": JWT_SECRET,
    }
    if command == "serve, bad setting":
        env[PREFIX + "WEEKLY_CAP_USD"] = "ten"
    return env


def main() -> int:
    """Print one row per command: modules and median CPU ms, now vs before and bare Python."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=7, help="runs per cell (median)")
    parser.add_argument("--before", type=Path, help="another checkout's src folder")
    args = parser.parse_args()
    sources = {"now": ROOT / "src"}
    if args.before is not None:
        sources = {"before": args.before.resolve(), **sources}
    python = sys.executable
    bare = [run([python, "-c", "pass"], dict(os.environ)).cpu_s for _ in range(args.n)]
    print(f"bare python -c pass: {statistics.median(bare) * 1000:.0f} ms CPU")
    head = " | ".join(f"{name} modules | {name} CPU ms" for name in sources)
    print(f"| command | {head} |" + (" now / before CPU |" if len(sources) == 2 else ""))
    print("|---" * (1 + 2 * len(sources) + (len(sources) == 2)) + "|")
    with tempfile.TemporaryDirectory(prefix="pr-cli-bench-") as scratch:
        homes = {name: Path(scratch) / name for name in sources}
        for home in homes.values():
            home.mkdir()
        for command, cli in COMMANDS.items():
            envs = {name: environment(src, homes[name], command) for name, src in sources.items()}
            argv = [python, "-m", "promptready.cloud", *cli]
            counts = {name: modules(argv, env) for name, env in envs.items()}
            cpu: dict[str, list[float]] = {name: [] for name in sources}
            for _ in range(args.n):
                for name, env in envs.items():
                    cpu[name].append(run(argv, env).cpu_s)
            medians = {name: statistics.median(found) for name, found in cpu.items()}
            cells = " | ".join(f"{counts[n]} | {medians[n] * 1000:.0f}" for n in sources)
            ratio = f" {medians['now'] / medians['before']:.2f} |" if len(sources) == 2 else ""
            print(f"| {command} | {cells} |{ratio}")
    print(f"load: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
