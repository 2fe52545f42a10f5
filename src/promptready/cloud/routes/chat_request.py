"""The body of ``POST /v1/chat/completions``, checked and turned into what goes upstream. Pure.

The device's cohort decides the model (the client's ``model`` is accepted and replaced), the
completion limit is always set (so the hold bounds the cost), and OpenRouter-only fields are
dropped (api.openai.com refuses unknown ones). A stream's ``stream_options`` go upstream as the
client sent them: ``Upstream.stream`` adds ``include_usage`` (the stream is charged by it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promptready.cloud.errors import bad_request
from promptready.cloud.routes.costs import DEFAULT_MAX_TOKENS, MAX_MAX_TOKENS
from promptready.providers.wire import wants_usage

MAX_MESSAGES = 2048
MAX_CHOICES = 8
_DROPPED = frozenset({"usage", "provider", "transforms", "models", "route", "plugins"})
_LIMITS = ("max_completion_tokens", "max_tokens")


@dataclass(frozen=True)
class ChatRequest:
    """A checked chat request."""

    body: Mapping[str, Any]  # what the client sent, minus the dropped fields
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool  # whether the client asked to see the usage chunk
    max_tokens: int
    limit_field: str  # which of max_tokens / max_completion_tokens carries the limit
    choices: int

    def upstream_body(self, model: str) -> dict[str, Any]:
        """The body sent upstream for ``model``."""
        body = {**self.body, "model": model, self.limit_field: self.max_tokens}
        if not self.stream:
            body.pop("stream_options", None)  # OpenAI refuses them without ``stream``
        return body


def parse_chat(body: dict[str, Any]) -> ChatRequest:
    """Check a chat body; a 400 naming the field at fault."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages must be a non-empty array.", "invalid_messages", "messages")
    if len(messages) > MAX_MESSAGES:
        raise bad_request(
            f"messages holds more than {MAX_MESSAGES} messages.", "invalid_messages", "messages"
        )
    for index, message in enumerate(messages):
        _check_message(index, message)
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise bad_request("model must be a string.", "invalid_model", "model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise bad_request("stream must be true or false.", "invalid_stream", "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("stream_options must be an object.", "invalid_stream", "stream_options")
    include_usage = wants_usage(body)
    choices = _whole(body, "n", 1, MAX_CHOICES, 1)
    limit_field = next((f for f in _LIMITS if body.get(f) is not None), "max_tokens")
    max_tokens = _whole(body, limit_field, 1, MAX_MAX_TOKENS, DEFAULT_MAX_TOKENS)
    return ChatRequest(
        body={k: v for k, v in body.items() if k not in _DROPPED},
        messages=messages,
        stream=stream,
        include_usage=include_usage,
        max_tokens=max_tokens,
        limit_field=limit_field,
        choices=choices,
    )


def _check_message(index: int, message: object) -> None:
    param = f"messages[{index}]"
    if not isinstance(message, dict):
        raise bad_request(f"{param} must be an object.", "invalid_messages", param)
    if not isinstance(message.get("role"), str):
        raise bad_request(f"{param}.role must be a string.", "invalid_messages", param)
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        raise bad_request(
            f"{param}.content must be a string or an array of parts.", "invalid_messages", param
        )


def _whole(body: Mapping[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_request(
            f"{name} must be a whole number from {low} to {high}.", f"invalid_{name}", name
        )
    return value
