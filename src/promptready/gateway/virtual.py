"""Virtual models: ``promptready/offline`` and ``promptready/enhance`` answer with the enhanced
version of the last user message, so any OpenAI client can use the enhancer."""

from __future__ import annotations

import time
from typing import Any

import orjson

from promptready.engine import Engine, Mode
from promptready.errors import PromptReadyError
from promptready.gateway.asgi import SSE_HEADERS, Headers, Send, send_bytes
from promptready.gateway.errors import bad_request

OFFLINE = "promptready/offline"
ENHANCE = "promptready/enhance"
MODELS = (OFFLINE, ENHANCE)


def last_user_text(messages: list[Any]) -> str:
    """The text of the last user message (string content or text parts)."""
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            parts = [
                p["text"]
                for p in content
                if isinstance(p, dict)
                and p.get("type") == "text"
                and isinstance(p.get("text"), str)
            ]
            return "\n".join(parts)
    raise bad_request("There is no user message to enhance.", "invalid_messages", "messages")


async def answer(engine: Engine, payload: dict[str, Any], send: Send, headers: Headers) -> None:
    """Reply to a chat request for a virtual model, as JSON or as a one-chunk SSE stream."""
    model = payload["model"]
    text = last_user_text(payload["messages"])
    mode = Mode.OFFLINE if model == OFFLINE else Mode.AI
    try:
        result = await engine.enhance_async(text, mode=mode)
    except PromptReadyError as exc:
        raise bad_request(str(exc), "enhance_failed", "messages") from None
    created = int(time.time())
    base = {"id": f"chatcmpl-{headers[0][1].decode()}", "created": created, "model": model}
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    if result.ai is not None and result.ai.prompt_tokens is not None:
        completion = result.ai.completion_tokens or 0
        usage = {
            "prompt_tokens": result.ai.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": result.ai.prompt_tokens + completion,
        }
    if payload.get("stream") is not True:
        message = {"role": "assistant", "content": result.text}
        body = {
            **base,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
        await send_bytes(send, 200, orjson.dumps(body), headers)
        return

    def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        chunk = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    delta = {"role": "assistant", "content": result.text}
    stream = event([{"index": 0, "delta": delta, "finish_reason": None}])
    stream += event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    options = payload.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        stream += event([], usage=usage)
    stream += b"data: [DONE]\n\n"
    await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *headers]})
    await send({"type": "http.response.body", "body": stream, "more_body": False})
