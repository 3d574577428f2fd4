"""The check-in desk: staff scan tickets (or type their code, or search a name) on a phone at the door.

``POST /events/{id}/check-in/scan`` takes the code a ticket's QR holds (an opaque signed ticket
link, :mod:`store.links`) and answers a verdict the desk shows in one colour:

* ``green``: checked in now (name, category, needs for the reception team, and where to go: the next
  agenda item's title, room and projected start, from the event's state);
* ``amber``: already checked in, saying when, by whom and at which desk;
* ``red``: not a ticket of this event (tampered, another event's, revoked), someone who declined,
  or check-in is not open.

The check-in itself is the same database act as ``POST /events/{id}/attendees/{aid}/check-in``
(one transaction, idempotent by the request's key), done as the role the caller may check people
in as (403 otherwise). Several desks scan at once: the database decides who was first.

``GET /ui/events/{id}/desk`` is the page (phone first, 390 px wide): the camera through the
browser's BarcodeDetector where it has one, else jsQR (served from our own static files, Apache
2.0), a field for a typed code, a name search, live counts.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.templating import Jinja2Templates

from api.auth import check_read
from api.bodies import IDENT
from api.deps import EventId, IdempotencyKey, Principal, Registry, Roster, State, TemporalClient, Writer
from api.routes.personal import language, texts
from api.routes.roster import _checked
from api.visibility import definition_of
from convene.settings import link_key
from store import LinkRefused, Links
from workflows.client import state
from workflows.lifecycle import ActRefused
from workflows.messages import Actor, AgendaItemView, CheckIn

router = APIRouter(tags=["attendees"])
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


class ScanIn(BaseModel):
    code: str = Field(min_length=1, max_length=200, description="What the ticket's QR code holds, or typed.")
    desk: str | None = Field(default=None, max_length=64, description="Which desk or lane scans.")
    as_role: str | None = Field(default=None, pattern=IDENT, max_length=64,
                                description="Act in this one of the caller's roles (a role id, as the definition spells it).")


class NextItem(BaseModel):
    """Where a guest checked in now goes: the agenda item running or next to start."""

    title: str
    room: str
    start: datetime = Field(description="Its projected start (planned start shifted by overruns), ISO 8601.")


def next_item(agenda: list[AgendaItemView], now: datetime) -> NextItem | None:
    """The item not done whose projected end is after `now`, earliest projected start first (a running item
    before the next one); None without an agenda or after its last item."""
    ahead = [v for v in agenda if v.status != "done"
             and v.projected_start + timedelta(minutes=v.item.minutes) > now]
    if not ahead:
        return None
    v = min(ahead, key=lambda v: (v.projected_start, v.item.id))
    return NextItem(title=v.item.title, room=v.item.room, start=v.projected_start)


class ScanOutcome(BaseModel):
    verdict: Literal["green", "amber", "red"]
    message: str = Field(description="What the desk shows, in English (the page words it in its language).")
    reason: Literal["checked_in", "already", "not_a_ticket", "declined", "not_open", "not_invited"]
    attendee_id: str | None = None
    name: str | None = None
    category: str | None = None
    needs: list[str] = Field(default_factory=list)
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    desk: str | None = None
    next_item: NextItem | None = Field(default=None, description="Green only: where to go next (null: no agenda "
                                       "item ahead, or the state could not be read).")
    counts: dict[str, int] = Field(default_factory=dict, description="invited, rsvp_yes, checked_in now.")


@router.post("/events/{event_id}/check-in/scan", response_model=ScanOutcome,
             responses={401: {"description": "No valid bearer token"},
                        403: {"description": "The caller may not check people in on this event"},
                        404: {"description": "No such event"},
                        503: {"description": "Temporal or the database is unavailable"}})
async def scan(event_id: EventId, body: Annotated[ScanIn, Body()], client: TemporalClient, registry: Registry,
               roster: Roster, principal: Writer, app: State, idempotency_key: IdempotencyKey = None) -> ScanOutcome:
    """Check in the holder of a ticket: green (now), amber (already, when / by whom / where) or red (why not).

    A red or amber verdict changes nothing. Send the same Idempotency-Key when resending one scan.
    """
    key = idempotency_key or uuid.uuid4().hex
    probe = CheckIn(key=f"scan:{key}"[:200], actor=Actor(id=principal.id, role=body.as_role or principal.roles[0]),
                    attendee_id="probe", desk=body.desk)
    _, checked = await _checked(app, client, registry, principal, event_id, probe, body.as_role)

    def red(reason: str, message: str, **more: object) -> ScanOutcome:
        return ScanOutcome(verdict="red", reason=reason, message=message, **more)  # type: ignore[arg-type]

    try:
        link = await Links(app.database, link_key(app.settings)).open(body.code.strip())
    except LinkRefused as refused:
        return red("not_a_ticket", f"not a valid ticket ({refused.reason})", counts=await roster.counts(event_id))
    if link.purpose != "ticket" or link.event_id != event_id:
        return red("not_a_ticket", "not a ticket for this event", counts=await roster.counts(event_id))
    person = await roster.person(event_id, link.person_id)
    if person is None:
        return red("not_invited", "not on this event's list", counts=await roster.counts(event_id))
    who = {"attendee_id": person.person.id, "name": person.person.name, "category": person.person.category,
           "needs": list(person.person.needs)}
    if person.rsvp == "no":
        return red("declined", f"{person.person.name} declined", counts=await roster.counts(event_id), **who)
    act_ = checked.model_copy(update={"attendee_id": person.person.id})
    try:
        await roster.check_in(event_id, act_, datetime.now(UTC))  # type: ignore[arg-type]
    except ActRefused as refused:
        now = await roster.person(event_id, link.person_id)
        counts = await roster.counts(event_id)
        if now is not None and now.checked_in_at is not None:
            return ScanOutcome(verdict="amber", reason="already", message=refused.message, counts=counts,
                               checked_in_at=now.checked_in_at, checked_in_by=now.checked_in_by,
                               desk=now.checked_in_desk, **who)
        return red("not_open", refused.message, counts=counts, **who)
    now = await roster.person(event_id, link.person_id)
    return ScanOutcome(verdict="green", reason="checked_in", message=f"{person.person.name} checked in",
                       checked_in_at=now.checked_in_at if now else None, checked_in_by=principal.id,
                       desk=body.desk, counts=await roster.counts(event_id),
                       next_item=await _where_to_go(client, event_id, app), **who)


async def _where_to_go(client: TemporalClient, event_id: str, app: State) -> NextItem | None:
    """The next agenda item from the event's state; None when the state cannot be read (the guest is checked
    in all the same: guidance never fails a check-in)."""
    try:
        view = await state(client, event_id, rpc_timeout=app.rpc_timeout)
    except Exception:  # noqa: BLE001 - the check-in is done; only the guidance is missing
        return None
    return next_item(view.agenda, datetime.now(UTC))


@router.get("/events/{event_id}/check-in/counts", response_model=dict[str, int],
            responses={401: {"description": "No valid bearer token"},
                       404: {"description": "No such event, or not the caller's to read"}})
async def counts(event_id: EventId, client: TemporalClient, registry: Registry, roster: Roster,
                 principal: Principal, app: State) -> dict[str, int]:
    """``invited``, ``rsvp_yes``, ``rsvp_no``, ``rsvp_maybe``, ``checked_in``: the desk's live counts (for those
    who may read the event)."""
    info = await app.events.get(client, event_id)
    check_read(principal, info.details, definition_of(registry, info.kind))
    return await roster.counts(event_id)


@router.get("/ui/events/{event_id}/desk", response_class=HTMLResponse, include_in_schema=False)
async def desk_page(event_id: EventId, request: Request) -> Response:
    """The desk's page (a public shell: the browser calls the API with the signed-in person's token)."""
    lang = language(request.query_params.get("lang"), accept=request.headers.get("accept-language", ""))
    return TEMPLATES.TemplateResponse(request, "desk.html", {
        "lang": lang, "t": dict(texts(lang, "desk")), "event_id": event_id,
        "desk": (request.query_params.get("desk") or "")[:64]})
