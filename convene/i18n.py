"""The translation catalogue and CLDR formatting: what language a reader gets and how it writes.

One gettext catalogue (domain ``messages``) holds the texts people read (emails, page labels, the printable
agenda, refusals), English being the source language (the msgids). Its files live in ``convene/locale``::

    messages.pot                         extracted by ``pybabel extract -F babel.cfg`` (never edited)
    zh_Hans/LC_MESSAGES/messages.po      Simplified Chinese
    zh_Hant/LC_MESSAGES/messages.po      Traditional Chinese

Python code marks a message by calling :func:`translate` with the message as a literal second argument
(``pybabel extract -k translate:2`` finds it), one with a plural by :func:`translate_n` (``-k translate_n:2,3``),
a refusal by the lifecycle's ``_invalid``/``_conflict``/
``_forbidden`` (see :mod:`workflows.refusals`); templates use ``{% trans %}`` and ``_()``; the page labels
(``convene/locale/labels.json``) are extracted by :func:`extract_labels`.

The ``.po`` files are read at run time (with :func:`babel.messages.pofile.read_po`, once per process)
rather than compiled ``.mo`` files: there is no build step to forget, a checkout runs as it is, and
no binary file can drift from the text a reviewer read. Parsing both catalogues takes milliseconds.

Dates and times are formatted from CLDR data by Babel, in the reader's language and the event's zone.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from convene.languages import DEFAULT, ENGLISH, SHIPPED, SIMPLIFIED, TRADITIONAL, shipped_language

__all__ = [
    "DEFAULT", "SHIPPED", "LOCALE_DIR", "shipped_language", "resolve", "negotiate", "preferred", "catalogue_path",
    "environment_language",
    "translations", "translate", "translate_n", "render_message", "label", "labels", "named", "english_labels",
    "format_when", "with_zone", "format_clock",
]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LABELS_FILE = LOCALE_DIR / "labels.json"
"""The labels (``{"<id>": "<English>"}``) the page shows and emails use to name stages, slots, severities."""
DOMAIN = "messages"
_CATALOGUE_DIRS = {SIMPLIFIED: "zh_Hans", TRADITIONAL: "zh_Hant"}
"""Where each translated language's ``.po`` lives (POSIX spelling, as ``pybabel init -l`` makes it)."""
_CLDR = {ENGLISH: "en_GB", SIMPLIFIED: "zh_Hans_CN", TRADITIONAL: "zh_Hant_TW"}
"""The CLDR locale each language formats dates and numbers with (British English, as the page does)."""


def resolve(tag: str | None) -> str:
    """The shipped language for a stored or asked-for tag, English for anything else (``zh`` → ``zh-Hans``)."""
    return shipped_language(tag) or DEFAULT


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The shipped language an ``Accept-Language`` header prefers most, honouring q-values (RFC 9110 §12.5.4).

    ``fr,zh-TW;q=0.9,en;q=0.8`` → ``zh-Hant``; ``zh-CN`` → ``zh-Hans``; ``zh`` → ``zh-Hans``. Ranges with
    ``q=0`` are refused, equal weights keep the header's order, ``*`` or nothing usable gives ``default``.
    A malformed part is skipped, never an error.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = -1.0
        if tag and 0 < weight <= 1:
            ranked.append((-weight, position, tag))
    for _, _, tag in sorted(ranked):
        if tag == "*":
            return default
        if (language := shipped_language(tag)) is not None:
            return language
    return default


def preferred(*asked: str | None, accept_language: str | None = None) -> str:
    """The first ``asked`` tag that names a shipped language (a ``?lang=``, a cookie), else what
    ``accept_language`` prefers (:func:`negotiate`): the one rule the page and the API's messages follow."""
    for tag in asked:
        if (language := shipped_language(tag)) is not None:
            return language
    return negotiate(accept_language)


