"""Loading the golden cases, shared by the test, the regen script and the accuracy report."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
EXPECTED_DIR = GOLDEN_DIR / "expected"


@dataclass(frozen=True)
class GoldenCase:
    """A rough prompt, the task a careful human would name, and what must survive."""

    id: str
    task: str
    input: str
    language: str = "en"
    must_keep: tuple[str, ...] = ()

    @property
    def expected_path(self) -> Path:
        return EXPECTED_DIR / f"{self.id}.md"


def load_cases() -> list[GoldenCase]:
    """Every case in cases.toml, in file order."""
    raw = tomllib.loads((GOLDEN_DIR / "cases.toml").read_text(encoding="utf-8"))
    return [
        GoldenCase(
            id=c["id"],
            task=c["task"],
            input=c["input"],
            language=c.get("language", "en"),
            must_keep=tuple(c.get("must_keep", ())),
        )
        for c in raw["case"]
    ]
