"""Plain-text tables for the CLI, sized by display width (rich), so CJK titles keep their columns.

A Chinese character takes two columns of a terminal; ``str.ljust`` counts it as one, so a
column holding ``年度大會`` pushed every later column of its row out of line. rich measures
cells by their display width (:func:`rich.cells.cell_len`) and pads to it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from rich.box import Box
from rich.console import Console
from rich.table import Table
from rich.text import Text

_RULE_UNDER_HEADER = Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)
"""No borders: columns two spaces apart, and a dashed rule under the header."""


def text_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """`rows` under `header` as aligned plain text (no colour, no markup, no wrapping; each line right-stripped).

    Columns are as wide as their widest cell in display columns, two spaces apart; the second line
    is a rule of dashes. Cells are shown as given: ``[brackets]`` are not read as markup.
    """
    table = Table(box=_RULE_UNDER_HEADER, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                  header_style=None, show_header=True)
    for name in header:
        table.add_column(Text(name), no_wrap=True, overflow="ignore")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out = io.StringIO()
    console = Console(file=out, width=100_000, color_system=None, force_terminal=False, legacy_windows=False,
                      highlight=False, markup=False, emoji=False, soft_wrap=False)
    console.print(table, crop=False)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())
