"""A/B/C model cohorts: a sticky, deterministic function of the device id. Pure."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Cohort:
    """One arm of the split: its share (``weight``), model and upstream (None = the defaults)."""

    name: str
    weight: int
    model: str
    base_url: str | None = None
    api_key: str | None = None

    def __repr__(self) -> str:
        # The master key must never reach a log line through a repr.
        key = "***" if self.api_key else None
        return (
            f"Cohort(name={self.name!r}, weight={self.weight}, model={self.model!r}, "
            f"base_url={self.base_url!r}, api_key={key!r})"
        )


DEFAULT_COHORTS: tuple[Cohort, ...] = (
    Cohort("A", 70, "gpt-oss-20b"),
    Cohort("B", 20, "llama-3.1-8b-instant"),
    Cohort("C", 10, "gemini-2.0-flash"),
)


def assign_cohort(device_id: uuid.UUID, cohorts: Sequence[Cohort]) -> Cohort:
    """The cohort for ``device_id``: SHA-256 of its bytes, mod the total weight, walks the arms."""
    total = sum(c.weight for c in cohorts)
    if not cohorts or total <= 0 or any(c.weight < 0 for c in cohorts):
        raise ValueError("cohorts need non-negative weights with a positive total")
    point = int.from_bytes(hashlib.sha256(device_id.bytes).digest()[:8], "big") % total
    for cohort in cohorts:
        if point < cohort.weight:
            return cohort
        point -= cohort.weight
    raise AssertionError("unreachable: point < total")


def cohort_named(name: str, cohorts: Sequence[Cohort]) -> Cohort | None:
    """The configured cohort called ``name`` (a device keeps its cohort's name for life)."""
    return next((c for c in cohorts if c.name == name), None)
