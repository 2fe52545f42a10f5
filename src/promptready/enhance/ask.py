"""What the ask states about its deliverable beyond the task: how many items, whether it is a
list, what each item carries, whether code is to be explained, and the parts of a multi-part ask.

Every value is a span of the user's own words; the request text is cut, never rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import TaskType

_NUMBER = (
    r"\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|a dozen|a hundred|zwei|drei|vier|fünf|sechs|zehn|deux|trois|quatre|cinq|dix|"
    r"dos|tres|cuatro|cinco|diez|dois|duas|três|quatro|dez|due|tre|quattro|cinque|dieci|twee|"
    r"drie|vier|vijf|tien"
)
_ITEMS = (
    r"ideas?|options?|names?|titles?|headlines?|taglines?|slogans?|bullets?|bullet points?|"
    r"points?|examples?|questions?|tips?|ways?|suggestions?|variations?|versions?|alternatives?|"
    r"reasons?|steps?|items?|tweets?|posts?|captions?|hashtags?|subject lines?|jokes?|facts?|"
    r"takeaways?|topics?|hooks?|prompts?|recipes?|activities|exercises?|drafts?|lines?|"
    r"ideen|vorschläge|beispiele|punkte|fragen|tipps|idées|exemples|questions|conseils|"
    r"opciones|ejemplos|preguntas|consejos|puntos|ideias|opções|exemplos|perguntas|dicas|"
    r"pontos|idee|esempi|opzioni|domande|consigli|punti|ideeën|voorbeelden|opties|vragen|"
    r"tips|punten"
)
# "20 ideas", "3 short options", "in 5 bullets": a number, up to two words, a countable noun.
_COUNT = re.compile(rf"\b(?P<count>(?:{_NUMBER})\s+(?:[\w-]+\s+){{0,2}}?(?:{_ITEMS}))\b")
# What a list without a count is of, in the plural as written: "names for a coffee truck".
_PLURAL_ITEMS = re.compile(
    r"\b(?P<items>names|titles|headlines|taglines|slogans|questions|tips|hooks|captions|hashtags|"
    r"jokes|topics|activities|namen|titel|fragen|noms|titres|nombres|títulos|nomes|nomi|titoli|"
    r"domande|namen)\b"
)
# The deliverable is a list: "list the …", "action items", "todos", "a checklist".
_LISTING = re.compile(
    r"^\W*(?:please |pls |just |can you |could you )?(?:list|enumerate|liste|lista|elenca|noem)\b"
    r"|\b(?:action items|to-?dos|todo list|checklist|next steps|key points|decisions|takeaways"
    r"|action points|aufgabenliste|liste des actions|puntos de acción|itens de ação|lijst)\b"
)
# "with owners", "including deadlines": what each item of a list carries.
_PER_ITEM = re.compile(
    r"\b(?:with|including|incl\.?|mit|avec|con|com|met)\s+(?P<extras>(?:(?:their|its|the|an?|"
    r"ihren?|leurs?|sus?|seus?|suoi|hun)\s+)?(?:owners?|deadlines?|due dates?|dates?|sources?|"
    r"links?|prices?|costs?|pros and cons|reasons?|examples?|priorit(?:y|ies)|assignees?|"
    r"verantwortlichen?|fristen|responsables?|échéances|dueños|plazos|responsáveis|prazos|"
    r"responsabili|scadenze|eigenaars?|deadlines))\b"
)
# Where a multi-part ask joins its parts: "…, then a tweet", "… and a subject line",
# "… and translate it". Cut before the joint word, so the text is kept as written.
_JOINT = re.compile(
    r"(?:,|;)?\s+(?=(?:and then|then|and also|plus|and|dann|danach|und dann|puis|ensuite|"
    r"luego|después|depois|poi|dopo|daarna|en dan)\s+(?P<next>[^\W\d_]+(?:\s+[^\W\d_]+)?))"
)
_DELIVERABLES = frozenset(
    {
        "a subject",
        "a tweet",
        "a title",
        "a headline",
        "a caption",
        "a summary",
        "a tl",
        "a short",
        "a shorter",
        "a version",
        "a list",
        "a table",
        "a reply",
        "a linkedin",
        "an email",
        "a translation",
        "a slogan",
        "a tagline",
        "a hashtag",
        "some hashtags",
        "a few",
        "an outline",
        "a checklist",
        "a timeline",
    }
)
_MIN_PART_WORDS = 2
# Asks to explain pasted code rather than review it.
_EXPLAIN = re.compile(
    r"\b(?:explain|eli5|walk me through|what does|what is this|what's this|how does|break down|"
    r"erklär\w*|was macht|explique\w*|que fait|explica\w*|qué hace|o que faz|spiega\w*|cosa fa|"
    r"leg\w* (?:\w+ ){0,4}uit|wat doet)\b"
)
_REVIEW = re.compile(r"\b(?:review|critique|feedback|improve|before i merge|issues?|bugs?)\b")


@dataclass(frozen=True)
class Ask:
    """What the request states about its deliverable."""

    count: str | None = None  # "20 ideas"
    items: str | None = None  # "names": what a list is of, when no count says it
    listing: bool = False  # the deliverable is a list
    extras: str | None = None  # "owners" in "with owners": what each item carries
    parts: tuple[str, ...] = ()  # the ask cut at its joints; empty when it has one part
    explain: bool = False  # code to be explained rather than reviewed


def read_ask(request: str, cues: str, task: TaskType) -> Ask:
    """The ask's count, list shape, per-item extras, parts and explain variant."""
    count = _COUNT.search(cues)
    extras = _PER_ITEM.search(cues)
    items = None if count else _PLURAL_ITEMS.search(cues)
    return Ask(
        count=_span(request, cues, count, "count"),
        items=_span(request, cues, items, "items"),
        listing=bool(_LISTING.search(cues)) or count is not None,
        extras=_span(request, cues, extras, "extras"),
        parts=split_parts(request),
        explain=task is TaskType.CODE_REVIEW
        and bool(_EXPLAIN.search(cues))
        and not _REVIEW.search(cues),
    )