_LOCALE_VARIABLES = ("CONVENE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
"""Where a command line's language comes from, first set first: ours, then POSIX's order for messages."""


def environment_language(environ: Mapping[str, str] | None = None) -> str:
    """The shipped language a process's environment asks for: ``CONVENE_LANG``, else the POSIX locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: the first one set and not empty), its encoding and modifier
    ignored: ``zh_CN.UTF-8`` → ``zh-Hans``, ``zh_TW.Big5`` → ``zh-Hant``, ``C``/``POSIX``/``fr_FR`` → ``en``."""
    env = os.environ if environ is None else environ
    for name in _LOCALE_VARIABLES:
        value = (env.get(name) or "").strip()
        if value:
            tag = value.split(".", 1)[0].split("@", 1)[0]
            return shipped_language(tag) or DEFAULT
    return DEFAULT


def catalogue_path(language: str) -> Path:
    """The ``.po`` file of a translated language (``zh-Hans``, ``zh-Hant``).

    Raises:
        KeyError: English (the source language has no catalogue) or a language not shipped.
    """
    return LOCALE_DIR / _CATALOGUE_DIRS[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(SHIPPED))
def translations(language: str) -> NullTranslations:
    """The gettext translations for a shipped language, read once; English translates to the msgids."""
    language = resolve(language)
    if language == ENGLISH:
        return NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=_CLDR[language], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translate(language: str, message: str, /, **params: object) -> str:
    """``message`` (an English msgid) in ``language``, its ``%(name)s`` placeholders filled from ``params``."""
    text = translations(language).gettext(message)
    return text % params if params else text


def translate_n(language: str, singular: str, plural: str, n: int, /, **params: object) -> str:
    """``singular`` or ``plural`` (English msgids) as ``language`` says it for ``n`` (gettext's ``ngettext``),
    filled from ``params``; ``%(count)s`` is ``n`` unless ``params`` gives it written out (``count="2,000"``).
    Marked for ``pybabel extract -k translate_n:2,3``."""
    text = translations(language).ngettext(singular, plural, n)
    return text % {"count": n, **params}


def label(language: str, key: str, english: str) -> str:
    """A page label in ``language``: the catalogue keys labels by their id (msgctxt) over their English text."""
    return translations(language).pgettext(key, english)


@lru_cache(maxsize=1)
def english_labels() -> dict[str, str]:
    """Every label id with its English text (``convene/locale/labels.json``)."""
    import json

    return json.loads(LABELS_FILE.read_text(encoding="utf-8"))


def labels(language: str) -> dict[str, str]:
    """Every label in ``language``: ``{label id: text}``."""
    return {key: label(language, key, text) for key, text in english_labels().items()}


def named(language: str, prefix: str, ident: str) -> str:
    """The name of an id in ``language`` from the labels (``named("zh-Hans", "stage", "planning")`` → ``会议策划``),
    else the id with its underscores as spaces."""
    english = english_labels().get(f"{prefix}.{ident}")
    return label(language, f"{prefix}.{ident}", english) if english else str(ident).replace("_", " ")


_NAMED_PARAMS = {"stage": "stage", "current": "stage", "status": "status", "role": "role"}
"""Parameters of refusals whose values are ids the labels name (``planning`` → ``会议策划``)."""


def render_message(language: str, message_id: str, params: dict[str, object] | None = None) -> str:
    """A message with parameters (a refusal) in ``language``: the catalogue's translation of ``message_id``
    filled from ``params``, stage, status and role ids named in that language. English, or a message the
    catalogue does not have, gives exactly the English text; a translation that does not fit its parameters
    falls back to English rather than fail."""
    params = dict(params or {})
    english = message_id % params if params else message_id
    language = resolve(language)
    if isinstance(params.get("reason_messages"), list) and "reasons" in params:  # "cannot approve X yet: ..."
        from convene import reasons  # noqa: PLC0415 - reasons renders through this module

        try:
            params["reasons"] = reasons.join(language, (reasons.render(language, m) for m in params["reason_messages"]))
        except ValueError:  # not reason messages after all (pydantic's error is a ValueError): keep the English
            pass
        if language == ENGLISH:
            return message_id % params
    if language == ENGLISH:
        return english
    named_params = {k: named(language, _NAMED_PARAMS[k], v) if k in _NAMED_PARAMS and isinstance(v, str) else v
                    for k, v in params.items()}
    try:
        text = translate(language, message_id)
        return text % named_params if params else text
    except (KeyError, TypeError, ValueError):
        return english


def cldr_locale(language: str) -> Locale:
    """The CLDR locale that formats for ``language``."""
    return Locale.parse(_CLDR[resolve(language)])


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(str(name or "UTC"))
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds; an odd zone must not stop a message
        return ZoneInfo("UTC")


def format_when(at: datetime, zone: str | None, language: str, *, name_zone: bool = True) -> str:
    """An aware time in the event's IANA zone, as the reader's language writes a full date and a time,
    with the zone named: ``Tuesday, 5 May 2026, 09:00 (Asia/Shanghai)``, ``2026年5月5日星期二 09:00（Asia/Shanghai）``
    (without the zone when ``name_zone`` is false).

    The date and time patterns and the way they join are CLDR's; the zone suffix is a catalogue message.
    """
    tz = _zone(zone)
    locale = cldr_locale(language)
    local = at.astimezone(tz)
    date = format_date(local, "full", locale=locale)
    time = format_time(local, "short", tzinfo=tz, locale=locale)
    joined = str(locale.datetime_formats["full"]).replace("'", "").format(time, date)
    return with_zone(joined, tz.key, language) if name_zone else joined


def with_zone(text: str, zone: str, language: str) -> str:
    """``text (zone)`` as the reader's language brackets it (full-width brackets in Chinese)."""
    return translate(language, "%(when)s (%(zone)s)", when=text, zone=zone)


def format_clock(at: datetime, zone: str | None, language: str) -> str:
    """The time of day of an aware time in the event's zone, CLDR's short form (``09:00``, ``上午9:00``)."""
    tz = _zone(zone)
    return format_time(at.astimezone(tz), "short", tzinfo=tz, locale=cldr_locale(language))


def extract_labels(fileobj, keywords, comment_tags, options):  # noqa: ANN001, ANN201 - Babel's extractor signature
    """A ``pybabel extract`` method for the labels (``convene/locale/labels.json``: ``{"<id>": "<English>"}``).

    Each label becomes a message whose context (msgctxt) is its id and whose msgid is its English text,
    so two labels with the same English can be translated apart; placeholders are ``{name}``, filled by the
    page's script. Named in ``babel.cfg`` under ``[extractors]``.
    """
    import json

    text = fileobj.read().decode("utf-8")
    lines = {}
    for number, line in enumerate(text.splitlines(), start=1):
        key, sep, _ = line.strip().partition('":')
        if sep and key.startswith('"'):
            lines.setdefault(key[1:], number)
    for key, english in json.loads(text).items():
        yield lines.get(key, 0), "pgettext", (key, english), [f"page label {key}"]
