"""Incremental Server-Sent Events parsing, kept importable here for older callers: the parser
lives in ``wire.py`` (the one home of the OpenAI wire format)."""

from __future__ import annotations

from promptready.providers.wire import SSEEvent, SSEParser

__all__ = ["SSEEvent", "SSEParser"]
