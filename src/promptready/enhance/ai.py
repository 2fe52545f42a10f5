"""The AI enhancer's pure half: the meta-prompt messages, and cleaning what the model returns.

The network call lives in the engine; here the user's text is wrapped as JSON-encoded material
(never as instructions) and the model's answer is stripped of preambles, reasoning and fences.
"""

from __future__ import annotations

import json
import re
from functools import cache

from promptready.enhance.model import Analysis
from promptready.resources import read_text

NOT_A_PROMPT = "NOT_A_PROMPT"

_THINK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>\s*", re.DOTALL | re.IGNORECASE)
_PREAMBLE = re.compile(
    r"^(?:sure[,!.]?\s*)?(?:here(?:'s| is)|below is)\b[^\n]*?(?:prompt|version)[^\n]*:\s*\n+",
    re.IGNORECASE,
)
_OUTER_FENCE = re.compile(r"^```[\w-]*\n(?P<body>.*)\n```\s*$", re.DOTALL)


@cache
def system_prompt() -> str:
    """The meta-prompt (resources/ai/enhance_system.md)."""
    return read_text("ai/enhance_system.md").strip()


def build_messages(text: str, analysis: Analysis) -> list[dict[str, str]]:
    """Chat messages asking a model to rewrite ``text``, with the offline analysis as a hint."""
    hints = {
        "task": analysis.task.value,
        "language": analysis.language,
        "content": analysis.content.value,
        "found": analysis.slots.found(),
        "issues": [hit.message for hit in analysis.lint],
    }
    material = json.dumps({"text": text, "analysis": hints}, ensure_ascii=False)
    return [
        {"role": "system", "content": system_prompt()},
        {"role": "user", "content": f"Rewrite the prompt in this JSON material:\n{material}"},
    ]


def clean_output(raw: str) -> str | None:
    """The prompt alone, or None when the model answered NOT_A_PROMPT (or nothing)."""
    text = _THINK.sub("", raw).strip()
    if not text or text.strip("`\"' .") == NOT_A_PROMPT:
        return None
    text = _PREAMBLE.sub("", text, count=1).strip()
    fenced = _OUTER_FENCE.match(text)
    if fenced and "```" not in fenced.group("body"):
        text = fenced.group("body").strip()
    return text or None
