"""The spec, the macOS Info.plist and the Windows version resource agree with the package."""

from __future__ import annotations

import ast
import plistlib
import re
from pathlib import Path

import promptready

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"


def test_the_spec_is_python_and_names_the_tiktoken_plugin() -> None:
    text = (REPO / "build.spec").read_text()
    ast.parse(text)
    assert '"tiktoken_ext.openai_public"' in text


def test_the_mac_app_lives_in_the_tray_only_with_the_launch_agents_bundle_id() -> None:
    info = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert info["LSUIElement"] is True
    # The LaunchAgent that starts the app at login is labelled with the same id.
    assert info["CFBundleIdentifier"] == "app.promptready"


def test_the_windows_version_resource_carries_the_package_version() -> None:
    text = (PACKAGING / "windows" / "version_info.txt").read_text()
    numbers = tuple(int(part) for part in promptready.__version__.split("."))
    padded = (*numbers, 0, 0, 0, 0)[:4]
    assert f"filevers={padded}" in text and f"prodvers={padded}" in text
    assert (
        re.findall(r"'(?:File|Product)Version', '([^']+)'", text) == [promptready.__version__] * 2
    )


def test_the_windows_icon_is_an_ico_file() -> None:
    data = (PACKAGING / "windows" / "promptready.ico").read_bytes()
    assert data[:4] == b"\x00\x00\x01\x00" and int.from_bytes(data[4:6], "little") >= 1
