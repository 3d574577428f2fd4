"""Attendees, and what grows with them: inviting, RSVPs, check-in, survey answers, the audit, the deliveries.

Events keep their roster in the database (``roster="database"``, every event started since it
exists). Their attendee acts are database transactions (:class:`store.Roster`), not workflow
updates: a door with many lanes checks people in far faster than one workflow takes updates.
Who may do them is checked as for every act (:func:`api.auth.choose_role`, with the event's
definition and team), from event details cached per process, so a check-in never asks the
workflow. Inviting writes the people to the roster first and tells the event in one small act
(:mod:`api.invitations`).

Events recorded before the database (``roster="memory"``) keep working as they did: their acts
are the workflow's updates and their lists its queries, until the workflow moves their roster.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Body, Path, Query, Request
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError

from api.attendees_csv import MAX_ROWS, EncodingError, read_attendees
from api.auth import Principal as PrincipalModel
from api.auth import choose_role
from api.bodies import ActIn
from api.deps import (
    SAFE_ID,
    AppState,
    EventId,
    IdempotencyKey,
    Journal,
    Principal,
    Registry,
    Roster,
    State,
    TemporalClient,
    Writer,
)
from api.errors import Problem, conflict
from api.eventinfo import EventInfo
from api.invitations import PAGE, content_key, in_database, invite, invite_pages
from api.models import (
    ActOutcome,
    AttendeesInviteIn,
    AuditPageOut,
    CheckInIn,
    DeliveryPageOut,
    ImportOutcome,
    InviteOutcome,
    RowProblem,
    RsvpIn,
    SurveyIn,
)
from api.places import after_answer
from api.views import audit_of_state, deliveries_of_state, invitations_of_state
from api.visibility import attendees_for, deliveries_for, readable
from definitions import Registry as DefinitionRegistry
from workflows.client import act, attendees, state
from workflows.messages import (
    Act,
    Actor,
    ActResult,
    AttendeePage,
    AttendeeQuery,
    CheckIn,
    InvitationBatchRef,
    InvitationProgress,
    InviteAttendees,
    RecordSurvey,
    Rsvp,
)

router = APIRouter(prefix="/events", tags=["attendees"])
log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

PersonId = Annotated[str, Path(pattern=SAFE_ID, description="The attendee's id.")]

_READ = {
    401: {"description": "No valid bearer token"},
    404: {"description": "No such event, or not one the caller may read (its team and those granted it)"},
    422: {"description": "A query parameter is invalid"},
    503: {"description": "Temporal or the database is unavailable (Retry-After says when to try again)"},
}
_ACT = {
    **_READ,
    403: {"description": "A viewer, or a caller holding no role allowed for this on this event's team"},
    409: {"description": "Not now (the event is over, check-in is not open, already checked in, the survey "
                         "waits for the end), or the idempotency key was used for another act"},
    422: {"description": "The body is invalid, or it names someone not invited to this event"},
}


# --- who acts, and where the roster is ------------------------------------------------------------


async def _checked(app: AppState, client: Client, registry: DefinitionRegistry, principal: PrincipalModel,
                   event_id: str, act_: Act, as_role: str | None) -> tuple[EventInfo, Act]:
    """The act done as the role the caller may do it as on this event (403 otherwise), from cached details."""
    info = await app.events.get(client, event_id)
    role = choose_role(principal, registry.get(info.kind), info.details, act_, as_role)
    return info, act_.model_copy(update={"actor": Actor(id=principal.id, role=role)})


async def _in_database(app: AppState, roster: Roster, event_id: str, info: EventInfo) -> bool:
    if info.roster == "database":
        return True
    if await in_database(roster, event_id, info.roster):  # its workflow moved the roster since it was read
        app.events.moved(event_id)
        return True
    return False


async def _moved(app: AppState, client: Client, event_id: str) -> bool:
    """After the workflow refused: has it moved its roster to the database since the event was read?"""
    app.events.forget(event_id)
    return (await app.events.get(client, event_id)).roster == "database"


def _key(header: str | None, body: ActIn | None) -> str:
    return header or (body.key if body else None) or uuid.uuid4().hex


DoAct = Callable[[str, Act, datetime], Awaitable[ActResult]]


async def _attendee_act(app: AppState, client: Client, registry: DefinitionRegistry, roster: Roster,
                        principal: PrincipalModel, event_id: str, body: ActIn | None, header_key: str | None,
                        build: Callable[[str, Actor], Act], do: DoAct) -> ActOutcome:
    """Check who may, then do the act in the roster database (or, for an event whose roster is still in its
    workflow, as its update); answer the act's result alone."""
    as_role = body.as_role if body else None
    probe = build(_key(header_key, body), Actor(id=principal.id, role=as_role or principal.roles[0]))
    info, act_ = await _checked(app, client, registry, principal, event_id, probe, as_role)
    database = await _in_database(app, roster, event_id, info)
    if not database:
        try:
            result = await act(client, event_id, act_, rpc_timeout=app.rpc_timeout)  # type: ignore[arg-type]
            app.metrics.attendee_act(result.act)  # a roster still in the workflow (the database's is counted there)
        except WorkflowUpdateFailedError:
            if not await _moved(app, client, event_id):
                raise
            database = True
    if database:
        result = await do(event_id, act_, datetime.now(UTC))
    log.info("act applied", act=result.act, role=act_.actor.role, stage=result.stage,
             roster="database" if database else "memory")
    return ActOutcome(result=result)


