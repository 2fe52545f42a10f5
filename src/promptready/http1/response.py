"""An answer whose head has been read: its status and headers now, its body as it arrives."""

from __future__ import annotations

from promptready.http1.connection import Connection
from promptready.http1.errors import BodyTooLargeError
from promptready.http1.pool import Pool


class Response:
    """Status, headers (lower-cased names, as bytes) and the body of one exchange.

    Read the body (``read()``, ``next_chunk()`` or ``async for``), then ``release()``: a body read
    to its end puts the connection back in its pool, anything else closes it. ``close()`` drops
    the connection at once, so the server sees the client leave.
    """

    __slots__ = ("_conn", "_pool", "headers", "status")

    def __init__(self, conn: Connection, pool: Pool) -> None:
        self.status = conn.status
        self.headers = conn.headers
        self._conn: Connection | None = conn
        self._pool = pool

    def __repr__(self) -> str:
        return f"<Response {self.status}>"

    def header(self, name: bytes | str) -> bytes | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = (name.encode("latin-1") if isinstance(name, str) else name).lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    async def read(self, limit: int | None = None) -> bytes:
        """The whole (rest of the) body, decoded from gzip or deflate; BodyTooLargeError (reading
        stops there) once more than ``limit`` bytes arrived."""
        conn = self._open()
        if limit is None:
            return await conn.read_all()
        parts, size = [], 0
        while chunk := await conn.read_chunk():
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(f"{conn.label} sent a body over {limit} bytes.")
            parts.append(chunk)
        return b"".join(parts)

    async def next_chunk(self) -> bytes:
        """The body bytes that arrived since the last read; b"" once it has ended."""
        return await self._open().read_chunk()

    def __aiter__(self) -> Response:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._open().read_chunk()
        if chunk:
            return chunk
        raise StopAsyncIteration

    def release(self) -> None:
        """Done with the answer: the connection is reused if its body was read to the end."""
        conn, self._conn = self._conn, None
        if conn is not None and conn.finish():
            self._pool.put(conn)

    def close(self) -> None:
        """Drop the connection now (the server sees the disconnect)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()

    def _open(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the response was already released")
        return self._conn
