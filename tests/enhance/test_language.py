"""Which language the request is in: scripts first, words and letters with a margin, and only
from the request (never from pasted material or code)."""

from __future__ import annotations

import pytest

from promptready.enhance import enhance
from promptready.enhance.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("上司に休暇のメールを書いてください", "ja"),
        ("给老板写一封请假邮件", "zh"),
        ("Напиши письмо начальнику об отпуске", "ru"),
        ("Napisz maila do mojego szefa o urlopie", "pl"),
        ("Patronum için bir e-posta yaz lütfen", "tr"),
        ("Escríbeme un correo para mi jefe sobre las vacaciones", "es"),
        ("me dá umas ideias de nome pra um canal no youtube", "pt"),
        ("Schreib bitte eine E-Mail an meinen Chef", "de"),
        ("write an email to my boss", "en"),
    ],
)
def test_language_is_detected(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_code_words_in_the_request_do_not_decide_the_language() -> None:
    assert detect_language("why does `SELECT nome, cognome FROM utenti` return nothing") == "en"


def test_too_close_to_call_is_english() -> None:
    assert detect_language("ok la") == "en"


def test_pasted_material_does_not_decide_the_prompts_language() -> None:
    article = "La ville de Lyon a annoncé mardi l'extension de son réseau de pistes cyclables."
    result = enhance(f"summarize this article for me:\n\n{article}")
    assert result.analysis.language == "en"
    assert "## Task" in result.text


def test_a_language_without_full_templates_gets_its_headings_and_answer_in() -> None:
    result = enhance("Напиши письмо начальнику об отпуске")
    assert result.text.startswith("## Задача\n\n")
    assert "Отвечай на русском языке." in result.text
    assert "You are" not in result.text


def test_a_translation_is_not_told_to_answer_in_the_request_language() -> None:
    assert "日本語で回答" not in enhance("この文を英語に翻訳して: 今日は雨です").text
