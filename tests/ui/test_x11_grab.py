"""The X11 key grab's arithmetic: pynput's combinations as modifier masks and keysyms, and the
keycodes of a keyboard mapping that type a keysym (the grab itself is tested in test_hotkey)."""

from __future__ import annotations

import pytest

from promptready.errors import ConfigError
from promptready.ui.hotkey import pynput_hotkey
from promptready.ui.x11_grab import KEYSYMS, MODIFIERS, SHIFT, grab_spec, keycodes_for
from tests.ui.test_hotkey import CONVERSIONS

CTRL, ALT, SUPER = MODIFIERS["<ctrl>"], MODIFIERS["<alt>"], MODIFIERS["<cmd>"]


@pytest.mark.parametrize(
    ("combination", "expected"),
    [
        ("<ctrl>+<alt>+p", (CTRL | ALT, ord("p"))),
        ("<ctrl>+<shift>+<space>", (CTRL | SHIFT, 0x20)),
        ("<cmd>+<f5>", (SUPER, 0xFFC2)),
        ("<alt>+<page_down>", (ALT, 0xFF56)),
        ("<f20>", (0, 0xFFD1)),
        ("<ctrl>++", (CTRL, ord("+"))),
        ("<ctrl>+,", (CTRL, ord(","))),
        ("<alt>+é", (ALT, 0xE9)),
        ("<alt>+ж", (ALT, 0x01000000 + ord("ж"))),
    ],
)
def test_combinations_as_modifier_mask_and_keysym(
    combination: str, expected: tuple[int, int]
) -> None:
    assert grab_spec(combination) == expected


@pytest.mark.parametrize(("sequence", "platform", "_combination"), CONVERSIONS)
def test_every_linux_conversion_has_a_grab(sequence: str, platform: str, _combination: str) -> None:
    mask, keysym = grab_spec(pynput_hotkey(sequence, "linux"))
    assert keysym in KEYSYMS.values() or 0x20 < keysym <= 0x7E
    assert mask or keysym in range(0xFFBE, 0xFFD2)  # only a function key goes alone


@pytest.mark.parametrize("combination", ["<ctrl>+<launch_mail>", "<ctrl>+", "<alt>+ab", ""])
def test_a_key_x11_cannot_name_is_refused_with_the_users_name_for_it(combination: str) -> None:
    with pytest.raises(ConfigError, match="'Ctrl\\+Alt\\+Q' uses a key this system cannot watch"):
        grab_spec(combination, "Ctrl+Alt+Q")


# A US keyboard's mapping from keycode 20, two keysyms (plain, Shift) a keycode, as X sends it.
MAPPING = [ord("-"), ord("_"), ord("="), ord("+"), 0xFF08, 0, ord("p"), ord("P")]


def test_a_plain_keysym_is_its_keycode_without_shift() -> None:
    assert keycodes_for(ord("p"), 20, 2, MAPPING) == [(23, 0)]


def test_a_shifted_keysym_is_grabbed_with_shift() -> None:
    assert keycodes_for(ord("+"), 20, 2, MAPPING) == [(21, SHIFT)]


def test_a_keysym_on_no_key_has_no_keycode() -> None:
    assert keycodes_for(ord("q"), 20, 2, MAPPING) == []


def test_only_the_first_two_levels_count() -> None:
    # Level three (AltGr) would need a modifier the hotkey did not name.
    assert keycodes_for(ord("q"), 8, 4, [ord("a"), ord("A"), ord("q"), ord("Q")]) == []
