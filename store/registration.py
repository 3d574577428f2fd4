"""Places: open registration, capacity and the waiting list, decided by the database.

An event's places (``events.capacity``; none: no limit) are held by people whose RSVP is yes and by
places offered to someone from the waiting list until they confirm (``offer_expires_at``). Every
decision that takes a place runs in one write transaction that first locks the event's row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers),
so concurrent registrations never overbook: the first to commit gets the place, the rest join the
waiting list in the order they arrived.

A place freed (a no, an offer that lapsed) goes to the next person on the waiting list as an offer:
:meth:`Places.promote` marks it and returns who was offered; the caller tells them (the
``WaitlistOffer`` workflow sends the email and, at the offer's end, calls :meth:`Places.promote` again:
an offer not confirmed by then lapses and its place goes on).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.db import Database
from store.roster import to_db, utc
from store.schema import attendees as A
from store.schema import events as E
from workflows.messages import Attendee
from workflows.refusals import conflict, invalid

Status = Literal["registered", "waitlisted", "offered", "lapsed", "withdrawn"]


@dataclass(frozen=True)
class Place:
    """Where one person stands: their status, and their place in the waiting list (1 = next)."""

    attendee_id: str
    name: str
    status: Status | None
    rsvp: str | None
    waitlist_position: int | None = None
    offer_expires_at: datetime | None = None


@dataclass(frozen=True)
class Offer:
    """A place offered to someone from the waiting list, until `expires_at`."""

    event_id: str
    person: Attendee
    expires_at: datetime


def registrant_id(event_id: str, email: str) -> str:
    """The attendee id of someone who registered with `email` (the same address: the same person, so a
    repeated registration finds the first instead of adding a second)."""
    return "r-" + hashlib.sha256(f"{event_id}|{email.strip().casefold()}".encode()).hexdigest()[:16]


async def lock_event(conn: AsyncConnection, db: Database, event_id: str) -> Any:
    """The event's row, locked for this transaction on PostgreSQL (SQLite: the write lock is already held)."""
    query = select(E).where(E.c.event_id == event_id)
    if not db.is_sqlite:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


def holds_place(now: datetime) -> Any:
    """A person holding a place: their RSVP is yes, or a place offered to them has not lapsed."""
    return or_(A.c.rsvp == "yes", and_(A.c.registration == "offered", A.c.offer_expires_at > to_db(now)))


async def places_held(conn: AsyncConnection, event_id: str, now: datetime) -> int:
    return (await conn.execute(select(func.count()).select_from(A).where(
        A.c.event_id == event_id, holds_place(now)))).scalar_one()


async def waitlist_position(conn: AsyncConnection, event_id: str, waitlisted_at: datetime, position: int) -> int:
    ahead = (await conn.execute(select(func.count()).select_from(A).where(
        A.c.event_id == event_id, A.c.registration == "waitlisted",
        or_(A.c.waitlisted_at < to_db(waitlisted_at),
            and_(A.c.waitlisted_at == to_db(waitlisted_at), A.c.position < position))))).scalar_one()
    return ahead + 1


