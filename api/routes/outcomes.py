"""Objectives, outcomes and lessons over HTTP.

Objectives (metric, baseline, target) are recorded in preparation, outcomes (agreements, leads, media items with
their reach, web and social figures) after the event; both are written to the database (:mod:`store.outcomes`,
idempotent by the request's key), then the event is sent their summary (``record_objectives``: how many of each),
which its ``objectives_recorded`` check reads. The act's key is the write's key with the revision, so a retry
after a success is the same act. Lessons are kept per kind (:mod:`store.lessons`): recorded here or kept by the
evaluation report from the lessons task's note, and read by the next events of the kind. Reads follow the
event's read rules; writes take the definition's ``manage_objectives`` roles (else its owner role).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError

from api.acts import perform
from api.auth import NotVisible, choose_role
from api.deps import AppState, EventId, IdempotencyKey, Principal, Registry, State, TemporalClient, Writer
from api.errors import ACT_PROBLEMS, READ_PROBLEMS, Problem
from api.models import ActOutcome
from api.visibility import readable
from store.lessons import TEXT_MAX, Lesson, Lessons
from store.outcomes import KeyReused, Metric, Outcomes, compare
from workflows.messages import Actor, EventDetails, RecordObjectives

router = APIRouter(prefix="/events", tags=["objectives"])
log = structlog.stdlib.get_logger("convene.api")

SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
ItemId = Annotated[str, Path(pattern=SAFE_ID, description="The id, chosen by the team (leads, press-daily...).")]
FIGURE = 1e12
"""The largest figure taken (targets, values, reach)."""


class ObjectiveIn(BaseModel):
    """An objective as it now stands: `metric` what is measured (its actual is read from the outcomes of its kind,
    or, for ``attendance``, from the people checked in), `baseline` where it stood before, `target` what is aimed
    at."""

    title: str = Field(min_length=1, max_length=300)
    metric: Metric
    baseline: float = Field(default=0, ge=0, le=FIGURE)
    target: float = Field(ge=0, le=FIGURE)
    key: str | None = Field(default=None, max_length=150)
    as_role: str | None = None


class _OutcomeFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    value: float = Field(default=1, ge=0, le=FIGURE, description="How many: 1 for one agreement or media item; "
                         "leads, visits, followers...")
    key: str | None = Field(default=None, max_length=150)
    as_role: str | None = None


class MediaOutcomeIn(_OutcomeFields):
    """A media item: `reach` its audience (null: not known)."""

    kind: Literal["media"]
    reach: int | None = Field(default=None, ge=0, le=int(FIGURE))


class OtherOutcomeIn(_OutcomeFields):
    """An agreement, leads, web or social figures (a reach is a media item's only)."""

    kind: Literal["agreement", "lead", "web", "social"]


OutcomeIn = Annotated[MediaOutcomeIn | OtherOutcomeIn, Field(discriminator="kind")]
"""One outcome as it now stands."""


class ObjectiveOut(BaseModel):
    objective_id: str
    title: str
    metric: str
    baseline: float
    target: float
    actual: float | None = Field(description="From the outcomes (or the people checked in); null: not measurable.")
    of_target: float | None = Field(description="The actual as a percentage of the target.")
    met: bool


class OutcomeOut(BaseModel):
    outcome_id: str
    kind: str
    title: str
    value: float
    reach: int | None
    version: int
    updated_by: str
    updated_at: datetime


class ResultsOut(BaseModel):
    """The event's objectives, each target against its actual, its outcomes and their revision (changes so far)."""

    objectives: list[ObjectiveOut]
    outcomes: list[OutcomeOut]
    revision: int


class LessonsIn(BaseModel):
    text: str = Field(min_length=1, max_length=TEXT_MAX, description="What the next event of this kind should know.")
    as_role: str | None = None


class LessonOut(BaseModel):
    event_id: str
    event_title: str
    text: str
    recorded_by: str
    recorded_at: datetime


class LessonsOut(BaseModel):
    """Lessons from earlier events of this event's kind, newest first (this event's own are not among them)."""

    kind: str
    lessons: list[LessonOut]


LESSONS_SHOWN = 5
"""At most this many earlier events' lessons are shown."""


async def visible_lessons(app: AppState, client: TemporalClient, registry: Registry, principal: Principal, kind: str,
                          but: str) -> list[Lesson]:
    """The newest lessons of `kind` (at most :data:`LESSONS_SHOWN`) from earlier events `principal` may read:
    another team's event, or a confidential one they are not on, shares nothing (read rules, as for the event)."""
    shown: list[Lesson] = []
    for lesson in await Lessons(app.database).for_kind(kind, but=but, limit=4 * LESSONS_SHOWN):
        try:
            await readable(app.events, client, registry, principal, lesson.event_id)
        except (NotVisible, RPCError):  # not theirs to read, or an event no longer known
            continue
        shown.append(lesson)
        if len(shown) == LESSONS_SHOWN:
            break
    return shown


def lesson_out(lesson: Lesson) -> LessonOut:
    return LessonOut(event_id=lesson.event_id, event_title=lesson.event_title, text=lesson.text,
                     recorded_by=lesson.recorded_by, recorded_at=lesson.recorded_at)


async def _write(event_id: str, body: ObjectiveIn | OutcomeIn | LessonsIn, client: TemporalClient,
                 registry: Registry, principal: Writer, app: AppState, key: str) -> tuple[str, EventDetails]:
    """The checks every write makes before writing: the event is readable, the caller holds a role that may
    record objectives, the event still takes acts. Returns (the role acted in, the event)."""
    await app.store_ready()
    info, definition = await readable(app.events, client, registry, principal, event_id)
    probe = RecordObjectives(key=key, actor=Actor(id=principal.id, role=body.as_role or principal.roles[0]),
                             revision=1, objectives=0, outcomes=0)
    role = choose_role(principal, definition, info.details, probe, body.as_role) if definition else probe.actor.role
    facts = await app.roster.facts(event_id)
    if facts is not None and facts.status != "active":
        raise Problem(409, f"the event is {facts.status}; it takes no more acts", slug="act-refused")
    return role, info.details


async def _tell(event_id: str, key: str, role: str, client: TemporalClient, registry: Registry, principal: Writer,
                app: AppState) -> ActOutcome | JSONResponse:
    results = await Outcomes(app.database).results(event_id)
    act_ = RecordObjectives(key=f"{key}:r{results.revision}", actor=Actor(id=principal.id, role=role),
                            revision=max(results.revision, 1), objectives=len(results.objectives),
                            outcomes=len(results.outcomes))
    return await perform(client, registry, app, principal, event_id, act_.key, role, act_)


def _reused(key: str) -> Problem:
    return Problem(422, f"Idempotency-Key {key!r} was used for another change on this event",
                   slug="idempotency-key-reused")


@router.put("/{event_id}/objectives/{objective_id}", name="record_objectives", response_model=ActOutcome,
            responses=ACT_PROBLEMS)
async def record_objective(event_id: EventId, objective_id: ItemId, body: ObjectiveIn, client: TemporalClient,
                           registry: Registry, principal: Writer, app: State,
                           idempotency_key: IdempotencyKey = None) -> ActOutcome | JSONResponse:
    """Record an objective, or change one (the whole objective as it now stands), and tell the event how many are
    recorded.

    Who: the definition's ``manage_objectives`` roles (else its owner role). Errors: 404, 403, 409 (the event takes
    no more acts), 422 (a bad body, a key used for another change).
    """
    key = idempotency_key or body.key or uuid.uuid4().hex
    role, _ = await _write(event_id, body, client, registry, principal, app, key)
    try:
        await Outcomes(app.database).put_objective(
            event_id=event_id, objective_id=objective_id, key=key, title=body.title, metric=body.metric,
            baseline=body.baseline, target=body.target, by=principal.id, at=datetime.now(UTC))
    except KeyReused:
        raise _reused(key) from None
    log.info("objective recorded", event_id=event_id, objective_id=objective_id)
    return await _tell(event_id, key, role, client, registry, principal, app)


@router.put("/{event_id}/outcomes/{outcome_id}", name="record_outcome", response_model=ActOutcome,
            responses=ACT_PROBLEMS)
async def record_outcome(event_id: EventId, outcome_id: ItemId, body: OutcomeIn, client: TemporalClient,
                         registry: Registry, principal: Writer, app: State,
                         idempotency_key: IdempotencyKey = None) -> ActOutcome | JSONResponse:
    """Record an outcome (an agreement, leads, a media item with its reach, web or social figures), or change
    one, and tell the event how many are recorded.

    Who and errors: as for objectives (a ``reach`` is taken for media items only: 422 otherwise).
    """
    key = idempotency_key or body.key or uuid.uuid4().hex
    role, _ = await _write(event_id, body, client, registry, principal, app, key)
    try:
        await Outcomes(app.database).put_outcome(
            event_id=event_id, outcome_id=outcome_id, key=key, kind=body.kind, title=body.title, value=body.value,
            reach=body.reach if isinstance(body, MediaOutcomeIn) else None, by=principal.id, at=datetime.now(UTC))
    except KeyReused:
        raise _reused(key) from None
    log.info("outcome recorded", event_id=event_id, outcome_id=outcome_id, outcome_kind=body.kind)
    return await _tell(event_id, key, role, client, registry, principal, app)


@router.get("/{event_id}/objectives", response_model=ResultsOut, responses=READ_PROBLEMS)
async def objectives(event_id: EventId, client: TemporalClient, registry: Registry, principal: Principal,
                     app: State) -> ResultsOut:
    """The event's objectives, each target against its actual, and the outcomes recorded."""
    await app.store_ready()
    await readable(app.events, client, registry, principal, event_id)
    results = await Outcomes(app.database).results(event_id)
    attendance = (await app.roster.counts(event_id))["checked_in"]
    return ResultsOut(
        objectives=[ObjectiveOut(**vars(c)) for c in compare(results, attendance)],
        outcomes=[OutcomeOut(outcome_id=o.outcome_id, kind=o.kind, title=o.title, value=o.value, reach=o.reach,
                             version=o.version, updated_by=o.updated_by, updated_at=o.updated_at)
                  for o in results.outcomes],
        revision=results.revision)


@router.put("/{event_id}/lessons", name="record_lessons", status_code=200, response_model=LessonOut,
            responses=ACT_PROBLEMS)
async def record_lessons(event_id: EventId, body: LessonsIn, client: TemporalClient, registry: Registry,
                         principal: Writer, app: State) -> LessonOut:
    """Keep the event's lessons for the next events of its kind (the same text again changes nothing; a new text
    replaces it). Who: the ``manage_objectives`` roles (else the owner role). Errors: 404, 403, 409, 422."""
    _, event = await _write(event_id, body, client, registry, principal, app, uuid.uuid4().hex)
    if not body.text.strip():
        raise Problem(422, "the lessons are empty")
    now = datetime.now(UTC)
    await Lessons(app.database).keep(kind=event.kind, event_id=event_id, event_title=event.title, text=body.text,
                                     by=principal.id, at=now)
    log.info("lessons kept", event_id=event_id, kind=event.kind)
    return LessonOut(event_id=event_id, event_title=event.title, text=body.text.strip(), recorded_by=principal.id,
                     recorded_at=now)


@router.get("/{event_id}/lessons", response_model=LessonsOut, responses=READ_PROBLEMS)
async def earlier_lessons(event_id: EventId, client: TemporalClient, registry: Registry, principal: Principal,
                          app: State) -> LessonsOut:
    """Lessons from earlier events of this event's kind that the caller may read (at most 5, newest first)."""
    await app.store_ready()
    info, _ = await readable(app.events, client, registry, principal, event_id)
    kept = await visible_lessons(app, client, registry, principal, info.details.kind, event_id)
    return LessonsOut(kind=info.details.kind, lessons=[lesson_out(x) for x in kept])
