"""Shared libraries a bundle carries that nothing left in it links to (Linux ELF only).

PyInstaller collects the dependencies of every plugin before the spec drops plugins, so the GTK
theme's libgtk/pango/cairo chain stays behind; this finds such leftovers from the DT_NEEDED lists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")


def needed(path: Path) -> set[str]:
    """The sonames ``path`` links to (empty when it is not ELF or readelf is missing)."""
    readelf = shutil.which("readelf")
    if readelf is None:
        return set()
    # The paths are PyInstaller's own collected binaries, not outside input.
    done = subprocess.run(  # noqa: S603
        [readelf, "-d", str(path)], capture_output=True, text=True, check=False
    )
    return set(_NEEDED.findall(done.stdout))


def orphans(entries: Iterable[tuple[str, str]]) -> set[str]:
    """Destination names of top-level ``lib*.so*`` entries that no other kept entry needs."""
    table = {dest: Path(src) for dest, src, *_ in entries}
    links = {dest: needed(src) for dest, src in table.items()}
    # The bootloader dlopens libpython itself, so no DT_NEEDED names it.
    candidates = {
        d for d in table if "/" not in d and d.startswith("lib") and not d.startswith("libpython")
    }
    kept = set(table)
    while True:
        wanted = set().union(*(links[d] for d in kept)) if kept else set()
        gone = {d for d in kept & candidates if d not in wanted}
        if not gone:
            return set(table) - kept
        kept -= gone
