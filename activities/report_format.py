"""How the evaluation report and the dossier index write numbers, money, shares and times in one language.

:class:`Formats` binds a shipped language (``en``, ``zh-Hans``, ``zh-Hant``) to CLDR's patterns through Babel:
``count(2000)`` → ``2,000``; ``money(Decimal("10000"))`` → ``10,000.00``; ``pct(Decimal("61.5"))`` →
``61.5%`` (the figures hold percentages, not fractions); ``signed`` adds ``+`` to a positive value;
``None`` is the language's "n/a". It is also what the report's template calls (``f.money(...)``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel.lists import format_list
from babel.numbers import format_decimal

from convene import i18n

_MONEY = "#,##0.00"
_MEAN = "#,##0.00"
_PCT = "#,##0.0"


class Formats:
    """Number and time formatting in ``language`` (any tag :func:`convene.i18n.resolve` takes)."""

    def __init__(self, language: str, zone: str | None = None) -> None:
        self.language = i18n.resolve(language)
        self.zone = zone
        self.locale = i18n.cldr_locale(self.language)
        self.na = i18n.translate(self.language, "n/a")

    def _dec(self, value: Decimal | int | float, pattern: str, signed: bool = False) -> str:
        text = format_decimal(value, pattern, locale=self.locale, decimal_quantization=True)
        return f"+{text}" if signed and value > 0 else text

    def count(self, value: int | None) -> str:
        """A whole number, grouped (``2,000``)."""
        return self.na if value is None else format_decimal(value, "#,##0", locale=self.locale)

    def figure(self, value: float | None) -> str:
        """A measured figure (a target, an actual, a reach), grouped, at most two decimals (``128,000``)."""
        return self.na if value is None else self._dec(value, "#,##0.##")

    def money(self, value: Decimal | None, signed: bool = False) -> str:
        """An amount with two decimals, grouped; the currency is named where the table says it."""
        return self.na if value is None else self._dec(value, _MONEY, signed)

    def mean(self, value: Decimal | None) -> str:
        """A mean score, two decimals."""
        return self.na if value is None else self._dec(value, _MEAN)

    def pct(self, value: Decimal | None, signed: bool = False) -> str:
        """A percentage the figures hold as a number of percent (``61.5`` → ``61.5%``)."""
        return self.na if value is None else f"{self._dec(value, _PCT, signed)}%"

    def score(self, value: Decimal | None) -> str:
        """A satisfaction score out of 5 (``3.78 / 5``)."""
        return self.na if value is None else f"{self.mean(value)} / 5"

    def when(self, at: datetime) -> str:
        """A time as the language writes a full date and time, in the event's zone, the zone named."""
        return i18n.format_when(at, self.zone, self.language)

    def join(self, items) -> str:  # noqa: ANN001 - any iterable of strings
        """Items as the language lists them (``a, b and c``, ``a、b和c``)."""
        items = [str(i) for i in items]
        return format_list(items, locale=self.locale) if items else ""

    def join_named(self, prefix: str, idents) -> str:  # noqa: ANN001 - any iterable of ids
        """Ids named (see :meth:`named`) and listed (see :meth:`join`)."""
        return self.join(self.named(prefix, i) for i in idents)

    def named(self, prefix: str, ident: str) -> str:
        """An id (budget category, severity, status) named in Chinese by the page's labels; English keeps the id."""
        return str(ident) if self.language == "en" else i18n.named(self.language, prefix, str(ident))
