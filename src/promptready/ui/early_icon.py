"""The tray icon, shown and drawn before the rest of start-up is imported.

On X11 the tray host embeds and maps the icon's window within milliseconds of ``show()``, with no
help from the app's event loop, but the icon is drawn only when the app handles that window's
first paint: until then the tray shows an empty square. The host may also embed the window after
Qt painted it once, and the embedded window needs a paint of its own. So start-up handles events
until the icon's window has been exposed (and so painted) for ``QUIET_MS`` (at most
``PAINT_WAIT_MS`` in all) before it imports asyncio, qasync and the shell, which take longer than
the whole embedding. Elsewhere (Windows, macOS, a D-Bus tray) the icon is not a
window of ours and nothing waits.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEventLoop, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

PAINT_WAIT_MS = 50  # the tray host took 3-5 ms to map the icon in the start-up bench
QUIET_MS = 10  # trayer's embedding paint came within a few ms of the first one
POLL_MS = 2
X11_ICON_WINDOW = "QSystemTrayIconSys"  # Qt's own window for an XEmbed tray icon


def show_tray_icon(app: QApplication) -> QSystemTrayIcon | None:
    """The app's icon in the system tray, drawn, its menu to come; None without a tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    from promptready.ui.icons import app_icon

    icon = QSystemTrayIcon(app_icon())
    icon.setToolTip("PromptReady")
    icon.show()
    window = next((w for w in app.topLevelWidgets() if _is_icon_window(w)), None)
    if window is not None and window.windowHandle() is not None:
        wait_until_drawn(window.windowHandle(), PAINT_WAIT_MS)
    return icon


def _is_icon_window(widget: QWidget) -> bool:
    return widget.metaObject().className() == X11_ICON_WINDOW


class _Exposure(QObject):
    """Ends ``loop`` once ``window`` has been exposed (so painted) for ``QUIET_MS``.

    Polled on a timer, not watched by an event filter: a Python filter sees every event of the
    app, and wrapping each kind for Python cost ~40 ms of CPU and ~2.7 MB resident at start-up."""

    def __init__(self, window: QWindow, loop: QEventLoop) -> None:
        super().__init__()
        self.window, self.loop = window, loop
        self.exposed_since: float | None = None
        self.poll = QTimer(self, interval=POLL_MS)
        self.poll.timeout.connect(self._check)

    def _check(self) -> None:
        if not self.window.isExposed():
            self.exposed_since = None  # not mapped yet, or unmapped to be embedded
        elif self.exposed_since is None:
            self.exposed_since = time.monotonic()
        elif time.monotonic() - self.exposed_since >= QUIET_MS / 1000:
            self.loop.quit()


def wait_until_drawn(window: QWindow, timeout_ms: int) -> None:
    """Handle events until ``window`` has been exposed, and so painted, for ``QUIET_MS``, or for
    ``timeout_ms``. Socket notifiers wait: a second launch's "show" must reach a shell that
    listens."""
    loop = QEventLoop()
    exposure = _Exposure(window, loop)
    cap = QTimer(singleShot=True, interval=timeout_ms)
    cap.timeout.connect(loop.quit)
    cap.start()
    exposure.poll.start()
    try:
        loop.exec(QEventLoop.ProcessEventsFlag.ExcludeSocketNotifiers)
    finally:
        cap.stop()
        exposure.poll.stop()
