"""Themes: an explicit dark or light scheme changes the colours on every platform, X11 included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from promptready.ui.theme import apply_theme


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    style, palette = qapp.style().name(), qapp.palette()
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)


def window_lightness(app: QApplication) -> float:
    return app.palette().color(QPalette.ColorRole.Window).lightnessF()


def test_dark_makes_windows_dark_and_light_makes_them_light(app: QApplication) -> None:
    apply_theme(app, "dark")
    assert window_lightness(app) < 0.3
    assert app.palette().color(QPalette.ColorRole.Text).lightnessF() > 0.7
    apply_theme(app, "light")
    assert window_lightness(app) > 0.7
