"""A pure-Python check of a freedesktop entry's required keys (desktop-file-validate does more)."""

from __future__ import annotations

REQUIRED = ("Type", "Name", "Exec")
LISTS = ("Categories", "OnlyShowIn", "NotShowIn", "MimeType", "Keywords")


def problems(text: str) -> list[str]:
    """What makes ``text`` an invalid application entry; empty when it is valid."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines or lines[0] != "[Desktop Entry]":
        return ["the first group must be [Desktop Entry]"]
    found: list[str] = []
    keys: dict[str, str] = {}
    for line in lines[1:]:
        if line.startswith("["):
            break
        key, sep, value = line.partition("=")
        if not sep:
            found.append(f"not a key=value line: {line!r}")
        elif key.strip() in keys:
            found.append(f"duplicate key {key.strip()}")
        else:
            keys[key.strip()] = value.strip()
    found += [f"missing {key}" for key in REQUIRED if not keys.get(key)]
    if keys.get("Type", "Application") != "Application":
        found.append("Type must be Application")
    found += [
        f"{key} must end with ';'" for key in LISTS if key in keys and not keys[key].endswith(";")
    ]
    return found
