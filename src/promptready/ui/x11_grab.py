"""A global hotkey on X11 without pynput: a passive key grab (XGrabKey) on the root window through
libxcb, by ctypes, read on Qt's thread whenever the connection's socket has events.

pynput listens through the RECORD extension with python-xlib, on two connections and a thread of
its own: about 8 MB resident for a tray app that mostly waits. libxcb is loaded already (Qt's xcb
plugin links it), and a grab costs one connection and no thread.

A grab is not listening: the combination goes to us and not to the focused app, and when another
client holds the same combination the grab fails (BadAccess), which is said. The keyboard stays
grabbed until the key is let go, so a press counts when the key is released: a copy keystroke sent
before that would come back to us instead of reaching the app that holds the selection.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

from promptready.errors import ConfigError, PromptReadyError

# X11 modifier bits (X.h): pynput's names as GlobalHotkey.combination spells them. Alt is Mod1
# and Super Mod4 in every stock keymap (xkeyboard-config).
MODIFIERS = {"<ctrl>": 1 << 2, "<alt>": 1 << 3, "<shift>": 1 << 0, "<cmd>": 1 << 6}
SHIFT = MODIFIERS["<shift>"]
# A grab matches the exact modifier state, so Caps Lock (Lock) and Num Lock (Mod2) on would hide
# the hotkey: it is grabbed with each of them on and off.
LOCKS = (0, 1 << 1, 1 << 4, (1 << 1) | (1 << 4))
# keysymdef.h for pynput's named keys; F1-F20 follow one another from 0xFFBE.
KEYSYMS = {
    "<space>": 0x0020,
    "<tab>": 0xFF09,
    "<enter>": 0xFF0D,
    "<esc>": 0xFF1B,
    "<backspace>": 0xFF08,
    "<delete>": 0xFFFF,
    "<insert>": 0xFF63,
    "<home>": 0xFF50,
    "<end>": 0xFF57,
    "<page_up>": 0xFF55,
    "<page_down>": 0xFF56,
    "<up>": 0xFF52,
    "<down>": 0xFF54,
    "<left>": 0xFF51,
    "<right>": 0xFF53,
    "<print_screen>": 0xFF61,
    "<pause>": 0xFF13,
    "<menu>": 0xFF67,
    **{f"<f{n}>": 0xFFBE + n - 1 for n in range(1, 21)},
}
KEY_PRESS, KEY_RELEASE = 2, 3  # xcb event codes
BAD_ACCESS = 10  # another client holds the grab
GRAB_MODE_ASYNC = 1


def grab_spec(combination: str, name: str = "") -> tuple[int, int]:
    """The modifier mask and keysym of a combination in pynput's form (``<ctrl>+<alt>+p``).
    Raises ConfigError, calling it ``name``, for a key X11 has no keysym for."""
    mask, rest = 0, combination
    while modifier := next((m for m in MODIFIERS if rest.startswith(f"{m}+")), None):
        mask |= MODIFIERS[modifier]
        rest = rest[len(modifier) + 1 :]
    if rest in KEYSYMS:
        return mask, KEYSYMS[rest]
    if len(rest) == 1 and rest.isprintable() and not rest.isspace():
        # Latin-1 keysyms are the character's code; every other character is 0x01000000 + code.
        code = ord(rest.lower())
        return mask, code if code <= 0xFF else 0x01000000 + code
    raise ConfigError(f"The hotkey {name or combination!r} uses a key this system cannot watch.")


class _Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class _ScreenIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


@functools.cache
def _xcb() -> Any:
    """libxcb with the signatures used here; OSError where it cannot be loaded."""
    lib = ctypes.CDLL("libxcb.so.1")
    p, u8, u16, u32 = ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "xcb_connect": (p, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]),
        "xcb_connection_has_error": (ctypes.c_int, [p]),
        "xcb_disconnect": (None, [p]),
        "xcb_get_file_descriptor": (ctypes.c_int, [p]),
        "xcb_get_setup": (p, [p]),
        "xcb_setup_roots_iterator": (_ScreenIterator, [p]),
        "xcb_screen_next": (None, [ctypes.POINTER(_ScreenIterator)]),
        "xcb_get_keyboard_mapping": (_Cookie, [p, u8, u8]),
        "xcb_get_keyboard_mapping_reply": (p, [p, _Cookie, p]),
        "xcb_grab_key_checked": (_Cookie, [p, u8, u32, u16, u8, u8, u8]),
        "xcb_request_check": (p, [p, _Cookie]),
        "xcb_poll_for_event": (p, [p]),
        "xcb_flush": (ctypes.c_int, [p]),
    }
    for name, (result, arguments) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = result, arguments
    return lib


@functools.cache
def _free() -> Any:
    free = ctypes.CDLL(None).free  # libxcb's replies and events are malloc'ed for the caller
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    return free


def _bytes(pointer: int, size: int) -> bytes:
    """``size`` bytes at ``pointer``, which is freed."""
    try:
        return ctypes.string_at(pointer, size)
    finally:
        _free()(pointer)


def _root_window(lib: Any, connection: int, screen: int) -> int:
    screens = lib.xcb_setup_roots_iterator(lib.xcb_get_setup(connection))
    for _ in range(screen):
        lib.xcb_screen_next(ctypes.byref(screens))
    return int(ctypes.c_uint32.from_address(screens.data).value)  # xcb_screen_t starts with root


def keycodes_for(
    keysym: int, first: int, per_keycode: int, keysyms: list[int]
) -> list[tuple[int, int]]:
    """Each keycode that types ``keysym`` without or with Shift, and the Shift it needs (a ``+``
    is Shift and ``=`` on a US keyboard), from the keyboard mapping starting at ``first``."""
    found = []
    for index in range(0, len(keysyms) - per_keycode + 1, per_keycode):
        levels = keysyms[index : index + min(per_keycode, 2)]
        if keysym in levels:
            found.append((first + index // per_keycode, SHIFT if levels.index(keysym) else 0))
    return found


def _keyboard_mapping(lib: Any, connection: int) -> tuple[int, int, list[int]]:
    setup = lib.xcb_get_setup(connection)
    first, last = ctypes.string_at(setup + 34, 2)  # xcb_setup_t's min_keycode and max_keycode
    cookie = lib.xcb_get_keyboard_mapping(connection, first, last - first + 1)
    reply = lib.xcb_get_keyboard_mapping_reply(connection, cookie, None)
    if not reply:
        raise PromptReadyError("The X server did not say how the keyboard is laid out.")
    # The reply's head is 32 bytes: keysyms per keycode at 1, their count at 4; the server speaks
    # the client's byte order.
    head = ctypes.string_at(reply, 8)
    per_keycode, length = head[1], memoryview(head[4:8]).cast("I")[0]
    keysyms = memoryview(_bytes(reply, 32 + 4 * length)[32:]).cast("I").tolist()
    return first, per_keycode, keysyms


class KeyGrab:
    """One combination (pynput's form) grabbed on a connection of its own to $DISPLAY, until
    ``close``; ``name`` is how messages call it (the user's ``Ctrl+Alt+P``)."""

    def __init__(self, combination: str, name: str) -> None:
        mask, keysym = grab_spec(combination, name)
        try:
            lib = _xcb()
        except OSError as exc:
            raise PromptReadyError(f"The hotkey needs libxcb ({exc}).") from exc
        screen = ctypes.c_int(0)
        self._lib, self._connection = lib, lib.xcb_connect(None, ctypes.byref(screen))
        self._down = False
        try:
            if lib.xcb_connection_has_error(self._connection):
                raise PromptReadyError("The hotkey could not connect to the X display.")
            root = _root_window(lib, self._connection, screen.value)
            codes = keycodes_for(keysym, *_keyboard_mapping(lib, self._connection))
            if not codes:
                raise ConfigError(
                    f"No key on this keyboard layout types the hotkey {name!r}'s last key."
                )
            self._codes = {code for code, _ in codes}
            self._grab(name, root, [(code, mask | shift) for code, shift in codes])
        except BaseException:
            self.close()
            raise

    def _grab(self, name: str, root: int, keys: list[tuple[int, int]]) -> None:
        lib, connection = self._lib, self._connection
        cookies = [
            lib.xcb_grab_key_checked(
                connection, 0, root, mods | lock, code, GRAB_MODE_ASYNC, GRAB_MODE_ASYNC
            )
            for code, mods in keys
            for lock in LOCKS
        ]
        errors = [lib.xcb_request_check(connection, cookie) for cookie in cookies]
        codes = [_bytes(error, 2)[1] for error in errors if error]
        if BAD_ACCESS in codes:
            raise PromptReadyError(
                f"Another app already uses {name!r} as its hotkey: choose another one."
            )
        if codes:
            raise PromptReadyError(f"The X server refused the hotkey {name!r}.")

    def fileno(self) -> int:
        """The connection's socket: readable when the X server sent something."""
        return int(self._lib.xcb_get_file_descriptor(self._connection))

    @property
    def broken(self) -> bool:
        """Whether the X connection is gone (the display closed): nothing will come any more."""
        connection = self._connection
        return connection is None or bool(self._lib.xcb_connection_has_error(connection))

    def presses(self) -> int:
        """Read everything the X server sent; how many presses of the grabbed key ended (the key
        was released) since the last call."""
        ended, connection = 0, self._connection
        while connection is not None and (event := self._lib.xcb_poll_for_event(connection)):
            kind, keycode = _bytes(event, 2)
            if keycode not in self._codes:
                continue
            if kind & 0x7F == KEY_PRESS:
                self._down = True
            elif kind & 0x7F == KEY_RELEASE and self._down:
                self._down = False
                ended += 1
        return ended

    def close(self) -> None:
        """Let go of the grab and the connection. Safe to call twice."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._lib.xcb_disconnect(connection)
