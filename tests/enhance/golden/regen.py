"""Rewrite the expected outputs from the current enhancer and say which changed.

Run after a deliberate change: ``.venv/bin/python tests/enhance/golden/regen.py``; review the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[3]),
    str(Path(__file__).resolve().parents[3] / "src"),
]

from promptready.enhance import enhance  # noqa: E402
from tests.enhance.golden.cases import EXPECTED_DIR, load_cases  # noqa: E402


def main() -> None:
    EXPECTED_DIR.mkdir(exist_ok=True)
    changed = 0
    for case in load_cases():
        text = enhance(case.input).text + "\n"
        path = case.expected_path
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed += 1
            print(f"updated {path.name}")
    print(f"{changed} expected file(s) changed")


if __name__ == "__main__":
    main()
