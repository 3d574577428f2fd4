"""Import an attendee list from CSV: the good rows become invitations, the bad ones are listed, never a crash.

Columns (header row, case-insensitive): ``id, name, email, category, key_client, locale,
needs, needs_note``. ``needs`` is a ``;``-separated list (accessibility; translation; diet;
elderly; other). ``locale`` is ``en``, ``zh-Hans`` or ``zh-Hant`` in any spelling (``zh-CN``, ``zh_TW``).
Only ``id`` and ``name`` are required.

Files are read as their authors' tools wrote them (:func:`read_attendees`): the encoding is the one
given, else the byte-order mark's (Excel's "Unicode text" is UTF-16 with a BOM), else UTF-8 if the
bytes are valid UTF-8, else the most plausible of charset-normalizer's candidates and the encodings
Excel writes on Chinese and European Windows (GB18030, Big5, cp1252); the separator is the one an
Excel ``sep=`` first line names, else whichever of ``,`` ``;`` and tab splits the header into the
columns id and name. Both decisions are reported with the rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from dataclasses import dataclass, field

from pydantic import ValidationError

from workflows.messages import Attendee

MAX_ROWS = 10_000
_TRUE = {"1", "yes", "true", "y", "x"}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


DELIMITERS = (",", ";", "\t")
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_LIKELY = ("gb18030", "big5", "cp1252")  # what Excel writes without a BOM on Chinese and European Windows
_SAMPLE = 20_000  # characters of each candidate reading scored for plausibility


class EncodingError(ValueError):
    """The bytes cannot be read as text in the encoding given, or in any encoding tried."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # a Python codec name: utf-8, utf-16, gb18030, big5, cp1252...
    how: str  # "given", "BOM", "UTF-8" or "detected"


@dataclass(frozen=True)
class ImportedFile:
    """The rows of a file, and how it was read."""

    attendees: list[Attendee]
    errors: list[RowError]
    encoding: str
    encoding_how: str
    delimiter: str
    header_line: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def decision(self) -> str:
        """One line for a person: ``read as gb18030 (detected), separated by ';'``."""
        sep = {"\t": "tab"}.get(self.delimiter, repr(self.delimiter))
        return f"read as {self.encoding} ({self.encoding_how}), separated by {sep}"


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise EncodingError(f"unknown encoding {name!r}") from None


def _plausible(text: str) -> float:
    """The share of non-ASCII characters a person would plausibly have typed (1.0 when there are none)."""
    others = [c for c in text if ord(c) > 0x7F]
    if not others:
        return 1.0
    good = 0
    for c in others:
        if "\u4e00" <= c <= "\u9fff":  # a CJK ideograph: is it a common one, simplified or traditional?
            try:
                c.encode("gb2312")
                good += 1
                continue
            except UnicodeEncodeError:
                pass
            try:
                good += b"\xa4\x40" <= c.encode("big5") <= b"\xc6\x7e"  # Big5's frequent characters
            except UnicodeEncodeError:
                pass
        elif unicodedata.category(c).startswith("L") and ord(c) < 0x0250 or c in "\u00a0\u20ac\u2013\u2019":
            good += 1  # a Latin letter with its accent, a no-break space, the euro sign, a dash or apostrophe
    return good / len(others)


