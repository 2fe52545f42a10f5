"""What the request already says: goal, audience, tone, length, format, language, constraints
and examples. Matched on the request's head, clause by clause, and returned as the user wrote it.
"""

from __future__ import annotations

import re

from promptready.enhance.blocks import SENTENCE_END
from promptready.enhance.language import WINDOW
from promptready.enhance.model import Slots

_PEOPLE = (
    r"manager|boss|team|teammates|colleagues?|co-?workers?|kids|children|beginners?|students?|"
    r"customers?|clients?|investors?|developers?|devs|engineers?|executives?|stakeholders?|users?|"
    r"readers?|landlord|landlady|tenants?|neighbou?rs?|recruiters?|hiring manager|interviewer|"
    r"professor|teacher|principal|parents?|family|friends?|bff|followers|subscribers|audience|"
    r"experts?|ceo|cto|board|general public|non-experts?|non-techies|mom|mum|mother|dad|father|"
    r"grandma|grandmother|grandpa|grandfather|grandparents|wife|husband|partner|girlfriend|"
    r"boyfriend|sister|brother|son|daughter|niece|nephew|aunt|uncle|cousin|roommates?|"
    r"flatmates?|doctor|dentist|coach|class|hr|support|council|mayor|in-laws|crush|ex|toddler|"
    r"tochter|sohn|chef|chefin|kinder|kollegen|kollegin|vermieter|vermieterin|mutter|vater|oma|"
    r"opa|fille|fils|patron|patronne|enfants|collègues|propriétaire|mère|père|hija|hijo|jefe|"
    r"jefa|niños|colegas|casero|madre|padre|filha|filho|chefe|crianças|senhorio|figlia|figlio|"
    r"capo|bambini|colleghi|dochter|zoon|baas|kinderen|collega's|huisbaas|moeder|vader"
)
_AUDIENCE = re.compile(
    rf"\b(?:for|to|aimed at|targeted at|audience(?: is)?:?|für|pour|à|para|per|voor|aan)\s+"
    rf"(?P<who>(?:(?:my|our|a|an|the|his|her|their|meine[nm]?|mein|unsere[nm]?|ma|mon|mes|nos|"
    rf"mi|mis|nuestra|nuestro|meu|minha|meus|mia|mio|miei|mijn|onze|de|het|la|le|les|el|il|"
    rf"o|die|der|den|dem)\s+)?(?:non-technical |new |young |little |\d{{1,2}}[- ]?(?:yo|y/o|"
    rf"year[- ]old|jährige[nm]?|ans|años|anos|anni|jarige)s? |\d{{1,2}}-year-old )?"
    rf"(?:{_PEOPLE})s?\b|(?:a |my |an )?\d{{1,2}}[- ]?(?:yo|y/o|year[- ]olds?))"
    r"|(?P<eli5>\beli5\b|like i'?m (?:five|5|a child|a kid))",
)
_TONE = re.compile(
    r"\b(?P<tone>(?:not too |less |more |very |super |a bit )?(?:polite(?:ly)?(?: but firm(?:ly)?)?|"
    r"formal(?:ly)?|informal(?:ly)?|casual(?:ly)?|friendly|professional(?:ly)?|firm(?:ly)?|"
    r"warm(?:ly)?|funny|humou?rous(?:ly)?|serious(?:ly)?|persuasive(?:ly)?|enthusiastic(?:ally)?|"
    r"empathetic(?:ally)?|neutral|assertive(?:ly)?|playful(?:ly)?|witty|diplomatic(?:ally)?|"
    r"apologetic(?:ally)?|confident(?:ly)?|upbeat|nice(?:ly)?|kind(?:ly)?|gentl[ey]|blunt(?:ly)?|"
    r"chill|relaxed|laid-back|cheeky|sassy|snarky|sarcastic(?:ally)?|heartfelt|respectful(?:ly)?|"
    r"grateful|stern(?:ly)?|strict|light-?hearted|fun|silly|dramatic|romantic|sweet|cute|"
    r"encouraging|supportive|passive[- ]aggressive|honest(?:ly)?|direct(?:ly)?|calm(?:ly)?|"
    r"höflich|formell|locker|freundlich|sachlich|poli(?:e|ment)?|formel(?:le)?|amical(?:e)?|"
    r"gentiment|cortés|cordial(?:e)?|amable(?:mente)?|educad[ao](?:mente)?|gentile|"
    r"gentilmente|beleefd|vriendelijk|zakelijk|grzeczn\w*|uprzejm\w*|kibar|resmi)|"
    r"in a (?:\w+ )?(?:tone|way|voice))\b",
)
_LENGTH = re.compile(
    r"\b(?P<length>(?:under|less than|at most|max(?:imum)?|no more than|about|around|exactly|up to)?\s*"
    r"\d+\s*(?:words?|sentences?|paragraphs?|bullet points?|bullets?|lines?|pages?|minutes?|"
    r"characters?|chars?|wörtern?|sätzen?|absätzen|mots|phrases|palabras|palavras|frases|parole|woorden|zinnen|"
    r"zeilen|lignes|líneas|lineas|linhas|righe|regels|seiten|páginas|pagine|absätze|paragraphes|"
    r"párrafos|parágrafos|paragrafi|minuten|minutos|minuti|punkte|puntos|pontos|punti|punten)|"
    r"(?:one|two|three|a few|a couple of|a single)[- ](?:paragraphs?|sentences?|pages?|lines?)|"
    r"short(?:er)?|brief|briefly|concise(?:ly)?|quick|tiny|not too long|detailed|in[- ]depth|"
    r"comprehensive|long|long-form|kurz|kürzer|knapp|ausführlich|court(?:e)?|bref|brève|corto|"
    r"breve|curto|kort|beknopt|half a page|tl;?dr)\b",
)
# The answer's form. A bare "table" or "json" may name the material ("my json config", "eine
# Excel-Tabelle"), so those count only after a preposition ("as a table", "als Tabelle",
# "en tableau"); words that only name an answer's form ("bullet points") count anywhere.
_FORMAT = re.compile(
    r"\b(?P<format>(?:as|in|into|als|in einer?|en|en un|sous forme d[e']|como|em|in een|come|"
    r"in forma di|in una?)\s+(?:a |an |une? |una? |eine? |een |um |uma )?(?:table|json|yaml|csv|"
    r"markdown|list|bullet(?:ed)? list|numbered list|bullets|bullet points|outline|code block|"
    r"html|tabelle|liste|tableau|tabla|lista|tabela|tabella|lijst|tabel)|bullet points|bullets|"
    r"numbered list|step[- ]by[- ]step|one[- ]liner|in one (?:line|sentence)|checklist|"
    r"stichpunkte|aufzählung|puces|viñetas|tópicos|elenco puntato|opsomming)\b",
)
_OUT_LANGUAGE = re.compile(
    r"\b(?:in|into|to|auf|en|em|in het)\s+(?P<lang>english|german|french|spanish|portuguese|italian|dutch|"
    r"japanese|chinese|korean|russian|polish|turkish|arabic|hindi|deutsch|englisch|französisch|"
    r"spanisch|anglais|allemand|espagnol|français|inglés|alemán|francés|español|inglês|alemão|"
    r"inglese|tedesco|engels|duits|frans)\b"
    # Scripts without word spaces name the language without a preposition: 英語に, 翻译成中文.
    r"|(?P<named>英語|日本語|中国語|英文|中文|日文|韩语|английск\w*|русск\w*|angielsk\w*|"
    r"polsk\w*|ingilizce|türkçe)",
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


def _audience(text: str, low: str) -> str | None:
    found = _AUDIENCE.search(low)
    if found is None:
        return None
    return _first(_AUDIENCE, text, low, "who" if found.group("who") else "eli5")


# "exported in csv", "comes as json": the form the material has, not the answer's.
_MATERIAL_FORM = re.compile(
    r"\b(?:export\w*|saved|stored|comes?|came|arrives?|dumped|vieram|viene|vienen|kommt|"
    r"kommen|gespeichert|sauvegard\w*|salvad\w*|salvat\w*|opgeslagen)\s+(?:\w+\s+){0,3}$"
)


def _answer_format(text: str, low: str) -> str | None:
    for found in _FORMAT.finditer(low):
        if not _MATERIAL_FORM.search(low, max(0, found.start() - 60), found.start()):
            start, end = found.span("format")
            return (text[start:end] if len(text) == len(low) else found.group("format")).strip()
    return None


def _out_language(text: str, low: str) -> str | None:
    found = _OUT_LANGUAGE.search(low)
    if found is None:
        return None
    return _first(_OUT_LANGUAGE, text, low, "lang" if found.group("lang") else "named")


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
        audience=_audience(head, low),
        tone=_first(_TONE, head, low, "tone"),
        length=_first(_LENGTH, head, low, "length"),
        format=_answer_format(head, low),
        language=_out_language(head, low),
        constraints=tuple(c for c in clauses if _CONSTRAINT.search(c.lower()))[:5],
        examples=tuple(c for c in clauses if _EXAMPLE.search(c.lower()))[:3],
    )


