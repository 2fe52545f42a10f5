"""The app's cycle collector: garbage made anywhere is freed on the Qt thread."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from promptready.ui.main_thread_gc import MainThreadCollector


class Cyclic(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.me = self


def test_a_cycle_dropped_in_another_thread_is_freed_on_the_qt_thread(qtbot: QtBot) -> None:
    collector = MainThreadCollector().start()
    freed_in: list[threading.Thread] = []
    held = [Cyclic()]
    weakref.finalize(held[0], lambda: freed_in.append(threading.current_thread()))

    def drop_and_allocate() -> None:
        held.clear()
        _ = [[n] for n in range(100_000)]  # past every threshold: no collection here

    worker = threading.Thread(target=drop_and_allocate)
    worker.start()
    worker.join()
    try:
        qtbot.waitUntil(lambda: bool(freed_in))
    finally:
        collector.stop()
    assert freed_in == [threading.main_thread()]


def test_stopping_gives_automatic_collection_back(qtbot: QtBot) -> None:
    gc.enable()  # as in the app (the UI tests' own guard turns it off)
    collector = MainThreadCollector().start()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()
    gc.disable()
