"""The event as the API shows it: the workflow's state, with what the roster database holds merged in.

An event whose roster lives in the database (``roster="database"``) keeps in its workflow
only what the definition bounds: the newest audit entries, no attendees, no deliveries.
:func:`merged` fills the view from the database (attendee counts, special needs, the newest
audit entries, attendee acts included, the newest deliveries, how far the invitations have
gone out), so a dashboard reads one answer as before. Events recorded before the database
(``roster="memory"``) are shown as their workflow says, and the pagers here page their
state the way the routes page the database.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import structlog
from sqlalchemy import select

from store import Journal, Roster
from store.schema import audit as AU
from workflows.messages import AuditEntry, DeliveryRecord, InvitationProgress, StateView

log = structlog.stdlib.get_logger("convene.api")

AUDIT_SHOWN = 50
"""Audit entries in the event view (the newest); the rest: ``GET /events/{id}/audit``."""
DELIVERIES_SHOWN = 50
"""Deliveries in the event view (the newest); the rest: ``GET /events/{id}/deliveries``."""
NEEDS_SHOWN = 200
"""Attendees with special needs in the event view (the reception's list), at most."""

Order = Literal["newest", "oldest"]


async def written_seq(journal: Journal, event_id: str) -> int:
    """The workflow's newest audit entry in the database (they are written in order, oldest first).

    Read by primary key (``wf:<seq, nine digits>``), not by scanning the event's audit.
    """
    async with journal.db.read() as conn:
        seq = (await conn.execute(
            select(AU.c.seq).where(AU.c.event_id == event_id, AU.c.entry >= "wf:", AU.c.entry < "wf;")
            .order_by(AU.c.entry.desc()).limit(1))).scalar()
    return seq or 0


def _newest_first(entries: list[AuditEntry]) -> list[AuditEntry]:
    return sorted(entries, key=lambda e: (e.at, e.seq), reverse=True)


async def merged(view: StateView, roster: Roster, journal: Journal) -> StateView:
    """`view` with the roster database's counts, special needs, attendees' questions, audit, deliveries and
    invitations."""
    if view.roster != "database":
        return view
    event_id = view.event.id
    counts = await roster.counts(event_id)
    needs = await roster.special_needs(event_id, NEEDS_SHOWN)
    questions = await roster.questions(event_id, NEEDS_SHOWN)
    progress = await roster.invitation_progress(event_id)
    # The workflow writes its entries in order, while these reads run: what was written is read first,
    # then the page, and the page's own newest entries count as written too (nothing shows twice or
    # goes missing whichever way a write falls between the two).
    written = await written_seq(journal, event_id)
    page = await journal.audit_page(event_id, 0, AUDIT_SHOWN, newest_first=True)
    written = max([written, *(e.seq for e in page.items)])
    deliveries = await journal.deliveries_page(event_id, 0, DELIVERIES_SHOWN)
    # entries the workflow recorded and has not written yet (a second or so behind, under load longer)
    unwritten = [e for e in view.audit if e.seq > written]
    audit = _newest_first(page.items + unwritten)[:AUDIT_SHOWN]
    attendees = view.attendees.model_copy(update=counts)
    return view.model_copy(update={
        "attendees": attendees,
        "special_needs": needs,
        "attendee_questions": questions,
        "audit": list(reversed(audit)),
        "audit_total": page.total + max(0, view.audit_total - written),
        "deliveries": list(reversed(deliveries.items)),
        "invitations": progress,
    })


def audit_of_state(view: StateView, offset: int, limit: int, order: Order) -> tuple[int, list[AuditEntry]]:
    """A page of the audit of an event that keeps it in its workflow."""
    entries = list(reversed(view.audit)) if order == "newest" else list(view.audit)
    return len(entries), entries[offset:offset + limit]


def deliveries_of_state(view: StateView, offset: int, limit: int) -> tuple[dict[str, int], list[DeliveryRecord]]:
    """A page of the deliveries an event keeps in its workflow, newest first, with counts by status."""
    newest = list(reversed(view.deliveries))
    return dict(Counter(d.status for d in newest)), newest[offset:offset + limit]


def invitations_of_state(view: StateView) -> InvitationProgress:
    """How far the invitations of an event that keeps its roster in its workflow went out, per person,
    from its invitation deliveries (keyed ``<event>:<cause>:<person>:<channel>``); a person is sent
    once one channel delivered."""
    outcome: dict[str, str] = {}
    rank = {"sent": 3, "failed": 2, "skipped": 1}
    for d in view.deliveries:
        if d.kind != "invitation":
            continue
        parts = d.key.split(":")
        person = parts[-2] if len(parts) >= 3 else d.key
        if rank.get(d.status, 0) > rank.get(outcome.get(person, ""), 0):
            outcome[person] = d.status
    by = Counter(outcome.values())
    invited = view.attendees.invited
    done = by["sent"] + by["failed"] + by["skipped"]
    return InvitationProgress(invited=invited, sent=by["sent"], failed=by["failed"], skipped=by["skipped"],
                              pending=max(0, invited - done))
