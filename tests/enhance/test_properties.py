"""Properties over generated input: nothing lost, idempotent, deterministic; what the ask
states is kept and never contradicted; one language per prompt; non-prompts left alone."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from promptready.enhance import OutputFormat, enhance
from promptready.errors import InputError
from tests.enhance.added_language import added_lines, languages_added

WORDS = st.sampled_from(
    [
        "write",
        "fix",
        "summarize",
        "the",
        "report",
        "error",
        "code",
        "email",
        "python",
        "tests",
        "quickly",
        "for",
        "my",
        "team",
        "data",
        "42",
        "https://x.io/a?b=1",
        "`cmd`",
        "{{var}}",
        '"quoted"',
        "Traceback:",
        "ValueError:",
        ";",
        "{",
        "}",
        "def",
        "return",
        "über",
        "café",
        "niño",
        "?",
        "!",
        ".",
        ",",
        ":",
        "\n",
        "\n\n",
    ]
)
TEXTS = st.lists(WORDS, min_size=1, max_size=60).map(" ".join)
FORMATS = st.sampled_from(list(OutputFormat))


def enhanced(text: str, fmt: OutputFormat) -> str | None:
    try:
        return enhance(text, fmt).text
    except InputError:
        return None


@settings(max_examples=150, deadline=None)
@given(TEXTS, FORMATS)
def test_every_word_of_the_input_survives(text: str, fmt: OutputFormat) -> None:
    out = enhanced(text, fmt)
    if out is None:
        assert not text.strip()
        return
    for token in re.findall(r"\S+", text):
        assert token in out


@settings(max_examples=150, deadline=None)
@given(TEXTS, FORMATS)
def test_enhancing_twice_equals_enhancing_once(text: str, fmt: OutputFormat) -> None:
    once = enhanced(text, fmt)
    if once is not None:
        assert enhance(once, fmt).text == once


@settings(max_examples=100, deadline=None)
@given(TEXTS, FORMATS)
def test_same_input_same_output(text: str, fmt: OutputFormat) -> None:
    assert enhanced(text, fmt) == enhanced(text, fmt)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), FORMATS)
def test_arbitrary_text_never_crashes(text: str, fmt: OutputFormat) -> None:
    enhanced(text, fmt)


# --- What the ask states flows into the prompt and is never contradicted ---------------------

TOPICS = st.sampled_from(
    ["a birthday party", "our bakery", "a podcast about chess", "the school fair", "a cat cafe"]
)
ITEMS = st.sampled_from(["ideas", "names", "options", "titles", "tips", "slogans"])
_LIST_NUMBER = re.compile(r"^\d+\. ")


def added_text(text: str, out: str) -> str:
    """What the enhancer wrote, without the list numbers of numbered parts."""
    return "\n".join(_LIST_NUMBER.sub("", line) for line in added_lines(text, out))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=60), ITEMS, TOPICS, FORMATS)
def test_a_stated_count_appears_and_no_other_count_is_added(
    count: int, items: str, topic: str, fmt: OutputFormat
) -> None:
    text = f"give me {count} {items} for {topic}"
    out = enhance(text, fmt).text
    assert text in out
    assert set(re.findall(r"\d+", added_text(text, out))) <= {str(count)}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        ["as a table", "in json", "as bullet points", "in one line", "as a numbered list"]
    ),
    st.sampled_from(["compare python and go", "list the planets", "summarize the plot of hamlet"]),
    FORMATS,
)
def test_a_stated_format_gets_no_competing_default(form: str, ask: str, fmt: OutputFormat) -> None:
    result = enhance(f"{ask} {form}", fmt)
    assert form in result.text
    assert "format" not in {c.section for c in result.changes}


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["write a blog post about composting", "draft an announcement for the fair"]),
    st.sampled_from(
        ["then a tweet announcing it", "and a subject line", "and then translate it to french"]
    ),
    FORMATS,
)
def test_each_deliverable_of_a_multi_part_ask_is_a_numbered_part(
    first: str, second: str, fmt: OutputFormat
) -> None:
    result = enhance(f"{first}, {second}", fmt)
    assert f"1. {first}," in result.text and f"2. {second}" in result.text
    assert "The finished text" not in result.text  # a one-deliverable default would drop part 2


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        ["for my 5 yo", "for my boss", "to my landlord", "for beginners", "for the parents group"]
    ),
    st.sampled_from(["politely", "in a friendly tone", "formally", ""]),
    st.sampled_from(["write a short note", "write a story about a dragon", "email"]),
)
def test_no_placeholder_names_a_slot_the_text_fills(who: str, tone: str, ask: str) -> None:
    result = enhance(f"{ask} {who} {tone}".strip())
    assert "[AUDIENCE?]" not in result.text
    if tone:
        assert "[TONE?]" not in result.text


NON_ENGLISH = {
    "de": ["Schreib bitte", "eine E-Mail an meinen Chef", "über den Urlaub", "für meine Tochter"],
    "fr": ["Écris-moi", "un mail pour mon patron", "sur les vacances", "pour ma fille"],
    "es": ["Escríbeme", "un correo para mi jefe", "sobre las vacaciones", "para mi hija"],
    "pt": ["Escreva", "um e-mail para o meu chefe", "sobre as férias", "para a minha filha"],
    "it": ["Scrivi", "una mail per il mio capo", "sulle vacanze", "per mia figlia"],
    "nl": ["Schrijf", "een mail voor mijn baas", "over de vakantie", "voor mijn dochter"],
    "pl": ["Napisz", "maila do mojego szefa", "o urlopie", "dla mojej córki, proszę"],
    "tr": ["Lütfen", "patronum için bir e-posta yaz", "tatil hakkında", "kızım için"],
    "ru": ["Напиши", "письмо начальнику", "об отпуске", "для моей дочери"],
    "ja": ["上司に", "休暇について", "メールを書いて", "ください"],
    "zh": ["请帮我", "给老板写一封", "关于休假的", "邮件"],
}


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(sorted(NON_ENGLISH)).flatmap(
        lambda lang: st.tuples(
            st.just(lang), st.permutations(NON_ENGLISH[lang]).map(lambda p: " ".join(p[:3]))
        )
    ),
    FORMATS,
)
def test_every_added_line_of_a_non_english_prompt_is_in_its_language(
    case: tuple[str, str], fmt: OutputFormat
) -> None:
    language, text = case
    result = enhance(text, fmt)
    assert result.analysis.language == language
    assert languages_added(text, result) <= {language}


NOT_PROMPTS = st.sampled_from(
    [
        "ok",
        "thanks!",
        "thank you so much",
        "hi",
        "hello :)",
        "lol",
        "ok cool thx",
        "danke",
        "merci beaucoup",
        "gracias",
        "42",
        "+44 20 7946 0958",
        "12/03/2025",
        "https://example.com/some/page?id=3",
        "www.example.org",
        "asdfghjkl",
        "qwrtzp",
        "milk\neggs\nbread\nbutter",
        "- apples\n- flour\n- 2 lemons",
        "milk, eggs, bread, butter",
        "👍",
    ]
)


@settings(max_examples=40, deadline=None)
@given(NOT_PROMPTS, FORMATS)
def test_not_a_prompt_comes_back_unchanged_with_a_lint(text: str, fmt: OutputFormat) -> None:
    result = enhance(text, fmt)
    assert result.text == text
    assert [h.rule for h in result.analysis.lint] == ["not-a-prompt"]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(
        ['{"a": 1, "b": [2, 3]}', "def f(x):\n    return x * 2\n", "a,b\n1,2\n3,4\n5,6"]
    ),
    FORMATS,
)
def test_bare_material_gets_only_a_task_placeholder(text: str, fmt: OutputFormat) -> None:
    result = enhance(text, fmt)
    assert result.analysis.placeholders == ("[TASK?]",)
    assert text.strip() in result.text
