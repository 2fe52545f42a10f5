"""What the request already says: goal, audience, tone, length, format, language, constraints
and examples. Matched on the request's head, clause by clause, and returned as the user wrote it.
"""

from __future__ import annotations

import re

from promptready.enhance.blocks import SENTENCE_END
from promptready.enhance.language import WINDOW
from promptready.enhance.model import Slots

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
    head = request_text[:WINDOW]
    sentences = [s for s in SENTENCE_END.split(head.strip()) if s]
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
