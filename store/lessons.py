"""Lessons kept per kind of event: what one event left for the next of its kind.

One row per (kind, event): the event's lessons as last recorded (when its lessons task is completed with a
note, or through the API). A write with the same text changes nothing; a new text replaces the old one. The
next event of the kind reads the newest few (:meth:`Lessons.for_kind`), leaving itself out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from store.db import Database
from store.roster import to_db, utc
from store.schema import lessons as L

TEXT_MAX = 20_000
"""The longest lessons text kept, in characters."""


@dataclass(frozen=True)
class Lesson:
    """One event's lessons for its kind; `recorded_at` UTC."""

    kind: str
    event_id: str
    event_title: str
    text: str
    recorded_by: str
    recorded_at: datetime


class Lessons:
    """The ``lessons`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def keep(self, *, kind: str, event_id: str, event_title: str, text: str, by: str,
                   at: datetime) -> bool:
        """Keep `text` as the event's lessons for `kind` (at most :data:`TEXT_MAX` characters).

        Returns: whether this call changed what is kept (the same text again does not).
        Raises: ValueError: an empty text, or one longer than TEXT_MAX.
        """
        text = text.strip()
        if not text or len(text) > TEXT_MAX:
            raise ValueError(f"lessons must be 1 to {TEXT_MAX} characters")
        where = (L.c.kind == kind, L.c.event_id == event_id)
        values = {"event_title": event_title[:300], "text": text, "recorded_by": by, "recorded_at": to_db(at)}
        async with self.db.write() as conn:
            current = (await conn.execute(select(L.c.text).where(*where))).first()
            if current is not None and current.text == text:
                return False
            if current is None:
                await conn.execute(L.insert().values(kind=kind, event_id=event_id, **values))
            else:
                await conn.execute(update(L).where(*where).values(**values))
        return True

    async def for_kind(self, kind: str, *, but: str | None = None, limit: int = 5) -> list[Lesson]:
        """The newest `limit` lessons kept for `kind`, newest first, leaving out event `but`."""
        query = select(L).where(L.c.kind == kind)
        if but is not None:
            query = query.where(L.c.event_id != but)
        async with self.db.read() as conn:
            rows = await conn.execute(query.order_by(L.c.recorded_at.desc(), L.c.event_id).limit(limit))
            return [Lesson(**(dict(r._mapping) | {"recorded_at": utc(r.recorded_at)})) for r in rows]
