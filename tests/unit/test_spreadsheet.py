"""The spreadsheet writers' cell rules, without a server: formulas neutralised, digits kept, numbers as numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from convene.spreadsheet import BOM, Cell, csv_cell, csv_chunks, neutral, xlsx_file


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"])
def test_text_that_could_start_a_formula_is_neutralised(text: str):
    """Each dangerous first character gets a leading apostrophe, in CSV cells too."""
    assert neutral(text) == "'" + text
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text,expected", [
    ("007", '="007"'), ("0", "0"), ("13800138000", '="13800138000"'), ("1234567890", "1234567890"),
    ("Ann", "Ann"), ("李小龍", "李小龍"), ("a=b", "a=b"), ("", ""),
])
def test_digits_a_spreadsheet_would_damage_stay_text(text: str, expected: str):
    """A leading zero or a phone number's length is written as ="...", other text as it is."""
    assert csv_cell(text) == expected


def test_numbers_times_and_blanks():
    """Numbers we compute stay numbers (negative ones too), times are UTC, None is empty, bools yes/no."""
    assert csv_cell(Decimal("-120.50")) == "-120.50" and csv_cell(-3) == "-3"
    eight = timezone(timedelta(hours=8))
    assert csv_cell(datetime(2026, 6, 1, 17, 0, tzinfo=eight)) == "2026-06-01 09:00:00"
    assert (csv_cell(None), csv_cell(True), csv_cell(False)) == ("", "yes", "no")


async def _rows(rows: list[Sequence[Cell]]) -> AsyncIterator[Sequence[Cell]]:
    for row in rows:
        yield row


async def test_csv_is_chunked_with_one_bom():
    """Chunks of N rows, one BOM at the very start, CRLF line ends, commas and quotes escaped."""
    rows = [[f"{i:03d}", 'say "hi", then go'] for i in range(7)]
    chunks = [c async for c in csv_chunks(["id", "note"], _rows(rows), rows_per_chunk=3)]
    assert len(chunks) == 3  # 3 + 3 rows, then the last one
    text = b"".join(chunks).decode("utf-8")
    assert text.count(BOM) == 1 and text.startswith(BOM) and "\r\n" in text
    read = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert read[1] == ['="000"', 'say "hi", then go'] and len(read) == 8


async def test_xlsx_keeps_text_as_text():
    """Formula-like text is a quote-prefixed string, digits a string, Decimal a number, times naive UTC."""
    moment = datetime(2026, 6, 1, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    book = await xlsx_file("A very long sheet title that Excel would refuse", ["a", "b", "c", "d"],
                           _rows([["=1+2", "007", Decimal("-1.25"), moment]]))
    sheet = load_workbook(io.BytesIO(book.read())).active
    book.close()
    assert len(sheet.title) == 31
    a, b, c, d = next(sheet.iter_rows(min_row=2))
    assert (a.value, a.data_type, a.quotePrefix) == ("=1+2", "s", True)
    assert (b.value, b.data_type, b.quotePrefix) == ("007", "s", False)
    assert (c.value, c.data_type) == (-1.25, "n")
    assert d.value == datetime(2026, 6, 1, 9, 0)


async def test_xlsx_takes_control_characters():
    """A name typed with a control character XML cannot hold is exported (as U+FFFD), not a server error."""
    book = await xlsx_file("people", ["name"], _rows([["Ann\x0eLee\x00"], ["tab\tand\nnewline"]]))
    sheet = load_workbook(io.BytesIO(book.read())).active
    book.close()
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["Ann\ufffdLee\ufffd", "tab\tand\nnewline"]
