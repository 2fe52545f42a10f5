"""Run as a script: print as JSON what QtCore answers through ICU (collation, case, zones, codecs).

The trimmed-ICU tests run it twice, with PySide6's own ICU data and with the trimmed library
preloaded, and compare the answers.
"""

from __future__ import annotations

import functools
import json

from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone

WORDS = ["éclair", "Zebra", "apple", "Äpfel", "ёж", "яблоко"]
WORDS += ["日本", "中文", "カタカナ", "ひらがな"]
# Root order (en, de) and tailored orders (Cyrillic, Japanese, Chinese first), all kept.
COLLATION_LOCALES = ("en_US", "de_DE", "ru_RU", "ja_JP", "zh_CN")
UNICODE_CODECS = ("UTF-8", "UTF-16LE", "UTF-32", "ISO-8859-1")
LEGACY_CODECS = ("Shift_JIS", "GB18030", "KOI8-R", "windows-1251")


def answers() -> dict[str, object]:
    """QtCore's answers for every ICU service it calls."""
    found: dict[str, object] = {}
    for name in COLLATION_LOCALES:
        collator = QCollator(QLocale(name))
        found[f"sort {name}"] = sorted(WORDS, key=functools.cmp_to_key(collator.compare))
    found["upper tr"] = QLocale("tr_TR").toUpper("istanbul")
    found["lower en"] = QLocale("en_US").toLower("İSTANBUL ΣΟΦΟΣ")
    found["tokyo valid"] = QTimeZone(b"Asia/Tokyo").isValid()
    found["moscow name"] = QTimeZone(b"Europe/Moscow").displayName(
        QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName, QLocale("en_US")
    )
    for codec in (*UNICODE_CODECS, *LEGACY_CODECS):
        found[f"codec {codec}"] = QStringDecoder(codec).isValid()
    return found


if __name__ == "__main__":
    print(json.dumps(answers(), ensure_ascii=False))
