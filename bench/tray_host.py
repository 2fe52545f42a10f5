"""A real X11 system tray for the benches: `trayer` (an XEmbed tray host) and a look into its panel.

- ``xvfb()``: a new Xvfb display, for a bench that wants a tray of its own;
- ``trayer(display_name)``: trayer on that display (None: $DISPLAY), ready once it owns the
  system tray selection, as a ``TrayHost``;
- ``TrayHost.icon_mapped(wm_class)``: whether a window of that WM_CLASS class is mapped inside
  trayer's panel, i.e. an app's tray icon is embedded;
- ``TrayHost.icon_painted(wm_class)``: whether that window also shows the icon. trayer maps an
  icon as soon as the app's ``show()`` has flushed, but the app draws it only when its event loop
  handles the expose: an app busy starting up shows an empty square until then.

python-xlib has no annotations: its objects are ``Any`` here.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

X11_SOCKETS = Path("/tmp/.X11-unix")
# trayer's own WM_CLASS (instance, class) on its panel window.
PANEL_CLASS = ("panel", "trayer")
# A fixed-size panel: with --widthtype request it would resize as the icon docks, and the icon's
# map would wait on that resize, which is trayer's cost and not the app's.
TRAYER_ARGS = (
    "--edge",
    "top",
    "--align",
    "right",
    "--widthtype",
    "pixel",
    "--width",
    "200",
    "--height",
    "32",
)


def wait_for(ready: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``ready`` every 20 ms until it is true; RuntimeError naming ``what`` after ``timeout``
    seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.02)


def _free_display() -> str:
    taken = {p.name for p in X11_SOCKETS.glob("X*")}
    number = next(n for n in range(90, 200) if f"X{n}" not in taken)
    return f":{number}"


@contextmanager
def xvfb() -> Iterator[str]:
    """A new Xvfb display (1280x800, no TCP) while the block runs; yields its name (":90")."""
    name = _free_display()
    proc = subprocess.Popen(["Xvfb", name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
    try:
        wait_for((X11_SOCKETS / f"X{name[1:]}").exists, "Xvfb")
        yield name
    finally:
        proc.terminate()
        proc.wait()


class TrayHost:
    """An Xlib connection to the display trayer runs on, and the question asked of its panel."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @property
    def display_name(self) -> str:
        """The X display trayer runs on (":90"), for an app's DISPLAY."""
        name: str = self.connection.get_display_name()
        return name

    def owns_tray(self) -> bool:
        """Whether trayer holds the system tray selection: icons can dock from then on."""
        selection = self.connection.intern_atom("_NET_SYSTEM_TRAY_S0")
        return bool(self.connection.get_selection_owner(selection) != 0)

    def icon_mapped(self, wm_class: str) -> bool:
        """Whether a window whose WM_CLASS class is ``wm_class`` is viewable inside trayer's panel."""
        return self.icon_window(wm_class) is not None

    def icon_painted(self, wm_class: str) -> bool:
        """Whether that window is viewable and drawn: more than one colour in it (an undrawn
        window is its background alone; the bare baseline's white square sits on it too)."""
        from Xlib import X, error

        window = self.icon_window(wm_class)
        if window is None:
            return False
        try:
            size = window.get_geometry()
            image = window.get_image(0, 0, size.width, size.height, X.ZPixmap, 0xFFFFFFFF)
        except error.XError:  # unmapped or gone meanwhile
            return False
        data = bytes(image.data)
        pixel: int = len(data) // (size.width * size.height)
        return data.count(data[:pixel]) * pixel < len(data)  # not every pixel the first one

    def icon_window(self, wm_class: str) -> Any:
        """The viewable window whose WM_CLASS class is ``wm_class`` inside trayer's panel, or None.

        trayer reparents each icon into a socket in its panel, so the icon is a descendant of the
        panel, not a child (and the panel may sit in a window manager's frame)."""
        from Xlib import X, error

        # Only viewable windows are walked: an unmapped window has no viewable descendants.
        pending = [(self.connection.screen().root, False)]
        while pending:
            window, inside_panel = pending.pop()
            try:
                children = window.query_tree().children
            except error.XError:  # the window closed while we looked
                continue
            for child in children:
                try:
                    if child.get_attributes().map_state != X.IsViewable:
                        continue
                    classes = tuple(child.get_wm_class() or ())
                except error.XError:
                    continue
                if inside_panel and classes[-1:] == (wm_class,):
                    return child
                pending.append((child, inside_panel or classes == PANEL_CLASS))
        return None


@contextmanager
def trayer(display_name: str | None = None) -> Iterator[TrayHost]:
    """trayer on ``display_name`` (None: $DISPLAY) while the block runs, yielded once it owns the
    system tray."""
    from Xlib import display

    connection = display.Display(display_name)
    env = {**os.environ, "DISPLAY": connection.get_display_name()}
    proc = subprocess.Popen(
        ["trayer", *TRAYER_ARGS], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        host = TrayHost(connection)
        wait_for(host.owns_tray, "trayer")
        yield host
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        connection.close()
