"""What follows an answer about a place, started as durable workflows (:mod:`workflows.places`).

After a yes that holds a place the person gets their ticket by email; after a no, a free place goes to
the next person waiting; after a registration, its answer (a ticket, or their number on the waiting
list). Each is a workflow whose id says what it is for, so a resent request starts nothing twice and
a crash of the API after the database answered loses nothing the person's retry will not start.
"""

from __future__ import annotations

import hashlib

import structlog
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.places import person_notice
from api.deps import AppState
from store.registration import Place
from workflows.messages import Attendee, PromoteRequest

log = structlog.stdlib.get_logger("convene.api")


async def _start(client: Client, app: AppState, workflow: str, arg: object, workflow_id: str) -> None:
    try:
        await client.start_workflow(workflow, arg, id=workflow_id, task_queue=app.settings.task_queue,
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except WorkflowAlreadyStartedError:
        pass  # started by an earlier try of the same request: it does (or did) the work


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def after_answer(app: AppState, client: Client, event_id: str, attendee_id: str, response: str,
                       key: str) -> None:
    """After an RSVP: a ticket for a yes that holds a place; the next person waiting offered a freed place."""
    if response == "yes":
        record = await app.roster.person(event_id, attendee_id)
        facts = await app.roster.facts(event_id)
        if record is not None and record.rsvp == "yes" and facts is not None:
            notice = person_notice(facts, record.person, "ticket", "ticket")
            await _start(client, app, "SendNotices", [notice], f"notices-ticket-{event_id}-{attendee_id}")
    else:
        facts = await app.roster.facts(event_id)
        if facts is not None and facts.capacity is not None:  # places to pass on only where places are counted
            await _start(client, app, "WaitlistPromote", PromoteRequest(event_id=event_id),
                         f"promote-{event_id}-{_short(key)}")


async def after_registration(app: AppState, client: Client, event_id: str, place: Place, person: Attendee) -> None:
    """A registration's answer by email: the ticket (a place), or their number on the waiting list."""
    facts = await app.roster.facts(event_id)
    if facts is None:
        return
    if place.status == "registered":
        notice = person_notice(facts, person, "ticket", "ticket")
        await _start(client, app, "SendNotices", [notice], f"notices-ticket-{event_id}-{person.id}")
    elif place.status == "waitlisted":
        notice = person_notice(facts, person, "waitlist", "waitlist", {"waitlist_position": place.waitlist_position})
        await _start(client, app, "SendNotices", [notice], f"notices-waitlist-{event_id}-{person.id}")
