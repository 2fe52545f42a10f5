"""Build the bundle's trimmed ``libicudata`` (Linux, needs ``cc``): ``icu_data``'s choice of items,
linked as a shared library exporting the symbol ICU looks for. ``build.spec`` calls ``replace_in``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from icu_data import SONAME, SYMBOL, keep, parse, serialise, symbol_bytes


def _assembly(dat: Path, symbol: str) -> str:
    # .incbin puts the package in .rodata as is; the note keeps the stack non-executable.
    return (
        "\t.section .rodata\n\t.balign 16\n"
        f"\t.globl {symbol}\n\t.type {symbol}, @object\n"
        f'{symbol}:\n\t.incbin "{dat}"\n\t.size {symbol}, .-{symbol}\n'
        '\t.section .note.GNU-stack,"",@progbits\n'
    )


def link(dat: Path, out: Path, compiler: str, symbol: str = SYMBOL) -> None:
    """Write ``out``: a shared library named ``SONAME`` exporting ``dat``'s bytes as ``symbol``."""
    source = out.with_suffix(".S")
    source.write_text(_assembly(dat.resolve(), symbol), "ascii")
    # Fixed arguments and paths this module chose; no outside input reaches the command line.
    subprocess.run(  # noqa: S603
        [compiler, "-shared", "-nostdlib", f"-Wl,-soname,{SONAME}", "-o", str(out), str(source)],
        check=True,
    )


def trimmed_library(original: Path, work: Path) -> Path | None:
    """Build ``work/libicudata.so.73`` with only ``KEEP``'s items; None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    work.mkdir(parents=True, exist_ok=True)
    dat = work / "icudt73l.dat"
    dat.write_bytes(serialise(keep(parse(symbol_bytes(original.read_bytes())))))
    out = work / SONAME
    link(dat, out, compiler)
    return out


def replace_in(entries: Iterable[tuple[str, str, str]], work: Path) -> list[tuple[str, str, str]]:
    """PyInstaller's binaries with ``libicudata`` swapped for a trimmed build (as is without cc)."""
    result = list(entries)
    for index, (dest, src, kind) in enumerate(result):
        if Path(dest).name == SONAME:
            trimmed = trimmed_library(Path(src), work)
            if trimmed is None:
                print(f"icu_build: no C compiler, {SONAME} stays untrimmed")
            else:
                result[index] = (dest, str(trimmed), kind)
    return result
