"""Themes: an explicit dark or light scheme changes the colours on every platform, X11 included;
"system" follows the platform; one style sheet styles every window."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel

from promptready.ui.style import check_image, style_sheet
from promptready.ui.theme import apply_theme, chosen_scheme


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    style, palette, sheet = qapp.style().name(), qapp.palette(), qapp.styleSheet()
    yield qapp
    qapp.setStyleSheet(sheet)
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


def test_every_window_gets_the_one_style_sheet(app: QApplication) -> None:
    apply_theme(app, "light")
    sheet = app.styleSheet()
    assert sheet == style_sheet()
    assert 'QLabel[role="headline"]' in sheet and "#banner" in sheet
    apply_theme(app, "dark")
    assert app.styleSheet() == sheet  # colours come from the palette, not the sheet


def test_a_label_with_a_role_takes_its_size_from_the_sheet(app: QApplication) -> None:
    apply_theme(app, "light")
    plain, headline = QLabel("x"), QLabel("$0.00")
    headline.setProperty("role", "headline")
    for label in (plain, headline):
        label.ensurePolished()
    assert headline.font().pointSizeF() > plain.font().pointSizeF()
    assert headline.font().weight() > plain.font().weight()


@pytest.mark.parametrize(
    ("hint", "gtk_theme", "expected"),
    [
        (Qt.ColorScheme.Dark, None, "dark"),
        (Qt.ColorScheme.Light, "Adwaita:dark", "light"),  # Qt's answer wins when it has one
        (Qt.ColorScheme.Unknown, "Adwaita:dark", "dark"),  # bare X11: GTK's variant
        (Qt.ColorScheme.Unknown, "Adwaita", "light"),
        (Qt.ColorScheme.Unknown, None, "light"),
    ],
)
def test_system_follows_what_the_platform_says(
    hint: Qt.ColorScheme, gtk_theme: str | None, expected: str
) -> None:
    assert chosen_scheme("system", hint, gtk_theme) == expected


def test_an_explicit_choice_overrides_the_system() -> None:
    assert chosen_scheme("light", Qt.ColorScheme.Dark, "Adwaita:dark") == "light"
    assert chosen_scheme("dark", Qt.ColorScheme.Light, None) == "dark"


def test_an_unknown_theme_value_follows_the_system() -> None:
    assert chosen_scheme("purple", Qt.ColorScheme.Dark, None) == "dark"


def test_system_on_bare_x11_with_a_dark_gtk_theme_is_dark(
    app: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTK_THEME", "Adwaita:dark")
    apply_theme(app, "system")
    assert window_lightness(app) < 0.3


def test_a_checked_box_draws_the_shipped_tick() -> None:
    # The sheet draws check boxes itself (Fusion's outline vanishes on the dark scheme), so
    # the tick is a file that must ship.
    assert Path(check_image()).is_file()
    assert f"url({check_image()})" in style_sheet()
