"""Rewrite the golden expected outputs from the current enhancer and say which changed.

Run after a deliberate enhancer change, then review the diff before committing:
    .venv/bin/python tests/enhance/heldout/regen.py [--format markdown] [CASE_ID_PREFIX ...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# Runnable as a plain script: make the repo root (for tests.*) and src/ importable.
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from promptready.enhance import OutputFormat, enhance  # noqa: E402
from tests.enhance.heldout.cases import GoldenCase, load_suites  # noqa: E402


@dataclass(frozen=True)
class Outcome:
    """What regenerating one expected file did: "new", "changed" or "same"."""

    path: Path
    status: str


def regenerate(cases: Iterable[GoldenCase], formats: Iterable[OutputFormat]) -> list[Outcome]:
    """Write each case's expected file for each format where the enhancer's output differs."""
    outcomes = []
    for case in cases:
        for fmt in formats:
            path = case.expected_path(fmt.value)
            new = enhance(case.input, fmt).text.encode("utf-8")
            old = path.read_bytes() if path.exists() else None
            if old != new:
                path.write_bytes(new)  # exact bytes: the test compares the output verbatim
            status = "new" if old is None else "same" if old == new else "changed"
            outcomes.append(Outcome(path, status))
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate, print each new or changed file and a one-line total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--format",
        action="append",
        choices=[f.value for f in OutputFormat],
        help="only this output format (repeatable; default: all)",
    )
    parser.add_argument(
        "cases", nargs="*", help="only cases whose folder starts with these (in every set)"
    )
    args = parser.parse_args(argv)
    formats = [OutputFormat(f) for f in args.format] if args.format else list(OutputFormat)
    every = [c for cases in load_suites().values() for c in cases]
    cases = [c for c in every if not args.cases or c.id.startswith(tuple(args.cases))]
    outcomes = regenerate(cases, formats)
    for o in outcomes:
        if o.status != "same":
            print(f"{o.status:<8} {o.path.relative_to(ROOT)}")
    touched = sum(o.status != "same" for o in outcomes)
    print(f"{touched} of {len(outcomes)} expected file(s) written ({len(cases)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
