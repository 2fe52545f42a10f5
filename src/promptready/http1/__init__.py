"""A lean HTTP/1.1 client (httptools' parser on asyncio) for every upstream call: the desktop's
providers and the hosted proxy's upstream. No Qt, and nothing from gateway/, cloud/, ui/ or
ledger/: both sides import it. See ``client.py`` for why it exists."""

from promptready.http1.client import Client, default_tls
from promptready.http1.errors import (
    BodyTooLargeError,
    ConnectError,
    HTTPError,
    HTTPTimeoutError,
    MalformedResponseError,
    RemoteClosedError,
)
from promptready.http1.per_loop import LoopClient
from promptready.http1.response import Response

__all__ = [
    "BodyTooLargeError",
    "Client",
    "ConnectError",
    "HTTPError",
    "HTTPTimeoutError",
    "LoopClient",
    "MalformedResponseError",
    "RemoteClosedError",
    "Response",
    "default_tls",
]
