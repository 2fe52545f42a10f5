"""Which ICU data the bundle keeps (Linux), and the package format: 32 MB down to what Qt reaches.

PySide6's QtCore links ICU, whose data (``libicudata.so.73``, one exported symbol ``icudt73_dat``
holding an ICU "common data" package) is the largest file in the bundle. QtCore is the only thing
in the bundle that links ICU, and it calls only these ICU services (``nm -D --undefined-only
libQt6Core.so.6``): case mapping (``u_strToUpper``/``u_strToLower``, whose tables are compiled
into libicuuc, not the data), collation (``ucol_*``, QCollator), calendars/time zones (``ucal_*``,
QTimeZone's ids and display names) and converters (``ucnv_*``, QStringConverter for codecs beyond
the UTF-8/16/32 and Latin-1 Qt decodes itself). No break iterators, normalization, IDNA or
transliteration: Qt has its own tables for those. So the bundle keeps collation (every language:
QFileDialog sorts with QCollator), the time-zone tables and converter aliases, and drops the rest
(locale display names, CJK/Thai dictionaries, transliteration, legacy code pages), see ``KEEP``.
The one behaviour lost: QStringDecoder no longer knows legacy code pages (Shift_JIS, GB18030,
KOI8-R, windows-1251...); the app reads and writes UTF-8 only.

This module is pure (bytes in, bytes out); ``icu_build`` reads PySide6's library and links the
trimmed one. The package format (ICU's ``ucmndata.h``): a data header, then a table of
contents — a count and ``(name offset, data offset)`` pairs measured from the table's start,
sorted by name — then the names and the 16-byte-aligned items. ICU finds an item by binary
search over the names and its length from the next item's offset, so a subset written in the
same order is a valid package.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass

SYMBOL = "icudt73_dat"
SONAME = "libicudata.so.73"
_ALIGN = 16
_PAD = b"\xaa"  # what ICU's pkgdata pads with, so an untouched package round-trips byte for byte
_ENTRY = struct.Struct("<II")
# Elf64_Shdr as (sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, ..., sh_entsize) and
# Elf64_Sym as (st_name, st_info, st_other, st_shndx, st_value, st_size).
_SECTION = struct.Struct("<4xIQQQQIIQQ")
_SYMBOL = struct.Struct("<IBBHQQ")
_DYNSYM = 11

# Item names below the package prefix ("icudt73l/"). Why each one stays:
KEEP = re.compile(
    r"^(?:"
    # the locale tree's index, root and English (every ICU service falls back to root), and the
    # shared key/string pool their .res files point into;
    r"(?:res_index|root|en|pool)\.res"
    # locale ids: aliases, likely subtags and keyword types ucol_open/ucal_open canonicalise with;
    r"|(?:metadata|likelySubtags|keyTypeData|supplementalData|icuver|icustd)\.res"
    # time zones for ucal (QTimeZone's canonical ids and display names);
    r"|(?:zoneinfo64|timezoneTypes|metaZones|windowsZones)\.res"
    r"|zone/(?:res_index|root|en|pool)\.res"
    # collation, root and every tailoring: QCollator orders the file dialog in the user's language;
    r"|coll/.*"
    # converter names: ucnv_open of an algorithmic codec (UTF-7, SCSU, ISO-8859-1, ...) needs them;
    r"|cnvalias\.icu"
    r")$"
)


@dataclass(frozen=True)
class Package:
    """An ICU common-data package: its header bytes and its items by full name, in TOC order."""

    header: bytes
    items: Mapping[str, bytes]


def parse(data: bytes) -> Package:
    """Read a little-endian ICU common-data package (``.dat``, or the bytes of ``icudt*_dat``)."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", data, 0)
    if (magic1, magic2) != (0xDA, 0x27) or data[12:16] != b"CmnD":
        raise ValueError("not an ICU common data package")
    (count,) = struct.unpack_from("<I", data, header_size)
    entries = [_ENTRY.unpack_from(data, header_size + 4 + i * _ENTRY.size) for i in range(count)]
    toc = data[header_size:]
    ends = [offset for _, offset in entries[1:]] + [len(toc)]
    items = {
        toc[name : toc.index(b"\0", name)].decode("ascii"): toc[start:end]
        for (name, start), end in zip(entries, ends, strict=True)
    }
    return Package(data[:header_size], items)


def serialise(package: Package) -> bytes:
    """The package's bytes: the same header, a new table of contents, the items 16-byte aligned."""
    names = list(package.items)
    name_block = b"".join(name.encode("ascii") + b"\0" for name in names)
    toc_size = 4 + len(names) * _ENTRY.size
    data_start = _aligned(len(package.header) + toc_size + len(name_block)) - len(package.header)
    entries: list[bytes] = []
    body = bytearray()
    name_offset = toc_size
    for name in names:
        entries.append(_ENTRY.pack(name_offset, data_start + len(body)))
        name_offset += len(name) + 1
        body += package.items[name]
        body += _PAD * (_aligned(len(body)) - len(body))
    toc = struct.pack("<I", len(names)) + b"".join(entries) + name_block
    padding = _PAD * (data_start - len(toc))
    return package.header + toc + padding + bytes(body)


def _aligned(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def keep(package: Package, wanted: re.Pattern[str] = KEEP) -> Package:
    """The items whose name (after the ``icudt73l/`` prefix) ``wanted`` matches, in order."""
    kept = {name: item for name, item in package.items.items() if wanted.match(_short(name))}
    return Package(package.header, kept)


def _short(name: str) -> str:
    return name.partition("/")[2]


def symbol_bytes(elf: bytes, symbol: str = SYMBOL) -> bytes:
    """The bytes of the exported ``symbol`` in ``elf``, a 64-bit little-endian ELF file."""
    if elf[:6] != b"\x7fELF\x02\x01":
        raise ValueError("not a 64-bit little-endian ELF file")
    # Elf64_Ehdr: e_shoff at 0x28, e_shentsize/e_shnum at 0x3a; Elf64_Shdr and Elf64_Sym layouts.
    (table_offset,) = struct.unpack_from("<Q", elf, 0x28)
    entry_size, count = struct.unpack_from("<HH", elf, 0x3A)
    sections = [_SECTION.unpack_from(elf, table_offset + i * entry_size) for i in range(count)]
    for kind, _, _, offset, size, link, _, _, sym_size in sections:
        if kind != _DYNSYM:
            continue
        strings = sections[link][3]
        for at in range(offset, offset + size, sym_size):
            name, _, _, index, value, length = _SYMBOL.unpack_from(elf, at)
            if elf[strings + name : elf.index(b"\0", strings + name)] == symbol.encode():
                address, file_offset = sections[index][2], sections[index][3]
                start = file_offset + value - address
                return elf[start : start + length]
    raise LookupError(f"the library exports no {symbol}")
