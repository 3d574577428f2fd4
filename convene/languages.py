"""Which shipped language a language tag means: a pure rule (no I/O), safe inside workflows.

Shipped languages are ``en``, ``zh-Hans`` (Simplified Chinese, the default for Chinese) and ``zh-Hant``
(Traditional Chinese). ``zh`` alone, which events and people stored before there were two Chinese
catalogues, means ``zh-Hans``: the people Convene was first written for read Simplified Chinese.
"""

from __future__ import annotations

import re

ENGLISH = "en"
SIMPLIFIED = "zh-Hans"
TRADITIONAL = "zh-Hant"
SHIPPED = (ENGLISH, SIMPLIFIED, TRADITIONAL)
"""Every language with a catalogue, English (the source language) first."""
DEFAULT = ENGLISH

_TRADITIONAL_REGIONS = frozenset({"TW", "HK", "MO"})
"""Chinese regions that write Traditional characters when a tag names no script (CLDR's likely subtags)."""
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


def shipped_language(tag: str | None) -> str | None:
    """The shipped language a BCP 47 or POSIX tag asks for, or None.

    ``en``, ``en-US``, ``en_GB`` give ``en``; ``zh``, ``zh-CN``, ``zh-SG``, ``zh-Hans``, ``zh_Hans_CN`` give
    ``zh-Hans``; ``zh-TW``, ``zh-HK``, ``zh-MO``, ``zh-Hant``, ``zh-Hant-CN`` give ``zh-Hant`` (a script
    wins over a region). Case and ``-``/``_`` do not matter; anything else (``fr``, ``*``, ``""``) gives None.
    """
    if not tag or not _TAG.match(tag.strip()):
        return None
    language, *rest = re.split(r"[-_]", tag.strip())
    language = language.lower()
    if language == "en":
        return ENGLISH
    if language != "zh":
        return None
    script = next((p.title() for p in rest if len(p) == 4 and p.isalpha()), None)
    if script in ("Hans", "Hant"):
        return f"zh-{script}"
    region = next((p.upper() for p in rest if len(p) == 2 and p.isalpha()), None)
    return TRADITIONAL if region in _TRADITIONAL_REGIONS else SIMPLIFIED


def stored_locale(value: object) -> object:
    """The spelling a stored locale field keeps: a shipped tag as written (``zh-cn`` → ``zh-Hans``,
    ``en-US`` → ``en``), and ``zh`` left as ``zh`` so events that already hold it read the same.

    Anything unknown is returned unchanged for the field's own validation to refuse.
    """
    if not isinstance(value, str) or value.strip() == "zh":
        return value.strip() if isinstance(value, str) else value
    return shipped_language(value) or value
