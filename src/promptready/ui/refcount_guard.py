"""A guard against a reference-counting bug in PySide6 6.12.0 on CPython 3.11: every call that
passes a ``str`` to Qt (``setText``, ``setWindowTitle``…) drops one reference to ``None``. After
some tens of thousands of such calls None's count reaches zero and the process dies
("deallocating None"), e.g. while AI output streams into the popup.

Until the binding is fixed, None is made effectively immortal, as CPython 3.12 does itself.
"""

from __future__ import annotations

import ctypes
import sys

_PROBES = 8


def leaks_none() -> bool:
    """Whether passing text to Qt loses references to None in this process."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBES):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before


def keep_none_alive() -> bool:
    """Raise None's reference count out of reach when the binding leaks it; True if it did."""
    if sys.version_info >= (3, 12) or not leaks_none():
        return False  # None is immortal from 3.12 on, or the binding is sound
    # ob_refcnt is the first field of every CPython object.
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True
