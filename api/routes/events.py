"""Events: start one, list and count them, read one, and the team's acts on one.

Each act route turns its body into the workflow's act, done by the caller as the
role :func:`api.auth.choose_role` picks, once per idempotency key (:mod:`api.acts`),
and answers the act's outcome (not the whole state). Attendee acts (inviting, RSVP, check-in, survey) and the
lists that grow with people are in :mod:`api.routes.roster`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowExecution
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.act_routes import add_act_routes
from api.auth import NotPermitted, administers, check_read, may_read, may_start, on_team, visibility_clause
from api.auth import Principal as PrincipalModel
from api.deps import (
    SAFE_ID,
    AppState,
    EventId,
    Language,
    Principal,
    Registry,
    State,
    Subscriptions,
    TemporalClient,
    Writer,
)
from api.errors import ACT_PROBLEMS as _PROBLEMS
from api.errors import Problem, TemporalUnavailable, conflict, invalid, not_found, to_problem
from api.models import (
    ActKey,
    ActOutcome,
    ActRefusal,
    Board,
    DateTime,
    EventPage,
    EventSummary,
    NewEvent,
)
from api.routes.outcomes import visible_lessons
from api.views import merged
from api.visibility import definition_of, state_for
from convene import reasons
from definitions import CANCELLED, CLOSED
from workflows import search
from workflows.client import list_query, start_event, state, workflow_id
from workflows.messages import (
    Act,
    ActResult,
    Decide,
    EarlierLesson,
    EventDetails,
    StateView,
)

router = APIRouter(prefix="/events", tags=["events"])
log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

IDENT = r"^[a-z][a-z0-9_]{0,63}$"
RESERVED_IDS = {"board"}
"""Ids that would collide with a route under /events."""



# --- start, read, list ------------------------------------------------------------------------


@router.post(
    "", status_code=201, response_model=StateView,
    responses={200: {"description": "The same event was already started with these details"}, **_PROBLEMS},
)
async def create_event(body: NewEvent, response: Response, client: TemporalClient, registry: Registry,
                       principal: Writer, app: State, subscriptions: Subscriptions) -> StateView:
    """Start an event (idempotent by id: the same details again answer 200, other details 409).

    Its ``organisation`` is the caller's (their identity provider's claim, or the tokens file's) unless
    given: another organisation takes a caller who administers it (403 otherwise).
    """
    definition = registry.get(body.kind)
    may_start(principal, definition, app.settings.creator_roles)
    event_id = body.id or uuid.uuid4().hex
    if event_id in RESERVED_IDS:
        raise invalid(f"{event_id!r} is reserved; choose another id")
    structlog.contextvars.bind_contextvars(event_id=event_id)
    organisation = body.organisation or principal.organisation
    if organisation and organisation != principal.organisation and not administers(principal, organisation):
        raise NotPermitted(f"starting an event of the organisation {organisation!r} takes one of its admins")
    details = EventDetails.model_validate({**body.model_dump(), "id": event_id, "organisation": organisation})
    # Who owns it, for the organisation's webhook subscriptions: recorded before the start (its first
    # notifications may go out at once), taken back if this request did not start it.
    owned = bool(organisation) and await subscriptions.own(event_id, organisation or "")
    started = False
    try:
        await start_event(client, details, definition, app.settings.task_queue, rpc_timeout=app.rpc_timeout)
        started = True
    except WorkflowAlreadyStartedError:
        existing = await state(client, event_id, rpc_timeout=app.rpc_timeout)
        if existing.event.model_dump() != details.model_dump() or not may_read(principal, existing.event, definition):
            # someone who may not read it learns no more than that the id is taken
            raise conflict(f"event {event_id} already exists with other details") from None
        response.status_code = 200
        return await _with_roster(app, existing)
    finally:
        if owned and not started:
            await subscriptions.disown(event_id)
    log.info("event started", kind=details.kind, by=principal.id)
    response.headers["Location"] = f"/events/{event_id}"
    view = await _with_roster(app, await state(client, event_id, rpc_timeout=app.rpc_timeout))
    return await _with_lessons(app, client, registry, principal, view)


async def _with_lessons(app: AppState, client: TemporalClient, registry: Registry, principal: PrincipalModel,
                        view: StateView) -> StateView:
    """The starter's answer carries the lessons earlier events of the kind left, those the starter may read
    (events that keep their roster in the database; the store is that database)."""
    if view.roster != "database":
        return view
    kept = await visible_lessons(app, client, registry, principal, view.kind, view.event.id)
    return view.model_copy(update={"earlier_lessons": [
        EarlierLesson(event_id=x.event_id, event_title=x.event_title, text=x.text, recorded_at=x.recorded_at)
        for x in kept]})


async def _with_roster(app: AppState, view: StateView) -> StateView:
    """The state, with what the roster database holds merged in when the event keeps its roster there."""
    app.events.remember(view)
    if view.roster != "database":
        return view
    await app.store_ready()
    return await merged(view, app.roster, app.journal)


def _at(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _visibility_query(stage: str | None, kind: str | None, at_risk: bool | None, owner: str | None,
                      start_from: datetime | None, start_to: datetime | None) -> str:
    query = list_query(stage=stage, kind=kind, at_risk=at_risk, owner=owner)
    if start_from is not None:
        query += f" AND {search.START.name} >= '{_at(start_from)}'"
    if start_to is not None:
        query += f" AND {search.START.name} <= '{_at(start_to)}'"
    return query


def _scoped(principal: PrincipalModel, query: str) -> str:
    """`query` kept to the events `principal` may read (:func:`api.auth.visibility_clause`), in the query."""
    clause = visibility_clause(principal, workflow_id)
    return f"{query} AND {clause}" if clause else query


def _encode_page_token(raw: bytes, query: str) -> str:
    tag = hashlib.sha256(query.encode()).hexdigest()[:16].encode()
    return base64.urlsafe_b64encode(tag + b"." + raw).decode().rstrip("=")


def _unknown_token(detail: str) -> Problem:
    return Problem(422, detail, slug="unknown-page-token")


def _decode_page_token(token: str, query: str) -> bytes:
    try:
        tag, _, raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).partition(b".")
    except (binascii.Error, ValueError):
        raise _unknown_token("page_token is not a token this API gave") from None
    if not raw or tag != hashlib.sha256(query.encode()).hexdigest()[:16].encode():
        raise _unknown_token("page_token belongs to another query; start again without it")
    return raw


def _summary(ex: WorkflowExecution) -> EventSummary:
    sa = ex.typed_search_attributes
    return EventSummary(
        id=ex.id.removeprefix(workflow_id("")),
        kind=sa.get(search.KIND),
        stage=sa.get(search.STAGE),
        start=sa.get(search.START),
        owner=sa.get(search.OWNER),
        escalation=sa.get(search.ESCALATION) or 0,
        at_risk=bool(sa.get(search.AT_RISK)),
        status=ex.status.name.lower() if ex.status is not None else "unknown",
        title=sa.get(search.TITLE),
        progress_done=sa.get(search.PROGRESS_DONE),
        progress_total=sa.get(search.PROGRESS_TOTAL),
        awaiting=list(sa.get(search.AWAITING) or []),
    )


StageQ = Annotated[str | None, Query(pattern=IDENT, description="Only events in this stage.")]
KindQ = Annotated[str | None, Query(pattern=IDENT, description="Only events of this kind.")]
AtRiskQ = Annotated[bool | None, Query(description="Only events (not) at risk.")]
OwnerQ = Annotated[str | None, Query(pattern=SAFE_ID, description="Only events of this owner.")]
FromQ = Annotated[DateTime | None, Query(description="Only events starting at or after this time.")]
ToQ = Annotated[DateTime | None, Query(description="Only events starting at or before this time.")]


@router.get("", response_model=EventPage, responses=_PROBLEMS)
async def list_events(
    client: TemporalClient, principal: Principal, app: State,
    stage: StageQ = None, kind: KindQ = None, at_risk: AtRiskQ = None, owner: OwnerQ = None,
    start_from: FromQ = None, start_to: ToQ = None,
    page_size: Annotated[int | None, Query(ge=1, le=1000)] = None,
    page_token: Annotated[str | None, Query(max_length=4096, pattern=r"^[A-Za-z0-9_-]+$",
                                                  description="next_page_token of the page before.")] = None,
) -> EventPage:
    """List events from the search attributes (one visibility query per page, none per event)."""
    query = _scoped(principal, _visibility_query(stage, kind, at_risk, owner, start_from, start_to))
    size = min(page_size or app.settings.default_page_size, app.settings.max_page_size)
    raw = _decode_page_token(page_token, query) if page_token else None
    pages = client.list_workflows(query, page_size=size, next_page_token=raw, rpc_timeout=app.rpc_timeout)
    try:
        await pages.fetch_next_page()
    except RPCError as err:
        if raw is not None and err.status == RPCStatusCode.INVALID_ARGUMENT:
            raise _unknown_token("page_token is no longer valid; start again without it") from None
        raise
    items = [_summary(ex) for ex in pages.current_page or []]
    token = _encode_page_token(pages.next_page_token, query) if pages.next_page_token else None
    return EventPage(items=items, next_page_token=token)


@router.get("/board", response_model=Board, responses=_PROBLEMS)
async def board(
    client: TemporalClient, principal: Principal, app: State, registry: Registry,
    kind: KindQ = None, at_risk: AtRiskQ = None, owner: OwnerQ = None, start_from: FromQ = None, start_to: ToQ = None,
) -> Board:
    """How many events are in each stage: one grouped count where the server can, else one count per stage."""
    query = _scoped(principal, _visibility_query(None, kind, at_risk, owner, start_from, start_to))
    total = (await client.count_workflows(query, rpc_timeout=app.rpc_timeout)).count
    stages: dict[str, int] | None = None
    if app.group_by_stage is not False:
        try:
            grouped = await client.count_workflows(f"{query} GROUP BY {search.STAGE.name}",
                                                   rpc_timeout=app.rpc_timeout)
            stages = {str(g.group_values[0]) if g.group_values else "": g.count for g in grouped.groups}
            app.group_by_stage = True
        except RPCError as err:
            if err.status != RPCStatusCode.INVALID_ARGUMENT:
                raise
            app.group_by_stage = False  # the dev server (SQL visibility) groups only by ExecutionStatus
    if stages is None:
        definitions = [registry.get(kind)] if kind and kind in registry.kinds() else list(registry)
        names = list(dict.fromkeys([s for d in definitions for s in d.path()] + [CLOSED, CANCELLED]))
        counts = await asyncio.gather(
            *(client.count_workflows(_scoped(principal, _visibility_query(name, kind, at_risk, owner, start_from,
                                                                           start_to)),
                                    rpc_timeout=app.rpc_timeout)
              for name in names)
        )
        stages = {name: c.count for name, c in zip(names, counts, strict=True) if c.count}
    return Board(total=total, stages=stages, other=max(total - sum(stages.values()), 0))


@router.get("/{event_id}", response_model=StateView, responses={
    **_PROBLEMS, 503: {"description": "Temporal or the database is unavailable"}})
async def get_event(event_id: EventId, client: TemporalClient, principal: Principal, app: State,
                    registry: Registry, language: Language) -> StateView:
    """Everything about one event: stage, tasks, gates with reasons, deadlines, attendee counts, audit.

    For an event whose roster is in the database (`roster: database`), the attendee counts, special
    needs, the newest 50 audit entries (attendee acts included; `audit_total` counts them all: page
    them with `GET /events/{id}/audit`), the newest 50 deliveries and the invitations' progress come
    from the database. Viewers see webhook URLs without credentials, query or fragment (any may carry
    a token). Only the event's team and principals granted it may read it (404 for anyone else, as for
    an unknown event); a confidential kind withholds contact details (:mod:`api.visibility`). Gate reasons
    are said in the request's language (`reason_messages` holds them as message ids).
    """
    raw = await state(client, event_id, rpc_timeout=app.rpc_timeout)
    definition = definition_of(registry, raw.kind)
    check_read(principal, raw.event, definition)
    view = state_for(principal, await _with_roster(app, raw), definition)
    return view.model_copy(update={"gates": reasons.localise_gates(view.gates, language)})


# --- acts -------------------------------------------------------------------------------------


@router.get("/{event_id}/acts/{key}", response_model=ActKey, responses=_PROBLEMS)
async def act_key(event_id: EventId, key: Annotated[str, Path(min_length=1, max_length=200)],
                  client: TemporalClient, principal: Principal, app: State) -> ActKey:
    """What became of the act sent with this idempotency key: ``pending`` (no answer yet), ``accepted`` (with its
    result: seq in the audit, stage after) or ``refused`` (with the answer given: status and reason).

    Only the sender, and the event's owner and team, see a key; to anyone else, as to an unknown or expired
    key, the answer is 404.
    """
    await app.store_ready()
    record = await app.act_keys.get(event_id, key, datetime.now(UTC))
    if record is not None and record.principal != principal.id:
        try:
            async with asyncio.timeout(app.settings.temporal_rpc_timeout_seconds):
                info = await app.events.get(client, event_id)
        except TimeoutError:
            raise TemporalUnavailable("the event did not answer in time") from None
        if not on_team(principal, info.details):
            record = None
    if record is None:
        raise not_found(f"no act with key {key!r} on event {event_id} (unknown, or older than the key window)")
    answer = record.answer or {}
    return ActKey(
        key=record.key, status=record.status,
        result=ActResult.model_validate(answer["result"]) if record.status == "accepted" else None,
        refusal=ActRefusal(status=record.http_status or 0, type=answer.get("type", ""), detail=answer.get("detail", ""))
        if record.status == "refused" else None,
        created_at=record.created_at, updated_at=record.updated_at, expires_at=record.expires_at,
    )


def _count_decisions(app: AppState, act: Act, outcome: ActOutcome | JSONResponse | None, error: BaseException | None) -> None:
    """Count gate decisions, accepted and refused (a replayed answer is not counted again)."""
    if not isinstance(act, Decide):
        return
    if error is not None:
        if to_problem(error).status in (403, 409, 422):  # refused, by the workflow or by the API's own checks
            app.metrics.decision(act.decision, accepted=False)
    elif isinstance(outcome, ActOutcome):
        app.metrics.decision(act.decision, accepted=True)


add_act_routes(router, _PROBLEMS, on_outcome=_count_decisions)