class Places:
    """Registration and the waiting list of events in the roster database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def register(self, event_id: str, name: str, email: str, locale: str | None, now: datetime) -> Place:
        """Register someone on an open event: a place if one is free, else the end of the waiting list.

        Registering again with the same address changes nothing and answers where they stand.

        Raises:
            ActRefused: ``invalid`` (no such event, or it is invite-only), ``conflict`` (it no longer takes
                registrations: over, cancelled, or its doors have opened).
        """
        attendee_id = registrant_id(event_id, email)
        async with self.db.write() as conn:
            event = await lock_event(conn, self.db, event_id)
            if event is None or event.registration != "open":
                raise invalid("this event does not take registrations")
            if event.status != "active" or event.on_site or utc(event.start) <= now:  # type: ignore[operator]
                raise conflict("registration for this event has closed")
            existing = await self._place(conn, event_id, attendee_id)
            if existing is not None:
                return existing
            free = event.capacity is None or await places_held(conn, event_id, now) < event.capacity
            last = (await conn.execute(select(func.max(A.c.position)).where(A.c.event_id == event_id))).scalar_one()
            await conn.execute(A.insert().values(
                event_id=event_id, attendee_id=attendee_id, position=(last or 0) + 1, name=name[:200],
                email=email.strip()[:254], locale=locale, category="other", key_client=False, needs=[],
                batch="registration", invited_at=to_db(now), invitation="skipped",
                rsvp="yes" if free else None, rsvp_at=to_db(now) if free else None,
                registration="registered" if free else "waitlisted", waitlisted_at=None if free else to_db(now)))
            place = await self._place(conn, event_id, attendee_id)
        assert place is not None
        return place

    async def answer(self, conn: AsyncConnection, event_id: str, attendee_id: str, response: str,
                     now: datetime) -> tuple[str, str] | None:
        """Apply an RSVP within the roster's act transaction, respecting the event's places (see
        :meth:`store.Roster.rsvp`): (summary, stage), or None when the person or the event does not take it.

        A yes takes a free place, confirms an offered place, or (no place free) joins the waiting list; a
        yes while waiting keeps the place in the list. A no gives a place back (and leaves the list).
        """
        event = await lock_event(conn, self.db, event_id)
        me = (await conn.execute(select(A).where(A.c.event_id == event_id, A.c.attendee_id == attendee_id))).first()
        if event is None or me is None or event.status != "active":
            return None
        values: dict[str, Any] = {"rsvp_at": to_db(now)}
        summary = f"{me.name} answered {response}"
        offered = me.registration == "offered" and utc(me.offer_expires_at) > now  # type: ignore[operator]
        if response == "yes" and me.rsvp != "yes":
            if offered:
                values |= {"rsvp": "yes", "registration": "registered", "offer_expires_at": None}
            elif me.registration == "waitlisted":
                n = await waitlist_position(conn, event_id, utc(me.waitlisted_at), me.position)  # type: ignore[arg-type]
                return f"{me.name} is on the waiting list (number {n})", event.stage
            elif event.capacity is None or await places_held(conn, event_id, now) < event.capacity:
                values |= {"rsvp": "yes", "offer_expires_at": None}
                if me.registration is not None:
                    values["registration"] = "registered"
            else:
                values |= {"registration": "waitlisted", "waitlisted_at": to_db(now), "offer_expires_at": None}
                summary = f"{me.name} answered yes; no place is free, so they joined the waiting list"
        elif response != "yes":
            values["rsvp"] = response
            if me.registration in ("waitlisted", "offered") and response == "no":
                values |= {"registration": "withdrawn", "offer_expires_at": None}
        await conn.execute(update(A).where(A.c.event_id == event_id, A.c.attendee_id == attendee_id).values(**values))
        return summary, event.stage

    async def promote(self, event_id: str, now: datetime) -> list[Offer]:
        """Offer every free place to the next people on the waiting list (offers that lapsed are closed
        first). Returns the offers made now; nothing when no place is free or nobody waits."""
        async with self.db.write() as conn:
            event = await lock_event(conn, self.db, event_id)
            if event is None or event.status != "active" or event.capacity is None or event.on_site:
                return []
            await conn.execute(update(A).where(
                A.c.event_id == event_id, A.c.registration == "offered", A.c.offer_expires_at <= to_db(now),
            ).values(registration="lapsed"))
            free = event.capacity - await places_held(conn, event_id, now)
            if free <= 0:
                return []
            nxt = list(await conn.execute(select(A).where(A.c.event_id == event_id, A.c.registration == "waitlisted")
                                          .order_by(A.c.waitlisted_at, A.c.position).limit(free)))
            expires = now + timedelta(hours=event.offer_hours)
            offers = []
            for row in nxt:
                await conn.execute(update(A).where(A.c.event_id == event_id, A.c.attendee_id == row.attendee_id)
                                   .values(registration="offered", offer_expires_at=to_db(expires)))
                offers.append(Offer(event_id=event_id, expires_at=expires, person=Attendee(
                    id=row.attendee_id, name=row.name, email=row.email, locale=row.locale)))
            return offers

    async def place(self, event_id: str, attendee_id: str) -> Place | None:
        async with self.db.read() as conn:
            return await self._place(conn, event_id, attendee_id)

    async def _place(self, conn: AsyncConnection, event_id: str, attendee_id: str) -> Place | None:
        row = (await conn.execute(select(A).where(A.c.event_id == event_id, A.c.attendee_id == attendee_id))).first()
        if row is None:
            return None
        position = None
        if row.registration == "waitlisted":
            position = await waitlist_position(conn, event_id, utc(row.waitlisted_at), row.position)  # type: ignore[arg-type]
        return Place(attendee_id=row.attendee_id, name=row.name, status=row.registration, rsvp=row.rsvp,
                     waitlist_position=position, offer_expires_at=utc(row.offer_expires_at))

    async def counts(self, event_id: str, now: datetime) -> dict[str, int]:
        """``held`` (yes or offered), ``waitlisted``, ``offered`` and ``capacity`` (0: no limit)."""
        async with self.db.read() as conn:
            event = (await conn.execute(select(E.c.capacity).where(E.c.event_id == event_id))).first()
            rows = dict(list(await conn.execute(select(A.c.registration, func.count()).where(
                A.c.event_id == event_id, A.c.registration.is_not(None)).group_by(A.c.registration))))
            held = await places_held(conn, event_id, now)
        return {"held": held, "waitlisted": rows.get("waitlisted", 0), "offered": rows.get("offered", 0),
                "capacity": (event.capacity if event and event.capacity else 0)}

