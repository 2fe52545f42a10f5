"""Virtual models: ``promptready/offline`` and ``promptready/enhance`` answer with the enhanced
version of the last user message, so any OpenAI client can use the enhancer."""

from __future__ import annotations

from typing import Any

import orjson

from promptready.engine import Engine, Mode
from promptready.errors import PromptReadyError
from promptready.gateway.asgi import SSE_HEADERS, Headers, Send, send_bytes
from promptready.gateway.errors import bad_request
from promptready.ledger.meter import BudgetError, Caller
from promptready.providers.wire import Usage, completion, completion_as_sse, wants_usage

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


async def answer(
    engine: Engine, payload: dict[str, Any], send: Send, headers: Headers, caller: Caller
) -> None:
    """Reply to a chat request for a virtual model, as JSON or as a one-chunk SSE stream; the
    engine meters the call against ``caller``'s budget and commits its row first."""
    model = payload["model"]
    text = last_user_text(payload["messages"])
    mode = Mode.OFFLINE if model == OFFLINE else Mode.AI
    request_id = headers[0][1].decode()
    try:
        result = await engine.enhance_async(text, mode=mode, caller=caller, request_id=request_id)
    except BudgetError:
        raise
    except PromptReadyError as exc:
        raise bad_request(str(exc), "enhance_failed", "messages") from None
    usage = Usage(0, 0)
    if result.ai is not None and result.ai.prompt_tokens is not None:
        usage = Usage(result.ai.prompt_tokens, result.ai.completion_tokens or 0)
    body = completion(f"chatcmpl-{request_id}", model, result.text, usage)
    if payload.get("stream") is not True:
        await send_bytes(send, 200, orjson.dumps(body), headers)
        return
    stream = completion_as_sse(body, wants_usage(payload))
    await send_bytes(send, 200, stream, headers, SSE_HEADERS[0])
