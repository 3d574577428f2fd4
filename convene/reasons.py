"""Gate reasons in the reader's language: a :class:`~workflows.reasons.ReasonMessage` (message id, plural id,
raw parameters) rendered through the catalogue, with plurals by count (gettext's ``ngettext``) and money,
shares, spans, times and lists formatted by Babel from CLDR at render time.

``render(language, message)`` gives one sentence; :func:`localise_gates` gives a view's gates with their
``reasons`` replaced by the rendered sentences (what ``GET /events/{id}`` and the page show);
:func:`join` joins several as one refusal's ``%(reasons)s``.

The parameters the lifecycle uses and how they are shown (see :mod:`workflows.reasons`):

=====================  ==========================================================================
``total``, ``limit``   decimal strings, shown as money in ``currency`` (``€120,000.00``)
``share``, ``min_share``  fractions, shown as percentages (``5%``)
``span_value`` + ``span_unit``  become ``span``: ``30 days``, ``30天``, ``5 minutes``
``latest``, ``end``    ISO 8601 times, shown as a full date and time in the event's ``zone``
``people`` + ``more``  ids (at most five) and how many more, shown as one list (``a, b and 3 more``)
``roles``              role ids joined with "or", named in Chinese (``财务审批人或项目经理``)
``role``, ``speaker_status``, ``budget_category``  ids, named in Chinese by the page's labels
``count``              the plural's number, grouped as the language groups (``5,000``)
=====================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent
from babel.units import format_unit

from convene import i18n
from convene.reason_message import ReasonMessage

__all__ = ["render", "join", "localise_gates"]

_NAMED = {"role": "role", "speaker_status": "speaker_status", "budget_category": "budget"}
"""Parameters whose values are ids the page's labels name, and the label prefix naming them."""


def _duration(value: float, unit: str, language: str) -> str:
    """``30 days`` / ``30天``: CLDR's long unit pattern, else its short one (Chinese has only the short)."""
    locale = i18n.cldr_locale(language)
    number = int(value) if float(value).is_integer() else value
    for length in ("long", "short"):
        text = format_unit(number, f"duration-{unit}", length=length, locale=locale)
        if "duration-" not in text:
            return text
    return f"{number} {unit}"


def _formatted(language: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as the language writes them (see the module's table); others pass unchanged."""
    locale = i18n.cldr_locale(language)
    out = dict(params)
    for key in ("total", "limit"):
        if key in params:
            try:
                out[key] = format_currency(Decimal(str(params[key])), str(params.get("currency", "")), locale=locale)
            except (InvalidOperation, ValueError):
                pass
    for key in ("share", "min_share"):
        if isinstance(params.get(key), int | float):
            out[key] = format_percent(params[key], locale=locale)
    if "span_unit" in params and isinstance(params.get("span_value"), int | float):
        out["span"] = _duration(params["span_value"], str(params["span_unit"]), language)
    for key in ("latest", "end"):
        if isinstance(params.get(key), str):
            try:
                out[key] = i18n.format_when(datetime.fromisoformat(params[key]), params.get("zone"), language)
            except ValueError:
                pass
    if isinstance(params.get("people"), list):
        people = [str(p) for p in params["people"]]
        more = int(params.get("more") or 0)
        if more:
            people.append(i18n.translations(language).ngettext("%(count)s more", "%(count)s more", more)
                          % {"count": more})
        out["people"] = format_list(people, locale=locale) if people else ""
    english = i18n.resolve(language) == "en"  # English keeps the ids, as refusals and the stored reasons do
    if isinstance(params.get("roles"), list):
        names = [str(r) if english else i18n.named(language, "role", str(r)) for r in params["roles"]]
        out["roles"] = format_list(names, style="or", locale=locale) if names else ""
    for key, prefix in _NAMED.items():
        if isinstance(params.get(key), str) and not english:
            out[key] = i18n.named(language, prefix, params[key])
    if isinstance(params.get("count"), int):
        out["count"] = format_decimal(params["count"], locale=locale)
    return out


def render(language: str, message: ReasonMessage | Mapping[str, Any]) -> str:
    """One reason in ``language`` (``en``, ``zh-Hans``, ``zh-Hant``; other tags as :func:`i18n.resolve`).

    English is rendered too (``1 invitation was sent``, ``€120,000.00``), from the msgids. A message whose
    translation does not fit its parameters is said in English rather than fail.

    Raises:
        pydantic.ValidationError: ``message`` is a mapping that is not a reason message.
    """
    msg = message if isinstance(message, ReasonMessage) else ReasonMessage.model_validate(message)
    language = i18n.resolve(language)
    params = msg.params
    count = params.get("count")
    for lang in dict.fromkeys((language, "en")):
        try:
            fill = _formatted(lang, params)
            gettext = i18n.translations(lang)
            if msg.plural is not None and isinstance(count, int):
                text = gettext.ngettext(msg.message_id, msg.plural, count)
            else:
                text = gettext.gettext(msg.message_id)
            return text % fill if "%" in text else text
        except (KeyError, TypeError, ValueError):
            continue
    return msg.message_id


def join(language: str, sentences: Iterable[str]) -> str:
    """Several reasons as one clause, as the language separates them (``a; b``, ``a；b``)."""
    parts = list(sentences)
    if not parts:
        return ""
    text = parts[0]
    for part in parts[1:]:
        text = i18n.translate(language, "%(reasons)s; %(reason)s", reasons=text, reason=part)
    return text


def localise_gates(gates: list[Any], language: str) -> list[Any]:
    """Copies of ``gates`` (:class:`~workflows.messages.GateView`) whose ``reasons`` are said in ``language``.

    A gate whose messages do not match its reasons one for one (a view from a worker older than the
    messages) keeps its English reasons.
    """
    out = []
    for gate in gates:
        if gate.reason_messages and len(gate.reason_messages) == len(gate.reasons):
            gate = gate.model_copy(update={"reasons": [render(language, m) for m in gate.reason_messages]})
        out.append(gate)
    return out
