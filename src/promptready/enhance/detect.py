"""What the user asks for: the input language, the task (with a confidence) and its slots.

Cues are read from the request only, and only from its head and tail (the ask sits there), so
detection costs the same for a one-liner and for a megabyte of pasted material.
"""

from __future__ import annotations

import re

from promptready.enhance.blocks import Block
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import ContentKind, Slots, TaskType

_WINDOW = 1500  # chars read at the head of the request (and 1000 at its tail)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

_AUDIENCE = re.compile(
    r"\b(?:for|to|aimed at|targeted at|audience(?: is)?:?)\s+(?P<who>(?:my |our |a |an |the |non-technical |new |young )?"
    r"(?:manager|boss|team|teammates|colleagues?|kids|children|beginners?|students?|customers?|clients?|"
    r"investors?|developers?|engineers?|executives?|stakeholders?|users?|readers?|landlord|"
    r"recruiters?|hiring manager|professor|teacher|parents?|family|friends?|followers|audience|"
    r"experts?|ceo|cto|board|general public|non-experts?)s?)\b",
)
_TONE = re.compile(
    r"\b(?P<tone>polite(?: but firm)?|formal|informal|casual|friendly|professional|firm|warm|funny|"
    r"humou?rous|serious|persuasive|enthusiastic|empathetic|neutral|assertive|playful|witty|"
    r"diplomatic|apologetic|confident|upbeat|höflich|formell|locker|freundlich|poli|formel|amical|"
    r"cortés|cordial|amable|educado|gentile|cordiale|beleefd|vriendelijk|zakelijk)\b",
)
_LENGTH = re.compile(
    r"\b(?P<length>(?:under|less than|at most|max(?:imum)?|no more than|about|around|exactly|up to)?\s*"
    r"\d+\s*(?:words?|sentences?|paragraphs?|bullet points?|bullets?|points?|lines?|pages?|"
    r"characters?|chars?|ideas?|items?|examples?|tweets?|wörter|sätze|mots|phrases|palabras|palavras|"
    r"parole|woorden|punkte|puntos)|one[- ](?:paragraph|sentence|page|line)|short|brief|concise|"
    r"detailed|in[- ]depth|comprehensive|long|kurz|ausführlich|court|bref|corto|breve|kort)\b",
)
_FORMAT = re.compile(
    r"\b(?P<format>(?:as|in|into) (?:a )?(?:table|json|yaml|csv|markdown|list|bullet(?:ed)? list|"
    r"numbered list|bullets|bullet points|outline|code block|html)|table|json|yaml|bullet points|"
    r"bullets|numbered list|markdown|step[- ]by[- ]step|tabelle|tableau|tabla|tabela|tabella|lijst)\b",
)
_OUT_LANGUAGE = re.compile(
    r"\b(?:in|into|to|auf|en|em|in het)\s+(?P<lang>english|german|french|spanish|portuguese|italian|dutch|"
    r"japanese|chinese|korean|russian|polish|turkish|arabic|hindi|deutsch|englisch|französisch|"
    r"spanisch|anglais|allemand|espagnol|français|inglés|alemán|francés|español|inglês|alemão|"
    r"inglese|tedesco|engels|duits|frans)\b",
)
_CONSTRAINT = re.compile(
    r"\b(?:must|should not|shouldn't|don't|do not|never|without|avoid|only|no more than|"
    r"at least|make sure|keep it|nicht|ohne|sans|ne pas|sin|sem|senza|zonder)\b",
)
_EXAMPLE = re.compile(r"\b(?:e\.g\.|for example|for instance|such as|like this)")
_CLAUSE = re.compile(r"(?<=[.!?])\s+|\n+")
_FAILURE = re.compile(
    r"Traceback|Exception|\b(?:ERROR|FATAL|CRITICAL|panic)\b|\w+Error\b|ERR!|Segmentation fault"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def cue_text(request: list[Block]) -> str:
    """The part of the request where cues are looked for, lowercased."""
    text = "\n\n".join(b.text for b in request)
    if len(text) > _WINDOW + 1000:
        text = text[:_WINDOW] + "\n" + text[-1000:]
    return text.lower()


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language among those the lexicon knows; English by default."""
    words = _WORD.findall(text[:_WINDOW].lower())
    if not words:
        return "en"
    scores = {
        lang: sum(1 for w in words if w in vocab) for lang, vocab in lexicon().languages.items()
    }
    best = max(sorted(scores), key=lambda lang: (scores[lang], lang == "en"))
    return best if scores[best] >= 2 else "en"


def detect_task(cues: str, material: list[Block]) -> tuple[TaskType, float]:
    """The task with the strongest cues, and how clearly it won (0-1)."""
    lex = lexicon()
    strong: dict[TaskType, int] = dict.fromkeys(TaskType, 0)
    weak: dict[TaskType, int] = dict.fromkeys(TaskType, 0)
    for found in lex.cues.findall(cues):
        for task, is_strong in lex.cue_table[found]:
            (strong if is_strong else weak)[task] += 1
    scores = {t: 3.0 * min(strong[t], 3) + 1.0 * min(weak[t], 3) for t in TaskType}
    kinds = {b.kind for b in material}
    if ContentKind.LOGS in kinds:
        # Logs that show a failure point at debugging; quiet logs are just material.
        failing = any(
            _FAILURE.search(b.text[:20000]) for b in material if b.kind is ContentKind.LOGS
        )
        scores[TaskType.DEBUG] += 4 if failing else 1
    if kinds & {ContentKind.CODE, ContentKind.DIFF} and ContentKind.LOGS not in kinds:
        scores[TaskType.CODE_REVIEW] += 2
        scores[TaskType.DEBUG] += 0.5
        scores[TaskType.CODE] += 0.5
    if kinds & {ContentKind.DATA, ContentKind.JSON}:
        scores[TaskType.DATA_ANALYSIS] += 2
    if ContentKind.PROSE in kinds:
        scores[TaskType.SUMMARIZE] += 0.5
    stripped = cues.strip()
    other_strong = any(strong[t] for t in TaskType if t is not TaskType.QUESTION)
    if stripped.endswith("?") and len(stripped.split()) <= 30 and not material and not other_strong:
        scores[TaskType.QUESTION] += 2.5
    ranked = sorted(TaskType, key=lambda t: (-scores[t], list(TaskType).index(t)))
    top, second = scores[ranked[0]], scores[ranked[1]]
    if top <= 0:
        fallback = _fallback_task(kinds)
        return fallback, 0.2
    margin = (top - second) / top
    confidence = round(min(1.0, 0.35 + 0.45 * margin + 0.04 * min(top, 5)), 2)
    return ranked[0], confidence


def _fallback_task(kinds: set[ContentKind]) -> TaskType:
    if ContentKind.LOGS in kinds:
        return TaskType.DEBUG
    if kinds & {ContentKind.CODE, ContentKind.DIFF}:
        return TaskType.CODE_REVIEW
    if kinds & {ContentKind.DATA, ContentKind.JSON}:
        return TaskType.DATA_ANALYSIS
    return TaskType.WRITING


def _first(pattern: re.Pattern[str], text: str, low: str, group: str) -> str | None:
    """The match in ``low`` (lowercased ``text``), returned as the user wrote it where possible."""
    found = pattern.search(low)
    if found is None:
        return None
    start, end = found.span(group)
    # Lowercasing keeps lengths for nearly all text; where it did not, the lowercase match is used.
    value = text[start:end] if len(text) == len(low) else found.group(group)
    return value.strip()


def extract_slots(request_text: str) -> Slots:
    """What the request already says about goal, audience, tone, length, format and so on."""
    head = request_text[:_WINDOW]
    sentences = [s for s in _SENTENCE_END.split(head.strip()) if s]
    goal = sentences[0][:200] if sentences else None
    # Matched per clause: a pattern spanning "[^.]*" before the cue backtracks quadratically.
    clauses = [c.strip() for c in _CLAUSE.split(head) if c.strip()]
    low = head.lower()
    return Slots(
        goal=goal,
        audience=_first(_AUDIENCE, head, low, "who"),
        tone=_first(_TONE, head, low, "tone"),
        length=_first(_LENGTH, head, low, "length"),
        format=_first(_FORMAT, head, low, "format"),
        language=_first(_OUT_LANGUAGE, head, low, "lang"),
        constraints=tuple(c for c in clauses if _CONSTRAINT.search(c.lower()))[:5],
        examples=tuple(c for c in clauses if _EXAMPLE.search(c.lower()))[:3],
    )
