"""The translation catalogue is whole: every message marked for translation is in messages.pot, and every
message of the .pot has a translation, with the same placeholders, in every shipped language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from convene import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in i18n.SHIPPED if lang != "en"]
_PLACEHOLDER = re.compile(r"(%\(\w+\)[sr])|\{(\w+)\}")


def _key(message) -> tuple[str | None, str]:  # noqa: ANN001 - a babel Message
    """A message's key: (context, msgid); a plural message by its singular msgid, as extraction names it."""
    return message.context, message.id[0] if isinstance(message.id, tuple) else message.id


def _pot() -> dict[tuple[str | None, str], object]:
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as f:
        return {_key(m): m for m in read_po(f) if m.id}


def _placeholders(text: str | tuple[str, ...]) -> set[str]:
    """The placeholders of a text, or of every form of a plural message (each form must use them all)."""
    texts = text if isinstance(text, tuple) else (text,)
    return set.union(*({a or b for a, b in _PLACEHOLDER.findall(t)} for t in texts))


def _po(language: str) -> dict[tuple[str | None, str], object]:
    with i18n.catalogue_path(language).open("rb") as f:
        return {_key(m): m for m in read_po(f) if m.id}


def _translated(message) -> bool:  # noqa: ANN001 - a babel Message
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(forms) and all(forms) and not message.fuzzy


def _untranslated(pot: dict, po: dict) -> list[str]:
    """The .pot's messages that the .po leaves out, leaves empty (any plural form) or marks fuzzy."""
    return sorted(str(k) for k in pot if k not in po or not _translated(po[k]))


def test_every_marked_message_is_in_the_template() -> None:
    """Extracting with babel.cfg now finds exactly the messages of messages.pot (run `pybabel extract` after
    marking or changing a text, see README "Languages")."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "translate": (2,), "_invalid": (1,), "_conflict": (1,), "_forbidden": (1,),
                "because": (1,), "because_n": (1, 2), "translate_n": (2, 3)}
    found = {(context, message if isinstance(message, str) else message[0])
             for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}
    pot = set(_pot())
    assert found - pot == set(), "marked for translation but not in messages.pot"
    assert pot - found == set(), "in messages.pot but no longer in the code"
    assert len(found) > 400  # the page labels and the emails, not an empty extraction


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_in_every_shipped_language(language: str) -> None:
    """Each msgid of the .pot has a non-empty, non-fuzzy translation in the language's .po, with the same
    ``%(name)s`` / ``{name}`` placeholders, and the .po keeps nothing the .pot dropped."""
    po, pot = _po(language), _pot()
    assert _untranslated(pot, po) == [], f"{language}: untranslated"
    assert sorted(str(k) for k in po.keys() - pot.keys()) == [], f"{language}: not in the .pot (run pybabel update)"
    wrong = [k for k in pot if _placeholders(pot[k].id) != _placeholders(po[k].string)]
    assert wrong == [], f"{language}: placeholders differ"


def test_a_missing_or_fuzzy_translation_is_reported() -> None:
    """The check above can fail: an emptied, a fuzzy and a dropped message of a real catalogue are named."""
    po, pot = _po("zh-Hant"), _pot()
    emptied, fuzzy, dropped = [k for k in pot if k in po and po[k].string][:3]
    po[emptied].string = ""
    po[fuzzy].flags.add("fuzzy")
    del po[dropped]
    assert _untranslated(pot, po) == sorted(str(k) for k in (emptied, fuzzy, dropped))


@pytest.mark.parametrize(("header", "language"), [
    ("fr,zh-TW;q=0.9,en;q=0.8", "zh-Hant"), ("zh-CN", "zh-Hans"), ("zh", "zh-Hans"), ("zh-SG", "zh-Hans"),
    ("zh-HK", "zh-Hant"), ("zh-MO", "zh-Hant"), ("zh-Hant-CN", "zh-Hant"), ("zh-hans", "zh-Hans"),
    ("en-US,zh;q=0.9", "en"), ("en;q=0.2,zh-TW;q=0.5", "zh-Hant"), ("zh-TW;q=0,en", "en"),
    ("fr, *;q=0.1", "en"), ("fr", "en"), ("", "en"), (None, "en"), ("zh;q=abc,zh-TW", "zh-Hant"),
])
def test_negotiation_honours_q_values(header: str | None, language: str) -> None:
    """Accept-Language picks the most preferred shipped language by q-value (0 refuses), Chinese by script."""
    assert i18n.negotiate(header) == language


def test_stored_zh_reads_as_simplified_chinese() -> None:
    """A stored ``zh`` (people and events before zh-Hans/zh-Hant) renders Simplified Chinese."""
    assert i18n.resolve("zh") == "zh-Hans" and i18n.resolve("zh_TW") == "zh-Hant" and i18n.resolve("fr") == "en"
    assert i18n.translate("zh", "Date") == "日期" and i18n.translate("zh", "Event") == "活动"
    assert i18n.translate("zh-Hant", "Event") == "活動" and i18n.translate("en", "Event") == "Event"


def test_a_person_locale_takes_any_spelling_and_keeps_a_stored_zh() -> None:
    """Person.locale is stored as a shipped tag (zh-CN → zh-Hans, zh_tw → zh-Hant, en-US → en); a ``zh`` is kept
    as written so running events read the same, and a language we do not ship is refused."""
    from pydantic import ValidationError

    from workflows.messages import Person

    spelled = {tag: Person(id="p", name="P", locale=tag).locale for tag in ("zh-CN", "zh_tw", "ZH-hant", "en-US", "zh")}
    assert spelled == {"zh-CN": "zh-Hans", "zh_tw": "zh-Hant", "ZH-hant": "zh-Hant", "en-US": "en", "zh": "zh"}
    with pytest.raises(ValidationError, match="'en', 'zh', 'zh-Hans' or 'zh-Hant'"):
        Person(id="p", name="P", locale="fr")
