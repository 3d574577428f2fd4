"""The team's acts by idempotency key: what each key stood for and, once known, its final answer.

The API writes a key as ``pending`` before it sends the act to the workflow and its answer
(``accepted`` or ``refused``, with the HTTP status and body) when it has one, so a repeat of the
key is answered from here without asking Temporal, the same key with another request is refused,
and anyone may ask what became of a key. Keys are kept for a window (a day by default), then
deleted; a first final answer is never overwritten.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select, update

from store.db import Database
from store.roster import to_db, utc
from store.schema import idempotency_keys as K

Status = Literal["pending", "accepted", "refused"]


@dataclass(frozen=True)
class KeyRecord:
    """One key of one event, as stored."""

    event_id: str
    key: str
    principal: str
    fingerprint: str
    status: Status
    http_status: int | None
    answer: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: Any) -> KeyRecord:
        return cls(event_id=row.event_id, key=row.key, principal=row.principal, fingerprint=row.fingerprint,
                   status=row.status, http_status=row.http_status, answer=row.answer,
                   created_at=utc(row.created_at), updated_at=utc(row.updated_at),  # type: ignore[arg-type]
                   expires_at=utc(row.expires_at))  # type: ignore[arg-type]

    @property
    def final(self) -> bool:
        return self.status != "pending"


class ActKeys:
    """The ``idempotency_keys`` table.

    Args:
        db: the process's database.
        window: how long a key is kept after its first use.
        purge_every: seconds between deletions of expired keys (done on a claim, at most this often).
    """

    def __init__(self, db: Database, window: timedelta = timedelta(hours=24), purge_every: float = 60.0) -> None:
        self.db = db
        self.window = window
        self.purge_every = purge_every
        self._purged_at = float("-inf")

    async def claim(self, event_id: str, key: str, principal: str, fingerprint: str,
                    now: datetime) -> tuple[KeyRecord, bool]:
        """The key's record, made ``pending`` if it is new (or its earlier use has expired).

        Returns:
            the record as stored, and whether this call made it (False: the key was in use already,
            by this request or another: compare ``fingerprint``).
        """
        if time.monotonic() - self._purged_at >= self.purge_every:
            self._purged_at = time.monotonic()
            await self.purge(now)
        async with self.db.write() as conn:
            await conn.execute(delete(K).where(K.c.event_id == event_id, K.c.key == key,
                                               K.c.expires_at < to_db(now)))
            made = await conn.execute(
                self.db.insert(K).values(
                    event_id=event_id, key=key, principal=principal, fingerprint=fingerprint, status="pending",
                    created_at=to_db(now), updated_at=to_db(now), expires_at=to_db(now + self.window),
                ).on_conflict_do_nothing(index_elements=["event_id", "key"])
            )
            row = (await conn.execute(select(K).where(K.c.event_id == event_id, K.c.key == key))).one()
        return KeyRecord.of(row), made.rowcount == 1

    async def finish(self, event_id: str, key: str, status: Status, http_status: int, answer: dict[str, Any],
                     now: datetime) -> KeyRecord | None:
        """Record the key's final answer, unless it has one already (the first one stays).

        Returns:
            the record as stored afterwards (None if it has expired and gone meanwhile).
        """
        async with self.db.write() as conn:
            await conn.execute(
                update(K).where(K.c.event_id == event_id, K.c.key == key, K.c.status == "pending")
                .values(status=status, http_status=http_status, answer=answer, updated_at=to_db(now))
            )
            row = (await conn.execute(select(K).where(K.c.event_id == event_id, K.c.key == key))).one_or_none()
        return None if row is None else KeyRecord.of(row)

    async def release(self, event_id: str, key: str, fingerprint: str) -> None:
        """Forget a pending key that never reached an event (there was no such event to send it to)."""
        async with self.db.write() as conn:
            await conn.execute(delete(K).where(K.c.event_id == event_id, K.c.key == key,
                                               K.c.fingerprint == fingerprint, K.c.status == "pending"))

    async def get(self, event_id: str, key: str, now: datetime) -> KeyRecord | None:
        """The key's record, or None if it is unknown or expired."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(K).where(K.c.event_id == event_id, K.c.key == key,
                                                      K.c.expires_at >= to_db(now)))).one_or_none()
        return None if row is None else KeyRecord.of(row)

    async def purge(self, now: datetime) -> int:
        """Delete every expired key; answers how many."""
        async with self.db.write() as conn:
            return (await conn.execute(delete(K).where(K.c.expires_at < to_db(now)))).rowcount or 0


__all__ = ["ActKeys", "KeyRecord", "Status"]
