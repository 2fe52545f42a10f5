"""Placeholders such as ``[AUDIENCE?]`` that the enhancer leaves for what only the user knows."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9 _/-]*\?\]")


def find_placeholders(text: str) -> list[str]:
    """Each distinct placeholder in order of first appearance."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every placeholder that has a non-blank value replaced by it."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(0), "").strip() or m.group(0), text)
