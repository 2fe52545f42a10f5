"""What the user asks for: one of the ten tasks, with a confidence.

Cues are read from the request only, and only from its head and tail (the ask sits there), so
detection costs the same for a one-liner and for a megabyte of pasted material. On top of the
lexicon's cues come priors from what was pasted (code, logs, data, an email), from quoted errors,
from text in another language and from the shape of a question.
"""

from __future__ import annotations

import re

from promptready.enhance.blocks import SENTENCE_END, Block
from promptready.enhance.language import WINDOW, vocabulary_language
from promptready.enhance.letter import has_letter
from promptready.enhance.lexicon import lexicon
from promptready.enhance.model import ContentKind, TaskType

_HEAD_BOOST = 1.5
_SHORT_QUESTION_WORDS = 12
_UNMARKED_QUESTION_WORDS = 40
_MEANING = re.compile(r"\bwhat(?:'s| is| does) (.{8,80}?) (?:mean|in english)\b")
# Advice about pasted prose rather than work on it.
_ADVICE = re.compile(
    r"(?:^|[.!?\n]\s*)(?:can|could|should|may) (?:i|we) (?:use|swap|skip|replace|freeze|make|substitute)\b"
    r"|\bhow (?:much|many|long)\b[^.?!\n]{0,40}\binstead\b|\binstead of\b[^.?!\n]{0,40}\?"
    r"|\bcommon (?:problem|issue|fault)\b|\b(?:thinking of|should i) buy|\bis it worth\b"
)
# A sentence that opens with "why": behaviour that surprised the user.
_WHY = re.compile(r"(?:^|[.!?\n]\s*)(?:why|warum|wieso|pourquoi|por qué|porque|perché|waarom)\b")
_SCHEMA_LINE = re.compile(r"^\s*\w+\s*\(\s*\w+(?:\s*,\s*\w+)+\s*\)\s*;?\s*$")
# Letters of scripts the language lists cannot read: CJK, Hangul, Cyrillic, Arabic, Hebrew, Greek, Thai.
_OTHER_SCRIPT = re.compile(
    r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0400-\u04ff\u0600-\u06ff\u0590-\u05ff\u0370-\u03ff\u0e00-\u0e7f]"
)
_QUOTED = re.compile(r'"[^"\n]{8,}"|“[^”\n]{8,}”|«[^»\n]{8,}»')
# Code written into a sentence: calls, pipes, flags, formulas, paths, operators, backticks.
_INLINE_CODE = re.compile(
    r"`[^`\n]+`|\w+\([^()\n]*\)|\s\|\s*\w|(?:^|\s)--?[a-z][\w-]*|=[a-z][\w.]*\(|/(?:etc|usr|var|home|tmp)/"
    r"|\$\w+|\[\.\.\.|=>|&&|\|\||::|!~"
)
# A long run of mostly symbols is a formula, a regex or a command: =IFERROR(INDEX(A:A,...
_FORMULA = re.compile(r"(?:^|\s)=[a-z][\w.]*\(")  # a spreadsheet formula: =VLOOKUP(A2, ...
_LONG_TOKEN = re.compile(r"\S{16,}")
_SYMBOLS = re.compile(r"[^\w\s]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")
_INLINE_NUMBERS = 5
_OUTPUT_FAILURE = re.compile(
    r"^(?:fatal|error|panic)(?:\[\w+\])?:|^Traceback \(most recent|command not found"
    r"|No such file or directory|Permission denied|Segmentation fault|npm ERR!",
    re.IGNORECASE | re.MULTILINE,
)
_LOG_FAILURE = re.compile(
    r"Traceback|Exception|\b(?:ERROR|FATAL|CRITICAL|panic)\b|\w+Error\b|ERR!|Segmentation fault"
)
_WORD_AFTER = re.compile(r"\s+(?:please\s+|pls\s+|plz\s+|just\s+|maybe\s+)?(\w+)")
_QUESTION_SENTENCE = re.compile(r"[^.!?\n]*\?")


def cue_text(request: list[Block]) -> str:
    """The part of the request where cues are looked for, lowercased."""
    text = "\n\n".join(b.text for b in request)
    if len(text) > WINDOW + 1000:
        text = text[:WINDOW] + "\n" + text[-1000:]
    return text.lower()


def _foreign_text(cues: str, material: list[Block]) -> bool:
    """Whether pasted or quoted prose is in another language than the request around it:
    "english pls: «coucou! on se retrouve…»", "my avó sent me this, what does it say?"."""
    quoted = [q for q in _QUOTED.findall(cues) if len(q.split()) >= 4]
    quoted += _MEANING.findall(cues)  # "what does Kalbsbäckchen mit Kartoffelstampf mean"
    own = vocabulary_language(_QUOTED.sub(" ", cues)) or "en"
    texts = quoted + [b.text for b in material if b.kind is ContentKind.PROSE]
    if not _OTHER_SCRIPT.search(cues) and any(
        len(_OTHER_SCRIPT.findall(t[:2000])) >= 0.3 * len(t[:2000].strip() or "x") for t in texts
    ):
        return True  # a Japanese receipt under "english pls"
    return any((lang := vocabulary_language(t)) is not None and lang != own for t in texts)


