"""One app per user: the first launch listens on a local socket, a second one asks it to come to
the front and exits.

The socket name is derived from the user and the data directory, so two users (or two
PROMPTREADY_HOME folders) never see each other's instance.
"""

from __future__ import annotations

import getpass
import hashlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from promptready.paths import app_paths

SHOW = b"show\n"
CONNECT_TIMEOUT_MS = 500


def instance_name() -> str:
    """The per-user, per-data-dir socket name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "user"
    digest = hashlib.sha256(f"{user}\0{app_paths().data_dir}".encode()).hexdigest()
    return f"promptready-{digest[:24]}"


class SingleInstance(QObject):
    """Claim the instance name, or hand over to the instance that holds it."""

    activated = Signal()  # another launch asked this instance to show itself

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        self.name = name or instance_name()
        self._server: QLocalServer | None = None

    def notify_running(self) -> bool:
        """Ask a running instance to come forward; True when one answered."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        socket.write(SHOW)
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def claim(self) -> bool:
        """Become the instance; False when another one runs (and was asked to show itself)."""
        if self.notify_running():
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A crashed instance leaves its socket file behind: nobody answered, so remove it.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return not self.notify_running()
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def release(self) -> None:
        """Stop listening (at quit)."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def _on_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _on_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if bytes(socket.readAll().data()).startswith(SHOW.strip()):
            self.activated.emit()
