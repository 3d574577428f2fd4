"""The journal: every audit entry and every notification delivery, written idempotently.

The workflow keeps only its newest audit entries; ``record_audit`` writes each
one here under ``wf:<seq>``, so a retried write is a no-op and the whole trail
stays readable (API, dashboard, archive) whatever its length. Deliveries are
written by the sending activity itself, keyed by the notification's key: the
same row tells every worker that a key was already delivered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import func, select

from store.db import Database
from store.roster import to_db, utc
from store.schema import audit as AU
from store.schema import deliveries as D
from workflows.messages import AuditEntry, DeliveryRecord


class AuditPage(BaseModel):
    """A page of the audit in time order (oldest first)."""

    total: int
    items: list[AuditEntry]


class DeliveryPage(BaseModel):
    total: int
    counts: dict[str, int]
    items: list[DeliveryRecord]


def _entry(row: object) -> AuditEntry:
    r = row  # a Row
    return AuditEntry(seq=r.seq or 0, at=utc(r.at), act=r.act, actor=r.actor, role=r.role, key=r.key,  # type: ignore[attr-defined]
                      reason=r.reason, summary=r.summary)  # type: ignore[attr-defined]


def _delivery(row: object) -> DeliveryRecord:
    r = row
    return DeliveryRecord(key=r.key, kind=r.kind, channel=r.channel, to=r.recipient, status=r.status,  # type: ignore[attr-defined]
                          detail=r.detail, at=utc(r.at))  # type: ignore[attr-defined]


class Journal:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ audit

    async def record_audit(self, event_id: str, entries: Sequence[AuditEntry]) -> int:
        """Write the workflow's audit entries (each once, by sequence number). Returns how many were new."""
        if not entries:
            return 0
        rows = [{"event_id": event_id, "entry": f"wf:{e.seq:09d}", "seq": e.seq, "at": to_db(e.at), "act": e.act,
                 "actor": e.actor, "role": e.role, "key": e.key, "reason": e.reason, "summary": e.summary}
                for e in entries]
        async with self.db.write() as conn:
            result = await conn.execute(self.db.insert(AU).on_conflict_do_nothing(), rows)
        return max(result.rowcount or 0, 0)

    async def audit_page(self, event_id: str, offset: int = 0, limit: int = 100, newest_first: bool = False
                         ) -> AuditPage:
        """A page of the whole audit: the workflow's entries and the attendee acts, in time order."""
        order = (AU.c.at.desc(), AU.c.entry.desc()) if newest_first else (AU.c.at, AU.c.entry)
        async with self.db.read() as conn:
            total = (await conn.execute(select(func.count()).select_from(AU).where(AU.c.event_id == event_id))
                     ).scalar_one()
            rows = await conn.execute(select(AU).where(AU.c.event_id == event_id).order_by(*order)
                                      .offset(offset).limit(limit))
            return AuditPage(total=total, items=[_entry(r) for r in rows])

    async def audit(self, event_id: str, page: int = 5000) -> AsyncIterator[AuditEntry]:
        """The whole audit in time order, a page at a time."""
        offset = 0
        while True:
            chunk = await self.audit_page(event_id, offset, page)
            for e in chunk.items:
                yield e
            if len(chunk.items) < page:
                return
            offset += page

    # ------------------------------------------------------------------ deliveries

    async def record_delivery(self, event_id: str, record: DeliveryRecord, attempts: int = 1) -> None:
        """Insert or update a delivery by its key; a ``sent`` row is never turned back into another status."""
        values = {"key": record.key, "event_id": event_id, "kind": record.kind, "channel": record.channel,
                  "recipient": record.to, "status": record.status, "detail": record.detail[:4000],
                  "attempts": attempts, "at": to_db(record.at or datetime.now(UTC))}
        async with self.db.write() as conn:
            stmt = self.db.insert(D).values(**values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[D.c.key], set_={k: stmt.excluded[k] for k in ("status", "detail", "attempts", "at")},
                where=D.c.status != "sent")
            await conn.execute(stmt)

    async def delivered(self, key: str) -> DeliveryRecord | None:
        """The delivery of `key` if it was sent (by any worker)."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(D).where(D.c.key == key, D.c.status == "sent"))).first()
            return _delivery(row) if row is not None else None

    async def sent_keys(self, keys: Sequence[str]) -> set[str]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(D.c.key).where(D.c.key.in_(list(keys)), D.c.status == "sent"))
            return {r[0] for r in rows}

    async def deliveries_page(self, event_id: str, offset: int = 0, limit: int = 100) -> DeliveryPage:
        """A page of deliveries, newest first, with counts by status over all of them."""
        async with self.db.read() as conn:
            counts = {s: n for s, n in await conn.execute(
                select(D.c.status, func.count()).where(D.c.event_id == event_id).group_by(D.c.status))}
            rows = await conn.execute(select(D).where(D.c.event_id == event_id).order_by(D.c.at.desc(), D.c.key)
                                      .offset(offset).limit(limit))
            return DeliveryPage(total=sum(counts.values()), counts=counts, items=[_delivery(r) for r in rows])

    async def deliveries(self, event_id: str, page: int = 5000) -> AsyncIterator[DeliveryRecord]:
        """Every delivery of the event, oldest first, a page at a time."""
        after: tuple[datetime, str] | None = None
        while True:
            q = select(D).where(D.c.event_id == event_id)
            if after is not None:
                q = q.where((D.c.at > after[0]) | ((D.c.at == after[0]) & (D.c.key > after[1])))
            async with self.db.read() as conn:
                rows = list(await conn.execute(q.order_by(D.c.at, D.c.key).limit(page)))
            for r in rows:
                yield _delivery(r)
            if len(rows) < page:
                return
            after = (rows[-1].at, rows[-1].key)