def _heads(cues: str) -> list[tuple[int, int]]:
    """Where each paragraph states its ask: the first sentence, up to the first word that turns
    to the topic ("titles | for a talk about ..."). Cues there name the deliverable."""
    spans = []
    lex = lexicon()
    start = 0
    for paragraph in cues.split("\n\n"):
        end = start + len(paragraph)
        sentence = SENTENCE_END.search(paragraph)
        stop = start + (sentence.start() if sentence else len(paragraph))
        topic = lex.topic_breaks.search(cues, start, stop)
        spans.append((start, topic.start() if topic else stop))
        start = end + 2
    return spans


def _questions(cues: str) -> bool:
    """Whether some sentence asks a question ("is it bad to ...?"), not for a deliverable."""
    stripped = cues.strip()
    if stripped.endswith("?") and len(stripped.split()) <= _SHORT_QUESTION_WORDS:
        return True  # "capital of australia?"
    if len(stripped.split()) <= _UNMARKED_QUESTION_WORDS and _opens_question(stripped):
        return True  # "does microwaving veg kill the nutrients"
    return any(_opens_question(sentence) for sentence in _QUESTION_SENTENCE.findall(cues))


def _opens_question(sentence: str) -> bool:
    lex = lexicon()
    opener = sentence.lstrip(" \t\n\"'(¿¡")
    if not lex.question_openers.match(opener):
        return False
    polite = lex.requests.match(opener)
    if polite is None:
        return True
    # "can you write ..." asks for a deliverable; "can u get banned for ..." asks a question.
    verb = _WORD_AFTER.match(opener, polite.end())
    return verb is None or verb.group(1) not in lex.verbs


def detect_task(cues: str, material: list[Block]) -> tuple[TaskType, float]:
    """The task with the strongest cues, and how clearly it won (0-1).

    Each cue counts 3 (strong) or 1 (weak), half as much again where the request states its ask;
    what was pasted (or written inline: code, a column of numbers), quoted errors and the shape
    of a question add their priors.
    """
    scores, others = _cue_scores(cues)
    # "i need a query that ..." next to a schema is code; "what should i change?" a review.
    wants_code = scores[TaskType.CODE] >= 3 or any(_is_schema(b) for b in material)
    wants_review = scores[TaskType.CODE_REVIEW] >= 3
    pasted = {b.kind for b in material}
    kinds = pasted | _inline_kinds(cues)
    failing = _failing(cues, material)
    letter = has_letter(material)
    # "can i use oil instead of butter in this?" under a recipe is still a question.
    advice = kinds == {ContentKind.PROSE} and bool(_ADVICE.search(cues))
    if kinds and not advice:
        # A question about pasted material asks for work on it: "what is this doing?" under
        # code is a review, "what are the key points here?" over an article a summary.
        task = _material_task(kinds, failing, letter)
        if task is TaskType.CODE_REVIEW and _WHY.search(cues):
            task = TaskType.DEBUG  # "why does my cron job run 60 times?": behaviour to fix
        elif task is TaskType.CODE_REVIEW and wants_code and not wants_review:
            task = TaskType.CODE  # "how many said yes" inside a query's spec
        _credit(scores, TaskType.QUESTION, task)
    elif not kinds and not failing and others < 3 and _questions(cues):
        scores[TaskType.QUESTION] += 2.5
    if _foreign_text(cues, material):
        scores[TaskType.TRANSLATE] += 4
    if pasted & {ContentKind.CODE, ContentKind.DIFF}:
        _credit(scores, TaskType.TRANSLATE, TaskType.CODE)  # "translate this function to rust"
    priors = _material_priors(
        cues, kinds, failing, letter=letter, wants_code=wants_code, wants_review=wants_review
    )
    for task, prior in priors.items():
        scores[task] += prior
    ranked = sorted(TaskType, key=lambda t: (-scores[t], list(TaskType).index(t)))
    top, second = scores[ranked[0]], scores[ranked[1]]
    if top <= 0:
        return _material_task(kinds, otherwise=TaskType.WRITING), 0.2
    margin = (top - second) / top
    confidence = round(min(1.0, 0.35 + 0.45 * margin + 0.04 * min(top, 5)), 2)
    return ranked[0], confidence


