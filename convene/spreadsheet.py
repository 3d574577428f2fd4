"""Rows out as spreadsheets: CSV that Excel opens as written, and XLSX, both safe to open and streamed.

A row is a list of cells: ``str``, ``int``, :class:`~decimal.Decimal`, ``bool``, an aware
:class:`~datetime.datetime` (written in UTC) or ``None`` (empty). What people typed (``str``)
is never read as a formula and never loses its leading zeros:

- **CSV** (:func:`csv_chunks`): UTF-8 with a BOM, so Excel reads Chinese names as Chinese; a text
  cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
  (the OWASP advice: Excel then shows it as text, apostrophe included); a cell of digits that
  Excel would turn into a number and damage (a leading zero, or more than 10 digits such as a
  phone number) is written ``="0123"``, which Excel shows as the text ``0123``.
- **XLSX** (:func:`xlsx_file`): every text cell is stored as a string (openpyxl would otherwise
  store ``=...`` as a formula), and one starting as above carries Excel's quote prefix, so it
  stays text even when someone edits it; digits stay text, so leading zeros stay. Control characters
  XML cannot hold (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F) become U+FFFD.

Numbers we compute (``int``, ``Decimal``: budget figures, survey scores) are written as numbers.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

Cell = str | int | Decimal | bool | datetime | None
"""What a row may hold."""

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these could be read as a formula (or, after a tab/CR, a second cell)."""

_DAMAGED_DIGITS = re.compile(r"0\d+|\d{11,}")
"""Digits a spreadsheet would turn into a number and damage: a leading zero (dropped), or a phone
number's length (shown as 1.38E+10, rounded past 15 digits)."""

ROWS_PER_CHUNK = 500
"""CSV rows per chunk of bytes handed to the response."""

SPOOL_BYTES = 8 * 1024 * 1024
"""An XLSX file smaller than this stays in memory; a larger one goes to a temporary file."""


def neutral(text: str) -> str:
    """`text` safe to open in a spreadsheet: a leading ``'`` when it could start a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def csv_cell(value: Cell) -> str:
    """One cell as CSV text (see the module's rules)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _utc(value).strftime("%Y-%m-%d %H:%M:%S")
    if _DAMAGED_DIGITS.fullmatch(value):
        return f'="{value}"'
    return neutral(value)


async def csv_chunks(header: Sequence[str], rows: AsyncIterator[Sequence[Cell]],
                     rows_per_chunk: int = ROWS_PER_CHUNK) -> AsyncIterator[bytes]:
    """The CSV file (UTF-8 with BOM, CRLF line ends) as chunks of bytes, `rows_per_chunk` rows each,
    produced as `rows` produces them: never more than one chunk held."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    held = 0
    async for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        held += 1
        if held >= rows_per_chunk:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            held = 0
    yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet: Any, value: Cell) -> Any:
    if isinstance(value, datetime):  # Excel has no time zones: written in UTC (the header says so)
        value = _utc(value).replace(tzinfo=None)
    if isinstance(value, str):  # XML 1.0 has no place for most control characters: openpyxl refuses them
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula, whatever it starts with
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    return cell


async def xlsx_file(title: str, header: Sequence[str], rows: AsyncIterator[Sequence[Cell]]) -> IO[bytes]:
    """A one-sheet XLSX workbook of `rows` in a :class:`~tempfile.SpooledTemporaryFile` (in memory up to
    :data:`SPOOL_BYTES`, on disk past it), positioned at its start; the caller closes it.

    The workbook is openpyxl's write-only kind: each row goes to the sheet's own temporary file as it
    comes, so the rows are never all held; the zip is written at the end, in a thread.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append([_xlsx_cell(sheet, h) for h in header])
    async for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - handed to the caller
    await asyncio.to_thread(book.save, out)
    out.seek(0)
    return out


def file_chunks(file: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    """`file` in chunks of `size` bytes, then closed."""
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()
