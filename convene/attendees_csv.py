"""Import an attendee list from CSV: the good rows become invitations, the bad ones are listed, never a crash.

Columns (header row, case-insensitive): ``id, name, email, category, key_client, locale,
needs, needs_note``. ``needs`` is a ``;``-separated list (accessibility; translation; diet;
elderly; other). Only ``id`` and ``name`` are required.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

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


def parse_attendees(text: str) -> tuple[list[Attendee], list[RowError]]:
    """Parse CSV text into attendees and row-level errors (line numbers count the header as 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or not {"id", "name"} <= {f.strip().lower() for f in reader.fieldnames if f}:
        return [], [RowError(1, "the header must name at least the columns id and name")]
    good: list[Attendee] = []
    bad: list[RowError] = []
    seen: set[str] = set()
    for count, raw in enumerate(reader, start=1):
        n = reader.line_num  # the file's own line number (blank lines are skipped by the reader)
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
