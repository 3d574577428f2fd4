"""Periodic review of the archive: which dossiers were written longer ago than a review period.

A dossier is a folder ``<root>/<YYYY>/<kind>/<event_id>/`` holding ``MANIFEST.sha256`` (see
:mod:`activities.archive`). Its contents carry no clock (archiving twice gives the same bytes), so when it
was written is the manifest's modification time: the manifest is written last, and rewritten whenever a
document is added, so it tells when the dossier last changed.
"""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from activities.archive import MANIFEST


@dataclass(frozen=True)
class DueDossier:
    """One dossier due for review: its folder relative to the root (POSIX), its kind and event id (the
    folder's last two parts), and when its manifest was written (UTC)."""

    folder: str
    kind: str
    event_id: str
    written: datetime


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` moved back by whole calendar ``months`` (>= 0); a day the shorter month lacks becomes its
    last day (31 March less one month is 28 or 29 February)."""
    if months < 0:
        raise ValueError(f"months must be 0 or more, not {months}")
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def due_for_review(root: str | os.PathLike[str], months: int, now: datetime) -> list[DueDossier]:
    """Dossiers under ``root`` whose manifest was written more than ``months`` calendar months before
    ``now`` (aware), oldest first (then by folder).

    A root that does not exist holds no dossier (an empty list). Raises ValueError for negative ``months``
    or a naive ``now``; NotADirectoryError if ``root`` is a file.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    cutoff = months_before(now.astimezone(UTC), months)
    top = Path(root)
    if not top.exists():
        return []
    if not top.is_dir():
        raise NotADirectoryError(f"{top} is not a folder")
    due: list[DueDossier] = []
    for manifest in top.rglob(MANIFEST):
        if not manifest.is_file():
            continue
        written = datetime.fromtimestamp(manifest.stat().st_mtime, UTC)
        if written >= cutoff:
            continue
        rel = manifest.parent.relative_to(top)
        parts = rel.parts
        due.append(DueDossier(folder=rel.as_posix(), kind=parts[-2] if len(parts) >= 2 else "",
                              event_id=parts[-1] if parts else "", written=written))
    return sorted(due, key=lambda d: (d.written, d.folder))
