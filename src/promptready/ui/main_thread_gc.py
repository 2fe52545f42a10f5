"""Python's cycle collector, run on the Qt thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed: the
gateway's, an executor's (the popup's token count), pynput's. A QObject freed there (a popup in a
reference cycle through its slots, a context through its engine) is destroyed off its thread: its
active timers and file watchers cannot be unregistered and Qt later delivers an event to freed
memory (a segfault in ``QTimerInfoList::activateTimers``). So automatic collection is off while
Qt runs and a main-thread timer collects instead.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

COLLECT_EVERY_MS = 1000


class MainThreadCollector(QObject):
    """Turns off automatic collection and collects on this (the Qt) thread every second."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._timer = QTimer(self, interval=COLLECT_EVERY_MS)
        self._timer.timeout.connect(self.collect)

    def start(self) -> MainThreadCollector:
        """Take collection over from the interpreter."""
        gc.disable()
        self._timer.start()
        return self

    def collect(self) -> None:
        """Collect the generation the interpreter would have collected by now."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[2] >= thresholds[2]:
            gc.collect(2)
        elif counts[1] >= thresholds[1]:
            gc.collect(1)
        else:
            gc.collect(0)

    def stop(self) -> None:
        """Collect everything left on this thread, and give collection back."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
