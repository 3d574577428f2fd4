"""Events for the browser tests, put where each test needs them through the Temporal client."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from temporalio.client import Client

from store import Database, Roster
from tests.support import (
    APPROVER,
    FINANCE,
    PLANNER,
    PR,
    SPONSOR,
    VENUE,
    Driver,
    conference,
    day_one,
    key,
    start_conference,
    team,
)
from workflows.client import act, state
from workflows.messages import (
    AgendaItem,
    Attendee,
    AttendeeQuery,
    BudgetLine,
    Cancel,
    Decide,
    InviteAttendees,
    InviteSpeaker,
    Person,
    RecordBudget,
    Rsvp,
    SetAgenda,
    SpeakerReply,
)

OWNERS = ["olivia", "mateo", "amara", "kenji", "lena", "tariq"]
TITLES = ["Lyon Developer Summit", "Nordic Data Forum", "Aurora Product Launch", "Asia Partner Days",
          "Open Source Week", "Health Tech Symposium", "Retail Futures", "Climate Finance Forum",
          "Security Leaders Meetup", "Mobility Expo", "AI in Practice", "Supply Chain Summit"]


def owner() -> str:
    """A fresh owner id: filtering the board by it shows one test's events only."""
    return f"{random.choice(OWNERS)}-{uuid.uuid4().hex[:4]}"


async def awaiting_budget(client: Client, task_queue: str, *, title: str, owner_id: str = "pia",
                          days_ahead: int = 120, planned: str = "40000", **details_: Any) -> str:
    """A conference whose preparation is done but for the finance approver's budget decision (``details_``:
    more of its EventDetails, e.g. ``locale``)."""
    event_id = f"e2e-{uuid.uuid4().hex[:10]}"
    details = conference(datetime.now(timezone.utc), event_id=event_id, title=title, owner=owner_id,
                         days_ahead=days_ahead, **details_)
    await start_conference(client, task_queue, details)
    d = Driver(client, event_id)
    await d.tasks(d.pm, "theme_purpose", "date_checked", "team_assigned")
    await d.tasks(VENUE, "site_inspection", "venue_booked")
    await d.do(RecordBudget(key=key("budget"), actor=FINANCE, lines=[
        BudgetLine(category="venue", planned=Decimal(planned)),
        BudgetLine(category="catering", planned=Decimal("30000")),
        BudgetLine(category="contingency", planned=Decimal("8000")),
    ]))
    await d.tasks(FINANCE, "budget_draft")
    return event_id


async def rich_event(client: Client, task_queue: str, db: Database, **details_: Any) -> str:
    """A conference in planning with something in every section: budget with actuals, speakers, RSVPs,
    an agenda, escalations fired on a missed deadline, and an audit log with reasons (``details_``: other
    EventDetails than the Lyon summit's, e.g. a Chinese ``title``, ``venue`` and ``locale``)."""
    event_id = f"e2e-rich-{uuid.uuid4().hex[:8]}"
    details = conference(datetime.now(timezone.utc), event_id=event_id, **{
        "title": "Lyon Developer Summit 2027", "days_ahead": 47, "venue": "Cité Internationale, Lyon",
        "expected_attendees": 400, "budget_limit": Decimal("120000"), **details_})
    await start_conference(client, task_queue, details)
    d = Driver(client, event_id)
    await d.tasks(d.pm, "theme_purpose", "date_checked", "team_assigned")
    await d.tasks(VENUE, "site_inspection", "venue_booked")
    lines = [("venue", "45000", "47200"), ("catering", "38000", "21000"), ("equipment", "12000", "12500"),
             ("transport", "6000", None), ("programme", "8000", "3000"), ("printing", "2500", "2100"),
             ("contingency", "7000", None)]
    await d.do(RecordBudget(key=key("budget"), actor=FINANCE, reason="v2 after the site inspection", lines=[
        BudgetLine(category=c, planned=Decimal(p), actual=Decimal(a) if a else None) for c, p, a in lines]))
    await d.tasks(FINANCE, "budget_draft")
    await d.do(Decide(key=key("approve"), actor=APPROVER,
                      gate="budget_approved", decision="approve", reason="within the limit, contingency kept"))
    speakers = [("kim", "Kim Keynote", "keynote", "accepted"), ("lee", "Lee Chen", "session", "accepted"),
                ("max", "Max Weber", "panel", "declined"), ("zoe", "Zoe Martin", "session", None)]
    for sid, name, slot, answer in speakers:
        await d.do(InviteSpeaker(key=key("spk"), actor=PLANNER, slot=slot,  # type: ignore[arg-type]
                                 speaker=Person(id=sid, name=name, email=f"{sid}@example.org")))
        if answer:
            await d.do(SpeakerReply(key=key("reply"), actor=PLANNER, speaker_id=sid, response=answer))  # type: ignore[arg-type]
    guests = [Attendee(id=f"guest-{i}", name=f"Guest {i}", email=f"guest{i}@example.org",
                       category="partner" if i % 3 else "expert") for i in range(12)]
    await d.do(InviteAttendees(key=key("inv"), actor=PR, attendees=guests))
    roster = Roster(db)  # RSVPs are roster transactions: once the invitations' activity has added the guests
    async with asyncio.timeout(30):
        while (await roster.page(event_id, AttendeeQuery(limit=1))).total < len(guests) \
                or await roster.facts(event_id) is None:
            await asyncio.sleep(0.1)
    for i, answer in enumerate(["yes"] * 7 + ["maybe"] * 2 + ["no"]):
        await roster.rsvp(event_id, Rsvp(key=key("rsvp"), actor=PR, attendee_id=f"guest-{i}",
                                         response=answer), datetime.now(timezone.utc))  # type: ignore[arg-type]
    start = (await d.state()).event.start
    items = day_one(start)[:-1] + [  # the day's closing moves after the panel: the agenda ends with it
        AgendaItem(id="lunch", kind="meal", title="Lunch", start=start + timedelta(minutes=190), minutes=60),
        AgendaItem(id="panel", kind="panel", title="Operating events at scale", start=start + timedelta(minutes=260),
                   minutes=50, speaker_id="lee"),
        day_one(start)[-1].model_copy(update={"start": start + timedelta(minutes=320)}),
    ]
    await d.do(SetAgenda(key=key("agenda"), actor=PLANNER, items=items))
    await d.tasks(PLANNER, "agenda_final")
    await d.tasks(PR, "contact_named")
    return event_id