# Where a text will be read, which names its readers: a channel, a platform, a notice.
_CHANNEL = re.compile(
    r"(?:^|\s)[#@][\w-]+|\b(?:slack|whatsapp|whats|teams|discord|telegram|signal|group chat|chat|"
    r"linkedin|instagram|insta|twitter|tiktok|facebook|reddit|youtube|etsy|ebay|amazon|website|"
    r"web|site|blog|newsletter|notice ?board|notice|chalkboard|flyer|poster|listing|readme|shop|"
    r"store|menu|parish|church|school|office|staff|residents|neighbou?rs|members|guests|"
    r"participants|attendees|group|channel|class|company|hr|team|speech|toast|wedding|"
    r"vows|eulogy|cover letter|resignation|application|dating|profile|bio|card|"
    r"schule|schulleitung|eltern|klasse|verein|gruppe|école|maîtresse|maître|classe|groupe|"
    r"escuela|colegio|grupo|clase|escola|turma|scuola|classe|gruppo|fornitore|orientador|"
    r"proprio|proprietário|cliente|clienta|kunde|kundin|lehrer\w*|professeur|profe|prof|"
    r"nurse|coach|commission|committee|council|supervisor|recruiter|landlord|dentist|vet|"
    r"fitnessstudio|gym|bank|insurance|airline|hotel|support|seller|buyer|vendor|supplier|"
    r"contractor|plumber|agent|agency|tenant|roommate|flatmate)\b"
)
# A person named where a message is addressed: "to Sam", "with Daniel and Mei", "Hi Jess,".
_NAMED = re.compile(
    r"\b(?:to|for|with|from|tell|text|at|an|à|para|per|voor|aan|Hi|Hello|Dear|Hey|Hallo|Liebe|"
    r"Lieber|Bonjour|Hola|Olá|Oi|Ciao|Beste|Herrn|Frau|Mr|Mrs|Ms|Dr)\.?\s+(?:[A-Z][\w'&.-]+)"
)


def reader_named(request: str, slots: Slots) -> bool:
    """Whether the request says, one way or another, who will read the result."""
    if slots.audience is not None:
        return True
    head = request[:WINDOW]
    low = head.lower()
    return bool(_CHANNEL.search(low) or _NAMED.search(head) or _AUDIENCE_ANYWHERE.search(low))


_AUDIENCE_ANYWHERE = re.compile(rf"\b(?:{_PEOPLE})s?\b")