def _span(request: str, cues: str, found: re.Match[str] | None, group: str) -> str | None:
    """The match as the user wrote it (``cues`` is the lowercased head of ``request``)."""
    if found is None:
        return None
    start, end = found.span(group)
    same = len(request) == len(cues) or request[:start].lower() == cues[:start]
    return request[start:end] if same else found.group(group)


def split_parts(request: str) -> tuple[str, ...]:
    """The ask's parts when it asks for several deliverables, each a verbatim span; ``()`` for
    one. Parts are sentences that open with a task verb, or clauses joined by "then", "and"
    + a verb, or "and" + a deliverable ("and a subject line")."""
    verbs = lexicon().verbs
    pieces: list[str] = []
    for line in (x for x in request.split("\n") if x.strip()):
        for sentence in re.split(r"(?<=[.!?])\s+", line.strip()):
            pieces += _clauses(sentence, verbs)
    heads = [p for p in pieces if _opens_task(p, verbs)]
    if len(pieces) < 2 or len(heads) < 2:
        return ()
    return tuple(pieces)


def _clauses(sentence: str, verbs: frozenset[str]) -> list[str]:
    cuts = [0]
    low = sentence.lower()
    for joint in _JOINT.finditer(low):
        nxt = joint.group("next")
        first = nxt.split()[0]
        joins_task = first in verbs or nxt in _DELIVERABLES or low[joint.end() :].startswith("then")
        left = low[cuts[-1] : joint.start()]
        if joins_task and len(left.split()) >= _MIN_PART_WORDS and first not in _NOT_VERBS:
            cuts.append(joint.end())  # after the comma: "…about X," | "then a tweet"
    bounds = [*cuts, len(sentence)]
    parts = [sentence[a:b].strip() for a, b in pairwise(bounds)]
    return [p for p in parts if p]


# Words in the verb list that also head ordinary clauses ("and what", "and is").
_NOT_VERBS = frozenset(
    {"what", "how", "why", "who", "when", "where", "which", "can", "could", "should", "is", "are"}
    | {"does", "do", "email", "message", "letter", "post", "names", "ideas", "summary"}
)


def _opens_task(part: str, verbs: frozenset[str]) -> bool:
    """Whether a part opens with a task verb or a joint word and a deliverable."""
    words = re.findall(r"[^\W\d_]+", part.lower())[:4]
    if not words:
        return False
    rest = [w for w in words if w not in _JOINT_WORDS]
    joined = " ".join(rest[:2])
    opens_verb = bool(rest) and rest[0] in verbs and rest[0] not in _NOT_VERBS
    return opens_verb or joined in _DELIVERABLES or words[0] in _JOINT_WORDS


_JOINT_WORDS = frozenset(
    {"and", "then", "also", "plus", "dann", "danach", "und", "puis", "ensuite", "luego", "después"}
    | {"depois", "poi", "dopo", "daarna", "en"}
)