def destination(i: int) -> str | None:
    """Where the i-th event of a board is walked to (None: it stays in preparation).

    A few go far: every gate passed on the way is one update, and the dev server takes a few dozen a second.
    """
    if i % 20 == 1:
        return "planning"
    if i % 50 == 3:
        return "promotion"
    if i % 100 == 13:
        return "on_site"
    if i % 100 == 17:
        return "post_event"
    if i == 27:
        return "closed"
    return None


async def walk_to(client: Client, event_id: str, stage: str) -> None:
    """Waive every open gate of each stage until the event reaches `stage` (the sponsor may waive any gate)."""
    for _ in range(8):
        view = await state(client, event_id)
        if view.stage == stage or view.status != "active":
            return
        await asyncio.gather(*(  # sent together: the event may take them in one workflow task
            act(client, event_id, Decide(key=key("w"), actor=SPONSOR, gate=gate.id, decision="waive",
                                         reason="fast-tracked"))
            for gate in view.gates if gate.stage == view.stage and gate.status not in ("passed", "waived")))


async def board_of(client: Client, task_queue: str, count: int, owner_id: str) -> dict[str, int]:
    """`count` events of one owner across stages and kinds; answers how many are in each stage.

    One in seven starts 50 days out: its budget deadline (start-60d) has passed, so it is at risk
    until its preparation gates are met (or waived).
    """
    now = datetime.now(timezone.utc)
    events = []
    for i in range(count):
        kind = "product_launch" if i % 9 == 4 else "conference"
        days = 50 if i % 7 == 3 else 90 + (i * 3) % 200
        events.append(conference(now, event_id=f"b-{owner_id}-{i:03d}", owner=owner_id, kind=kind, days_ahead=days,
                                 title=f"{TITLES[i % len(TITLES)]} {2027 + i % 3}",
                                 team=team() if kind == "conference" else {}))
    for batch in range(0, count, 50):
        await asyncio.gather(*(start_conference(client, task_queue, e) for e in events[batch:batch + 50]))
    targets = {e.id: stage for i, e in enumerate(events) if (stage := destination(i))}
    cancelled = [e.id for i, e in enumerate(events) if i % 23 == 7 and e.id not in targets]
    await asyncio.gather(*(walk_to(client, event_id, stage) for event_id, stage in targets.items()))
    await asyncio.gather(*(act(client, i, Cancel(key=key("c"), actor=SPONSOR, reason="merged with another event"))
                           for i in cancelled))
    stages = {"preparation": count - len(targets) - len(cancelled), "cancelled": len(cancelled)}
    for stage in targets.values():
        stages[stage] = stages.get(stage, 0) + 1
    return stages
