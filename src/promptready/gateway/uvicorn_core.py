"""The parts of uvicorn the gateway serves with, imported without ``uvicorn/__init__``.

uvicorn's package ``__init__`` imports ``uvicorn.main``, its command line: click, multiprocessing
and the reloaders, about 3 MB that stay resident in the desktop app and that serving from our
own sockets never uses. So the package is registered here without running its ``__init__``
(its submodules import as usual); the first attribute the package itself is asked for that is
not here (``uvicorn.run``, say, from other code in the same process) runs the real ``__init__``
then, so nothing else sees a difference. Where uvicorn was imported already, it is used as is.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any


def _register_package() -> None:
    if "uvicorn" in sys.modules:
        return
    spec = importlib.util.find_spec("uvicorn")
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    completed = False

    def complete(name: str) -> Any:
        nonlocal completed
        # Dunder probes (PySide6's import hook asks every module for ``__wrapped__``) are not
        # uses of uvicorn's API: they must not pull its command line in.
        if completed or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(f"module 'uvicorn' has no attribute {name!r}")
        completed = True
        loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = complete  # type: ignore[method-assign]
    sys.modules["uvicorn"] = package


def _package() -> ModuleType:
    return sys.modules["uvicorn"]


_register_package()

from uvicorn.config import Config  # noqa: E402 - after the package is registered
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol  # noqa: E402
from uvicorn.server import Server  # noqa: E402

# What uvicorn's own submodules ask of the package (``from uvicorn import Config``).
_package().__dict__.setdefault("Config", Config)
_package().__dict__.setdefault("Server", Server)

__all__ = ["STATUS_LINE", "Config", "HttpToolsProtocol", "Server"]
