"""The guard against PySide6 losing references to None: after it, text can go to Qt forever."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from promptready.ui.refcount_guard import keep_none_alive, leaks_none

FAR_MORE_THAN_A_SESSION = 1 << 32


def test_none_has_references_to_spare_after_the_guard(qapp: QApplication) -> None:
    keep_none_alive()
    if leaks_none():  # this binding still leaks: the guard must have raised the count
        assert sys.getrefcount(None) > FAR_MORE_THAN_A_SESSION
    clipboard = qapp.clipboard()
    for n in range(20_000):
        clipboard.setText(str(n))
    assert clipboard.text() == "19999"
