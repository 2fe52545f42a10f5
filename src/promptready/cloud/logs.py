"""Structured JSON logs: one object per line on stderr, with no secrets and no prompt text.

Callers log events with named fields (``log.info("request", extra=fields(...))``); only fields
in ``ALLOWED`` reach the output, so a device id, a secret, a token or a prompt can never be
written by accident, whatever a caller passes.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

LOGGER = "promptready.cloud"
# Operational facts only. Never add: device ids, secrets, tokens, headers, bodies, prompts.
ALLOWED = frozenset(
    {
        "route",
        "method",
        "status",
        "code",
        "latency_ms",
        "upstream_ms",
        "credits",
        "cost_usd",
        "model",
        "cohort",
        "stream",
        "outcome",
        "expired",
        "url",
        "workers",
        "error",
    }
)
_FIELDS = "cloud_fields"


def fields(**values: Any) -> dict[str, Any]:
    """The ``extra=`` argument carrying structured fields for one log call."""
    return {_FIELDS: values}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with ts, level, event and the allowed fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "pid": record.process,
        }
        given = getattr(record, _FIELDS, None)
        if isinstance(given, dict):
            out.update({k: v for k, v in given.items() if k in ALLOWED})
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: exception messages can quote input.
            out["exception"] = record.exc_info[0].__name__
        return orjson.dumps(out, default=str).decode()


class _HandOff(logging.handlers.QueueHandler):
    """Queues the record as it is: the listener's thread formats and writes it, so the event
    loop neither serialises nor blocks on stderr. (The stock ``prepare`` formats here and drops
    ``exc_info``, which the JSON line reads for the exception type.)"""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure(level: int = logging.INFO) -> None:
    """Send the proxy's logs to stderr as JSON lines, written by a background thread
    (idempotent; the thread drains its queue at interpreter exit)."""
    logger = logging.getLogger(LOGGER)
    if not any(getattr(h, "_cloud", False) for h in logger.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(JsonFormatter())
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        listener = logging.handlers.QueueListener(records, stream)
        listener.start()
        atexit.register(listener.stop)
        handler = _HandOff(records)
        handler._cloud = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def get() -> logging.Logger:
    """The proxy's logger."""
    return logging.getLogger(LOGGER)
