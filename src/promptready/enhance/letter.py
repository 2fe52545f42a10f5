"""A pasted email or letter: whether one is there, and who sent it (the reader of a reply)."""

from __future__ import annotations

import re

from promptready.enhance.blocks import Block
from promptready.enhance.model import ContentKind

# Header, greeting and sign-off lines of a pasted email or letter.
LETTER_LINE = re.compile(
    r"^(?:(?:from|to|subject|sent|date|cc|von|an|betreff|de|para|objet|asunto|assunto|oggetto|"
    r"onderwerp|van|aan):\s|(?:hi|hello|dear|hey|hallo|liebe|lieber|bonjour|hola|olá|ciao|beste|"
    r"geachte)\b[^\n]{0,40},$|(?:best|regards|thanks|cheers|sincerely|kind regards|best regards|"
    r"viele grüße|mit freundlichen grüßen|cordialement|saludos|atenciosamente|cordiali saluti|"
    r"met vriendelijke groet)\b[^\n]{0,20}$)",
    re.IGNORECASE | re.MULTILINE,
)
_FROM = re.compile(
    r"^(?:from|von|de|van):\s*(?P<who>[^\n<]{2,60}?)\s*(?:<[^\n>]*>)?\s*$", re.I | re.M
)
_SIGN_OFF = re.compile(
    r"^(?:best|regards|thanks|cheers|sincerely|kind regards|best regards|viele grüße|"
    r"mit freundlichen grüßen|cordialement|saludos|atenciosamente|cordiali saluti|"
    r"met vriendelijke groet)\b[^\n]{0,20}\n(?P<who>[^\W\d_][^\n]{0,40})$",
    re.IGNORECASE | re.MULTILINE,
)


def _prose(material: list[Block]) -> str:
    return "\n".join(b.text[:20000] for b in material if b.kind is ContentKind.PROSE)


def has_letter(material: list[Block]) -> bool:
    """Whether an email or letter was pasted (headers, a greeting, a sign-off)."""
    return len(LETTER_LINE.findall(_prose(material))) >= 2


def sender_of(material: list[Block]) -> str | None:
    """Who wrote the pasted letter, as it names them (a From: header or the name under the
    sign-off); None when it does not say."""
    prose = _prose(material)
    found = _FROM.search(prose) or _SIGN_OFF.search(prose)
    return found.group("who").strip() if found else None
