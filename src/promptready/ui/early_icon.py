"""The tray icon, shown and drawn before the rest of start-up is imported.

On X11 the tray host embeds and maps the icon's window within milliseconds of ``show()``, with no
help from the app's event loop, but the icon is drawn only when the app handles that window's
first paint: until then the tray shows an empty square. The host may also embed the window after
Qt painted it once, and the embedded window needs a paint of its own. So start-up handles events
until the icon's window has painted and then stayed quiet for ``QUIET_MS`` (at most
``PAINT_WAIT_MS`` in all) before it imports asyncio, qasync and the shell, which take longer than
the whole embedding. Elsewhere (Windows, macOS, a D-Bus tray) the icon is not a
window of ours and nothing waits.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

PAINT_WAIT_MS = 50  # the tray host took 3-5 ms to map the icon in the start-up bench
QUIET_MS = 10  # trayer's embedding paint came within a few ms of the first one
X11_ICON_WINDOW = "QSystemTrayIconSys"  # Qt's own window for an XEmbed tray icon


def show_tray_icon(app: QApplication) -> QSystemTrayIcon | None:
    """The app's icon in the system tray, drawn, its menu to come; None without a tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    from promptready.ui.icons import app_icon

    icon = QSystemTrayIcon(app_icon())
    icon.setToolTip("PromptReady")
    icon.show()
    if any(_is_icon_window(widget) for widget in app.topLevelWidgets()):
        wait_for_first_paint(app, PAINT_WAIT_MS)
    return icon


def _is_icon_window(watched: QObject) -> bool:
    return watched.metaObject().className() == X11_ICON_WINDOW


class _Painted(QObject):
    """Ends ``loop`` once the icon's window has painted and then gone ``QUIET_MS`` without."""

    def __init__(self, loop: QEventLoop) -> None:
        super().__init__()
        self.quiet = QTimer(self, singleShot=True, interval=QUIET_MS)
        self.quiet.timeout.connect(loop.quit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint and _is_icon_window(watched):
            self.quiet.start()
        return False


def wait_for_first_paint(app: QApplication, timeout_ms: int) -> None:
    """Handle events until the tray icon's window has painted (and then been quiet), or for
    ``timeout_ms``. Socket notifiers wait: a second launch's "show" must reach a shell that
    listens."""
    loop = QEventLoop()
    painted = _Painted(loop)
    timer = QTimer(singleShot=True, interval=timeout_ms)
    timer.timeout.connect(loop.quit)
    app.installEventFilter(painted)
    timer.start()
    try:
        loop.exec(QEventLoop.ProcessEventsFlag.ExcludeSocketNotifiers)
    finally:
        timer.stop()
        painted.quiet.stop()
        app.removeEventFilter(painted)
