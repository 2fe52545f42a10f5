"""Incremental Server-Sent Events parsing: bytes in as they arrive, complete events out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event; ``data`` joins multi-line data fields with newlines."""

    data: str
    event: str = "message"
    id: str | None = None


class SSEParser:
    """Feed raw bytes, get the events completed so far (the WHATWG event-stream rules)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse ``chunk``; a line split across chunks is kept until its end arrives."""
        self._buffer += chunk
        events: list[SSEEvent] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return events
            end, after = cut
            line = self._buffer[:end].decode("utf-8", "replace")
            self._buffer = self._buffer[after:]
            event = self._take_line(line)
            if event is not None:
                events.append(event)

    def _take_line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, e.g. a keep-alive ping
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = SSEEvent(data="\n".join(self._data), event=self._event or "message", id=self._id)
        self._data = []
        self._event = ""
        return event


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """Index where the first line ends and where the next begins (CRLF, LF or CR)."""
    lf = buffer.find(b"\n")
    cr = buffer.find(b"\r")
    if cr == -1 and lf == -1:
        return None
    if cr == -1 or (lf != -1 and lf < cr):
        return lf, lf + 1
    if cr + 1 < len(buffer):
        return cr, cr + 2 if buffer[cr + 1 : cr + 2] == b"\n" else cr + 1
    return None  # a trailing CR may be the first half of CRLF: wait for more