def _credit(scores: dict[TaskType, float], source: TaskType, target: TaskType) -> None:
    """Move one task's points to another: the words asked for one, the material says the other."""
    scores[target] += scores[source]
    scores[source] = 0.0


def _cue_scores(cues: str) -> tuple[dict[TaskType, float], float]:
    """Score per task from the lexicon's cues, and the strongest non-question cue total."""
    lex = lexicon()
    strong: dict[TaskType, float] = dict.fromkeys(TaskType, 0.0)
    weak: dict[TaskType, float] = dict.fromkeys(TaskType, 0.0)
    heads = _heads(cues)
    for at, cue in lex.cues.hits(cues):
        boost = _HEAD_BOOST if any(a <= at < b for a, b in heads) else 1.0
        if cue.strong:
            strong[cue.task] += 3.0 * boost
        else:
            weak[cue.task] += 1.0 * boost
    scores = {t: min(strong[t], 13.5) + min(weak[t], 4.5) for t in TaskType}
    return scores, max(strong[t] for t in TaskType if t is not TaskType.QUESTION)


def _inline_kinds(cues: str) -> set[ContentKind]:
    """Material written into the request itself: a command or formula, a run of numbers."""
    kinds = set()
    dense = any(
        len(_SYMBOLS.findall(token)) >= 0.25 * len(token) for token in _LONG_TOKEN.findall(cues)
    )
    if dense or _FORMULA.search(cues) or len(_INLINE_CODE.findall(cues)) >= 2:
        kinds.add(ContentKind.CODE)
    if len(_NUMBER.findall(cues)) >= _INLINE_NUMBERS:
        kinds.add(ContentKind.DATA)
    return kinds


def _failing(cues: str, material: list[Block]) -> bool:
    """Whether the request or the material quotes an error."""
    lex = lexicon()
    return (
        bool(lex.failure.search(cues))
        or any(
            (_LOG_FAILURE if b.kind is ContentKind.LOGS else lex.failure).search(b.text[:20000])
            for b in material
            if b.kind is not ContentKind.CODE
        )
        or any(
            # Code names errors it raises or catches ("except ValueError:"); a terminal session
            # pasted as code shows its failure at the start of a line ("fatal: ...").
            _OUTPUT_FAILURE.search(b.text[:20000])
            for b in material
            if b.kind is ContentKind.CODE
        )
    )


def _material_task(
    kinds: set[ContentKind],
    failing: bool = False,
    letter: bool = False,
    otherwise: TaskType = TaskType.SUMMARIZE,
) -> TaskType:
    """What working on this kind of material usually means (``otherwise`` for prose alone)."""
    if letter:
        return TaskType.EMAIL
    if failing or ContentKind.LOGS in kinds:
        return TaskType.DEBUG
    if kinds & {ContentKind.CODE, ContentKind.DIFF}:
        return TaskType.CODE_REVIEW
    if kinds & {ContentKind.DATA, ContentKind.JSON}:
        return TaskType.DATA_ANALYSIS
    return otherwise


def _is_schema(block: Block) -> bool:
    """Table definitions pasted as "orders(id, customer_id, total)": code is to be written."""
    lines = [line for line in block.text.split("\n") if line.strip()]
    return len(lines) >= 2 and sum(bool(_SCHEMA_LINE.match(x)) for x in lines) >= 0.5 * len(lines)


def _material_priors(
    cues: str,
    kinds: set[ContentKind],
    failing: bool,
    *,
    letter: bool,
    wants_code: bool,
    wants_review: bool,
) -> dict[TaskType, float]:
    """Points each task gets from what was pasted, whatever the request's words."""
    priors: dict[TaskType, float] = dict.fromkeys(TaskType, 0.0)
    if failing:
        priors[TaskType.DEBUG] += 5 if ContentKind.LOGS in kinds else 3
    elif ContentKind.LOGS in kinds:
        # Quiet logs are material to read: a question about them is analysis, not debugging.
        priors[TaskType.DEBUG] += 1
        priors[TaskType.DATA_ANALYSIS] += 1
    if kinds & {ContentKind.CODE, ContentKind.DIFF} and ContentKind.LOGS not in kinds:
        # Code to change is a coding task; code to look at is a review.
        changes = not wants_review and (wants_code or lexicon().modify.search(cues) is not None)
        priors[TaskType.CODE if changes else TaskType.CODE_REVIEW] += 2
        priors[TaskType.DEBUG] += 0.5
    if ContentKind.DATA in kinds:
        priors[TaskType.DATA_ANALYSIS] += 2
    if ContentKind.JSON in kinds:
        priors[TaskType.DATA_ANALYSIS] += 1
    if ContentKind.PROSE in kinds:
        if letter:
            priors[TaskType.EMAIL] += 2  # a pasted email: usually to be answered
        else:
            priors[TaskType.SUMMARIZE] += 0.5
    return priors