# --- inviting -------------------------------------------------------------------------------------


@router.post(
    "/{event_id}/attendees", response_model=InviteOutcome, response_model_exclude_none=True,
    responses={**_ACT, 409: {"description": "Everyone listed is invited already (`already invited: ...`), the "
                                            "event is over, or the idempotency key was used for other people"}},
)
async def invite_attendees(event_id: EventId, body: AttendeesInviteIn, client: TemporalClient, registry: Registry,
                           roster: Roster, principal: Writer, app: State,
                           idempotency_key: IdempotencyKey = None) -> InviteOutcome:
    """Invite up to 1,000 attendees (each gets an invitation with a calendar file); more go in pages.

    People already invited are left out and named in `skipped`; if nobody is new the answer is 409.
    The people are written to the roster first, then the event is told in one small act naming them
    as a batch, so a resend of the same Idempotency-Key answers the same (and invites nobody twice).
    """
    key = _key(idempotency_key, body)
    probe = InviteAttendees(key=key, actor=Actor(id=principal.id, role=body.as_role or principal.roles[0]),
                            reason=body.reason, batch=InvitationBatchRef(id=key, count=len(body.attendees)))
    info, checked = await _checked(app, client, registry, principal, event_id, probe, body.as_role)
    database = await _in_database(app, roster, event_id, info)
    if database:
        facts = await roster.facts(event_id)
        if facts is not None and facts.status != "active":
            raise conflict(f"the event is {facts.status}; it takes no more acts")
    done = await invite(client, roster, event_id, key=key, actor=checked.actor, people=body.attendees,
                        database=database, reason=body.reason, rpc_timeout=app.rpc_timeout)
    log.info("act applied", act="invite_attendees", role=checked.actor.role, invited=done.invited,
             skipped=len(done.skipped))
    return InviteOutcome(result=done.result, invited=done.invited, skipped=done.skipped)


