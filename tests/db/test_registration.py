"""Open registration, capacity and the waiting list, decided by the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store import Database, Roster
from store.registration import Places, registrant_id
from store.schema import attendees
from workflows.messages import Actor, EventFacts, Rsvp
from workflows.refusals import ActRefused

NOW = datetime(2030, 1, 1, 9, tzinfo=UTC)
EVENT = "open-day"


async def open_event(db: Database, capacity: int | None = 100, registration: str = "open", **more: object) -> None:
    await Roster(db).sync_event(EventFacts(
        event_id=EVENT, kind="conference", title="Open day", stage="promotion", status="active", on_site=False,
        start=NOW + timedelta(days=30), end=NOW + timedelta(days=31), timezone="UTC", locale="en",
        confidential=False, registration=registration, capacity=capacity, offer_hours=24, version=1, **more))


async def test_300_people_registering_at_once_for_100_places_never_overbook(db: Database) -> None:
    """300 concurrent registrations for 100 places: exactly 100 hold a place and 200 wait, numbered 1..200 in the
    order they arrived; registering again with the same address (another case) adds nobody."""
    await open_event(db)
    places = Places(db)
    arrivals = [NOW + timedelta(milliseconds=i) for i in range(300)]
    results = await asyncio.gather(*(places.register(EVENT, f"Person {i}", f"p{i}@example.org", None, at)
                                     for i, at in enumerate(arrivals)))
    assert sum(r.status == "registered" for r in results) == 100
    waiting = [r for r in results if r.status == "waitlisted"]
    assert len(waiting) == 200
    final = [await places.place(EVENT, r.attendee_id) for r in waiting]
    by_arrival = sorted(final, key=lambda p: int(p.name.split()[1]))
    assert [p.waitlist_position for p in by_arrival] == list(range(1, 201))
    again = await places.register(EVENT, "Person 0", "P0@Example.org ", None, NOW + timedelta(hours=1))
    assert again.attendee_id == registrant_id(EVENT, "p0@example.org") == results[0].attendee_id
    assert (await places.counts(EVENT, NOW))["held"] == 100
    async with db.read() as conn:
        assert len(list(await conn.execute(select(attendees.c.attendee_id)))) == 300


async def test_a_no_frees_a_place_that_goes_to_the_next_in_line_once(db: Database) -> None:
    """A registered person answers no: exactly one offer goes to number 1 of the list; it holds the place until
    it lapses, then number 2 is offered it; confirming an offer takes the place; nobody else moves."""
    await open_event(db, capacity=2)
    places, roster = Places(db), Roster(db)
    people = [await places.register(EVENT, f"P{i}", f"p{i}@example.org", None, NOW + timedelta(seconds=i))
              for i in range(5)]
    assert [p.status for p in people] == ["registered", "registered", "waitlisted", "waitlisted", "waitlisted"]
    me = Actor(id=people[0].attendee_id, role="guest")
    await roster.rsvp(EVENT, Rsvp(key="no-0", actor=me, attendee_id=people[0].attendee_id, response="no"), NOW)
    [offer] = await places.promote(EVENT, NOW)
    assert offer.person.id == people[2].attendee_id and offer.expires_at == NOW + timedelta(hours=24)
    assert await places.promote(EVENT, NOW) == []  # the offer holds the place
    # a waiting person's yes keeps them waiting; the offered one's yes within the offer confirms
    waiting = await roster.rsvp(EVENT, Rsvp(key="y-3", actor=me, attendee_id=people[3].attendee_id, response="yes"), NOW)
    assert "waiting list (number 1)" in waiting.message
    lapse = NOW + timedelta(hours=25)
    [second] = await places.promote(EVENT, lapse)  # number 2 (people[2]) let it lapse: number 3 is offered
    assert second.person.id == people[3].attendee_id
    assert (await places.place(EVENT, people[2].attendee_id)).status == "lapsed"
    await roster.rsvp(EVENT, Rsvp(key="y-3b", actor=me, attendee_id=people[3].attendee_id, response="yes"), lapse)
    now3 = await places.place(EVENT, people[3].attendee_id)
    assert (now3.status, now3.rsvp) == ("registered", "yes")
    assert (await places.counts(EVENT, lapse)) == {"held": 2, "waitlisted": 1, "offered": 0, "capacity": 2}


async def test_invitees_beyond_the_capacity_wait_too_and_invite_only_events_take_no_registrations(db: Database) -> None:
    """Another kind: an invite-only event with 1 place: the second yes joins the waiting list; nobody may
    register on it; a full event's registration refuses nothing but says they wait."""
    await open_event(db, capacity=1, registration="invite_only")
    roster = Roster(db)
    from workflows.messages import Attendee
    await roster.add(EVENT, "inv", [Attendee(id="ann", name="Ann"), Attendee(id="bob", name="Bob")], NOW)
    await roster.rsvp(EVENT, Rsvp(key="a", actor=Actor(id="x", role="pr"), attendee_id="ann", response="yes"), NOW)
    bob = await roster.rsvp(EVENT, Rsvp(key="b", actor=Actor(id="x", role="pr"), attendee_id="bob", response="yes"), NOW)
    assert "joined the waiting list" in bob.message
    assert (await Places(db).place(EVENT, "bob")).status == "waitlisted"
    with pytest.raises(ActRefused) as refused:
        await Places(db).register(EVENT, "Eve", "eve@example.org", None, NOW)
    assert refused.value.kind == "invalid"