def decode(raw: bytes, encoding: str | None = None) -> Decoded:
    """Bytes of an imported file as text: the encoding given, the BOM's, UTF-8, or the most plausible guess."""
    raw = bytes(raw)
    if encoding:
        name = _codec(encoding)
        try:
            return Decoded(raw.decode(name).lstrip("\ufeff"), name, "given")
        except UnicodeDecodeError as err:
            raise EncodingError(f"the file is not {name} text (byte {err.start}: {err.reason})") from None
    for mark, name in _BOMS:
        if raw.startswith(mark):
            try:
                return Decoded(raw.decode(name).lstrip("\ufeff"), name, "BOM")
            except UnicodeDecodeError as err:
                raise EncodingError(f"the file starts with a {name} BOM but is not {name} text "
                                    f"(byte {err.start}: {err.reason})") from None
    try:
        return Decoded(raw.decode("utf-8"), "utf-8", "UTF-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # imported here: only non-UTF-8 files need it

    candidates: list[str] = []
    for name in [*_LIKELY, *(m.encoding for m in from_bytes(raw))]:
        try:
            candidates.append(codecs.lookup(name).name)
        except LookupError:
            continue
    best: tuple[float, int, str, str] | None = None
    for rank, candidate in enumerate(dict.fromkeys(candidates)):
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        score = (_plausible(text[:_SAMPLE]), -rank, candidate, text)  # ties go to the likelier encoding
        if best is None or score > best:
            best = score
    if best is None:
        raise EncodingError("the file's encoding could not be recognised; name it (encoding=...)")
    return Decoded(best[3], best[2], "detected")


def _delimiter(text: str) -> tuple[str, int]:
    """The separator and how many leading lines (an Excel ``sep=`` line) to skip."""
    first, _, _rest = text.partition("\n")
    first = first.rstrip("\r")
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4], 1
    for delimiter in DELIMITERS:
        header = next(csv.reader([first], delimiter=delimiter), [])
        if {"id", "name"} <= {h.strip().lower() for h in header}:
            return delimiter, 0
    return max(DELIMITERS, key=first.count), 0


def read_attendees(data: bytes | str, encoding: str | None = None,
                   delimiter: str | None = None) -> ImportedFile:
    """Read an imported file (bytes as saved by Excel or any tool): its attendees, bad rows and how it was read.

    Raises :class:`EncodingError` when the bytes are not text in the encoding given or any tried.
    """
    decoded = Decoded(data.lstrip("\ufeff"), "utf-8", "text") if isinstance(data, str) else decode(data, encoding)
    text = decoded.text
    found, skip = _delimiter(text)
    if skip:
        text = text.split("\n", skip)[skip] if text.count("\n") >= skip else ""
    good, bad = _parse(text, delimiter or found, offset=skip)
    return ImportedFile(good, bad, decoded.encoding, decoded.how, delimiter or found, header_line=1 + skip)


def parse_attendees(text: str) -> tuple[list[Attendee], list[RowError]]:
    """Parse CSV text into attendees and row-level errors (line numbers count the header as 1).

    The separator (``,`` ``;`` tab or an Excel ``sep=`` line) is sniffed as :func:`read_attendees` does.
    """
    done = read_attendees(text)
    return done.attendees, done.errors


def _parse(text: str, delimiter: str, offset: int = 0) -> tuple[list[Attendee], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or not {"id", "name"} <= {f.strip().lower() for f in reader.fieldnames if f}:
        return [], [RowError(1 + offset, "the header must name at least the columns id and name")]
    good: list[Attendee] = []
    bad: list[RowError] = []
    seen: set[str] = set()
    for count, raw in enumerate(reader, start=1):
        n = reader.line_num + offset  # the file's own line number (blank lines are skipped by the reader)
        if count > MAX_ROWS:
            bad.append(RowError(n, f"more than {MAX_ROWS:,} rows; the rest were not read"))
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue  # a blank line
        data: dict[str, object] = {"id": row.get("id", ""), "name": row.get("name", "")}
        if row.get("email"):
            data["email"] = row["email"]
        if row.get("category"):
            data["category"] = row["category"].lower()
        if row.get("locale"):
            data["locale"] = row["locale"].lower()
        if row.get("key_client"):
            data["key_client"] = row["key_client"].lower() in _TRUE
        if row.get("needs"):
            data["needs"] = [x.strip().lower() for x in row["needs"].split(";") if x.strip()]
        if row.get("needs_note"):
            data["needs_note"] = row["needs_note"]
        try:
            attendee = Attendee.model_validate(data)
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in err.errors())
            bad.append(RowError(n, problems))
            continue
        if attendee.id in seen:
            bad.append(RowError(n, f"id {attendee.id!r} appears twice in the file"))
            continue
        seen.add(attendee.id)
        good.append(attendee)
    return good, bad