_CSV_TYPES = {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel"}


@router.post(
    "/{event_id}/attendees/import", response_model=ImportOutcome,
    responses={
        **_ACT,
        409: {"description": "The event is over, or the idempotency key was used for another list"},
        413: {"description": "The file is larger than the import takes"},
        415: {"description": "The body is not CSV (send Content-Type: text/csv)"},
        422: {"description": "No row could be read: the answer lists the rows and why (`errors`)"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {
        "type": "string",
        "description": "A header row, then one attendee a row: id, name, email, category, key_client, locale, "
                       f"needs (`;`-separated), needs_note. Only id and name are required; at most {MAX_ROWS:,} "
                       "rows.",
        "example": "id,name,email,category\nann,Ann Lee,ann@example.org,partner\n"}}}}},
)
async def import_attendees(
    event_id: EventId, request: Request, client: TemporalClient, registry: Registry, roster: Roster,
    principal: Writer, app: State, idempotency_key: IdempotencyKey = None,
    as_role: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$",
                                         description="Act as this role (one the caller holds).")] = None,
    encoding: Annotated[str | None, Query(
        pattern=r"^[A-Za-z0-9_.:-]{1,40}$",
        description="The file's encoding (utf-8, gb18030, big5, cp1252, utf-16...). Default: the Content-Type's "
                    "charset if any, else detected (BOM, UTF-8, then the most plausible); the answer says "
                    "which.")] = None,
) -> ImportOutcome:
    """Invite the attendees of a CSV file, in pages of 1,000; the rows that cannot be read are listed.

    Each page is one invitation act keyed ``<key>.p<n>``, where the key is the Idempotency-Key or,
    without one, made from the ids listed: sending the same file again invites nobody twice and
    answers the same counts. People already invited are counted in `skipped`.
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _CSV_TYPES:
        raise Problem(415, "send the attendee list as CSV (Content-Type: text/csv)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > app.settings.import_max_bytes:
        raise Problem(413, f"the file is larger than {app.settings.import_max_bytes:,} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > app.settings.import_max_bytes:
            raise Problem(413, f"the file is larger than {app.settings.import_max_bytes:,} bytes")
    charset = next((p.split("=", 1)[1].strip().strip('"') for p in request.headers.get("content-type", "")
                    .split(";")[1:] if p.strip().lower().startswith("charset=")), None)
    try:
        read = read_attendees(bytes(raw), encoding=encoding or charset)
    except EncodingError as err:
        raise Problem(422, str(err), slug="undecodable") from None
    people, bad = read.attendees, read.errors
    decision = {"encoding": read.encoding, "encoding_how": read.encoding_how, "delimiter": read.delimiter}
    errors = [RowProblem(line=e.line, message=e.message) for e in bad]
    if not people:
        raise Problem(422, errors[0].message if errors else "the file lists nobody", slug="no-rows",
                      errors=[e.model_dump() for e in errors], **decision)
    key = idempotency_key or content_key(people)
    probe = InviteAttendees(key=key, actor=Actor(id=principal.id, role=as_role or principal.roles[0]),
                            batch=InvitationBatchRef(id=key, count=min(len(people), PAGE)))
    info, checked = await _checked(app, client, registry, principal, event_id, probe, as_role)
    database = await _in_database(app, roster, event_id, info)
    if database:
        facts = await roster.facts(event_id)
        if facts is not None and facts.status != "active":
            raise conflict(f"the event is {facts.status}; it takes no more acts")
    done = await invite_pages(client, roster, event_id, key=key, actor=checked.actor, people=people,
                              database=database, rpc_timeout=app.rpc_timeout)
    log.info("attendees imported", rows=len(people), invited=done.invited, skipped=len(done.skipped),
             pages=done.pages, refused_rows=len(errors), **decision)
    return ImportOutcome(rows=len(people), invited=done.invited, skipped=len(done.skipped),
                         skipped_ids=done.skipped[:100], pages=done.pages, errors=errors, **decision)


# --- RSVP, check-in, survey -------------------------------------------------------------------------


@router.post("/{event_id}/attendees/{attendee_id}/rsvp", response_model=ActOutcome,
             response_model_exclude_none=True, responses=_ACT)
async def rsvp(event_id: EventId, attendee_id: PersonId, body: RsvpIn, client: TemporalClient, registry: Registry,
               roster: Roster, principal: Writer, app: State, idempotency_key: IdempotencyKey = None) -> ActOutcome:
    """Record an attendee's answer (a change of mind replaces it). 422 for someone not invited.

    Within the event's places: a yes when none is free joins the waiting list (the message says so); a yes
    that holds a place sends the person their ticket; a no offers the freed place to the next person waiting.
    """
    outcome = await _attendee_act(app, client, registry, roster, principal, event_id, body, idempotency_key,
                                  lambda key, actor: Rsvp(key=key, actor=actor, reason=body.reason,
                                                          attendee_id=attendee_id, response=body.response),
                                  roster.rsvp)  # type: ignore[arg-type]
    await after_answer(app, client, event_id, attendee_id, body.response, outcome.result.key)
    return outcome


@router.post("/{event_id}/attendees/{attendee_id}/check-in", response_model=ActOutcome,
             response_model_exclude_none=True,
             responses={**_ACT, 409: {"description": "Check-in is not open (the event is not on site), or the "
                                                     "attendee was checked in already (saying when, by whom, "
                                                     "where), or the idempotency key was used for another act"}})
async def check_in(event_id: EventId, attendee_id: PersonId, client: TemporalClient, registry: Registry,
                   roster: Roster, principal: Writer, app: State,
                   body: Annotated[CheckInIn | None, Body()] = None,
                   idempotency_key: IdempotencyKey = None) -> ActOutcome:
    """Check an attendee in on site, once (optionally saying at which desk). 422 for someone not invited."""
    return await _attendee_act(app, client, registry, roster, principal, event_id, body, idempotency_key,
                               lambda key, actor: CheckIn(key=key, actor=actor, reason=body.reason if body else None,
                                                          attendee_id=attendee_id,
                                                          desk=body.desk if body else None),
                               roster.check_in)  # type: ignore[arg-type]


@router.post("/{event_id}/survey", response_model=ActOutcome, response_model_exclude_none=True,
             responses={**_ACT, 409: {"description": "The event has not ended yet, or it is over and takes no "
                                                     "more acts, or the idempotency key was used for another act"}})
async def record_survey(event_id: EventId, body: SurveyIn, client: TemporalClient, registry: Registry,
                        roster: Roster, principal: Writer, app: State,
                        idempotency_key: IdempotencyKey = None) -> ActOutcome:
    """Record survey responses (after the event's end); a respondent answering again replaces the answer."""
    return await _attendee_act(app, client, registry, roster, principal, event_id, body, idempotency_key,
                               lambda key, actor: RecordSurvey(key=key, actor=actor, reason=body.reason,
                                                               responses=body.responses),
                               roster.record_survey)  # type: ignore[arg-type]


# --- reading ------------------------------------------------------------------------------------------


Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.get("/{event_id}/attendees", response_model=AttendeePage, responses=_READ)
async def list_attendees(
    event_id: EventId, client: TemporalClient, principal: Principal, roster: Roster, app: State, registry: Registry,
    search: Annotated[str, Query(max_length=200, description="Part of an id, name or email.")] = "",
    rsvp: Annotated[Literal["yes", "no", "maybe", "none", "any"], Query(description="none: not answered yet.")] = "any",
    checked_in: Annotated[bool | None, Query(description="Only those (not) checked in.")] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AttendeePage:
    """A page of the event's attendees, in invitation order: the RSVP list and the check-in desk.

    The event view has only counts (an event can invite tens of thousands); this pages through the list.
    Viewers see webhook URLs without credentials, as in the event view; a confidential kind withholds
    contact details from those who do not need them (:mod:`api.visibility`).
    """
    info, definition = await readable(app.events, client, registry, principal, event_id)
    query = AttendeeQuery(search=search, rsvp=rsvp, checked_in=checked_in, offset=offset, limit=limit)
    if await _in_database(app, roster, event_id, info):
        page = await roster.page(event_id, query)
    else:
        try:
            page = await attendees(client, event_id, query, rpc_timeout=app.rpc_timeout)
        except WorkflowQueryFailedError:
            if not await _moved(app, client, event_id):
                raise
            page = await roster.page(event_id, query)
    return attendees_for(principal, page, info.details, definition)


@router.get("/{event_id}/audit", response_model=AuditPageOut, responses=_READ)
async def event_audit(
    event_id: EventId, client: TemporalClient, principal: Principal, journal: Journal, roster: Roster, app: State,
    registry: Registry,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    order: Annotated[Literal["newest", "oldest"], Query(description="newest: the latest entry first.")] = "newest",
) -> AuditPageOut:
    """A page of the event's whole audit: who did what, when and why, attendee acts included.

    The event view carries the newest 50 entries and `audit_total`; this pages through all of them.
    """
    info, _ = await readable(app.events, client, registry, principal, event_id)
    if await _in_database(app, roster, event_id, info):
        page = await journal.audit_page(event_id, offset, limit, newest_first=order == "newest")
        total, items = page.total, page.items
    else:
        total, items = audit_of_state(await state(client, event_id, rpc_timeout=app.rpc_timeout), offset, limit, order)
    return AuditPageOut(total=total, offset=offset, limit=limit, order=order, items=items)


@router.get("/{event_id}/deliveries", response_model=DeliveryPageOut, responses=_READ)
async def event_deliveries(
    event_id: EventId, client: TemporalClient, principal: Principal, journal: Journal, roster: Roster, app: State,
    registry: Registry,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryPageOut:
    """A page of the notifications sent for the event (newest first), with counts by status over all of them.

    Viewers see webhook addresses without credentials, query or fragment; a confidential kind withholds
    the addresses from those who do not need them.
    """
    info, definition = await readable(app.events, client, registry, principal, event_id)
    if await _in_database(app, roster, event_id, info):
        page = await journal.deliveries_page(event_id, offset, limit)
        counts, items, total = page.counts, page.items, page.total
    else:
        counts, items = deliveries_of_state(await state(client, event_id, rpc_timeout=app.rpc_timeout), offset, limit)
        total = sum(counts.values())
    items = deliveries_for(principal, items, info.details, definition)
    return DeliveryPageOut(total=total, counts=counts, offset=offset, limit=limit, items=items)


@router.get("/{event_id}/invitations", response_model=InvitationProgress, responses=_READ)
async def invitation_progress(event_id: EventId, client: TemporalClient, principal: Principal, roster: Roster,
                              app: State, registry: Registry) -> InvitationProgress:
    """How far the invitations have gone out: sent, failed, skipped (nowhere to send) and still pending."""
    info, _ = await readable(app.events, client, registry, principal, event_id)
    if await _in_database(app, roster, event_id, info):
        return await roster.invitation_progress(event_id)
    return invitations_of_state(await state(client, event_id, rpc_timeout=app.rpc_timeout))
