"""The tray icon comes first: drawn in a real tray (Xvfb and trayer) by the time start-up goes on,
before asyncio, qasync, the crash log or the shell are imported, and the tray built later adopts
it; the icon's shipped PNGs are its drawing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QImage, QWindow
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from promptready.ui.context import DesktopContext
from promptready.ui.early_icon import wait_until_drawn
from promptready.ui.icon_drawing import draw_icon
from promptready.ui.icons import SIZES, app_icon, icon_file
from promptready.ui.shell import Shell
from promptready.ui.tray import Tray

DRAWN_PROBE = """
import sys, time
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
from promptready.ui import early_icon
app = QApplication([])
deadline = time.monotonic() + 20
while not QSystemTrayIcon.isSystemTrayAvailable():  # trayer is still starting
    assert time.monotonic() < deadline, "no tray"
    time.sleep(0.05)
early_icon.PAINT_WAIT_MS = 20_000  # however loaded the machine: the paint, not the cap, ends it
icon = early_icon.show_tray_icon(app)
window = next(w for w in app.topLevelWidgets() if early_icon._is_icon_window(w))
image = app.primaryScreen().grabWindow(window.winId()).toImage()  # what the X server shows
colours = {image.pixel(x, y) for x in range(image.width()) for y in range(image.height())}
print(icon is not None and icon.isVisible(), len(colours) > 1)
"""

FIRST_PROBE = """
import sys
from PySide6.QtWidgets import QApplication
import promptready.cli, promptready.ui.app
from promptready.ui.icons import app_icon
app = QApplication([])
app_icon()
later = {"asyncio", "qasync", "promptready.crash", "promptready.ui.shell"}
print(sorted(later & set(sys.modules)))
"""


@pytest.fixture
def tray_host(x_display: str) -> Iterator[str]:
    if shutil.which("trayer") is None:
        pytest.skip("needs trayer, an X11 tray host (apt-get install trayer)")
    host = subprocess.Popen(
        ["trayer", "--widthtype", "pixel", "--width", "200", "--height", "32"],
        env={**os.environ, "DISPLAY": x_display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield x_display
    host.terminate()
    host.wait(10)


def _probe(code: str, **env: str) -> str:
    """What ``code`` prints, run in a fresh interpreter with ``env`` added."""
    shown = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return shown.stdout


def test_the_icon_is_drawn_in_the_tray_when_start_up_goes_on(tray_host: str) -> None:
    shown = _probe(DRAWN_PROBE, DISPLAY=tray_host, QT_QPA_PLATFORM="xcb")
    assert shown.split() == ["True", "True"]


def test_the_icon_needs_nothing_of_what_start_up_loads_after_it() -> None:
    assert _probe(FIRST_PROBE, QT_QPA_PLATFORM="offscreen").strip() == "[]"


def test_the_tray_adopts_the_icon_shown_at_start(context: DesktopContext) -> None:
    icon = QSystemTrayIcon()
    tray = Tray(Shell(context), icon)
    assert tray.icon is icon
    assert tray.icon.contextMenu() is tray.menu


def test_a_window_never_shown_is_waited_for_only_until_the_cap(qapp: QApplication) -> None:
    window = QWindow()
    wait_until_drawn(window, 1)  # returns
    assert not window.isExposed()


@pytest.mark.parametrize("size", SIZES)
def test_the_shipped_icon_is_the_drawn_one(qapp: QApplication, size: int) -> None:
    shipped = QImage(str(icon_file(size))).convertToFormat(QImage.Format.Format_ARGB32)
    drawn = draw_icon(size).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    # Antialiasing may round a level differently on another CPU (seen: 8 pixels off by 1 at 64 px).
    assert _largest_channel_gap(shipped, drawn) <= 2, (
        "the drawing changed: run python -m promptready.ui.icon_drawing"
    )


def _largest_channel_gap(a: QImage, b: QImage) -> int:
    """The largest difference of any colour or alpha channel between two same-size images."""
    assert a.size() == b.size()
    return max(
        abs(((a.pixel(x, y) >> shift) & 255) - ((b.pixel(x, y) >> shift) & 255))
        for x in range(a.width())
        for y in range(a.height())
        for shift in (0, 8, 16, 24)
    )


def test_the_app_icon_has_every_size(qapp: QApplication) -> None:
    sizes = {size.width() for size in app_icon().availableSizes()}
    assert sizes == set(SIZES)
    assert app_icon(busy=True).pixmap(22).toImage() != app_icon().pixmap(22).toImage()
