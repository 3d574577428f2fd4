"""The team's acts over HTTP, made from the act classes: one table of routes, one route maker.

An act is declared once, by its class in :mod:`workflows.messages.acts`. Here each act gets its route:

- its **body** is derived from the act's model (:func:`act_body`): the act's own fields, constraints and
  descriptions, less what the server fills (``key``, ``actor``) and what the path names, plus the API's
  ``key`` and ``as_role``. Nothing is retyped, so the body cannot drift from what the workflow accepts;
  the act's own validators run on the act built from it (a refusal there is a 422, like the body's).
- its **path** is in :data:`ROUTES` when it has a better one than the default,
  ``POST /events/{event_id}/acts/<update>``, which every act without one gets.

Acts on the roster (inviting attendees, RSVP, check-in, survey) are database transactions with routes of
their own (:mod:`api.routes.roster`), with bodies derived the same way.
"""

from __future__ import annotations

import hashlib
import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from fastapi.responses import JSONResponse

from api.acts import perform
from api.bodies import AFTER, ActIn, act_body, act_from_body
from api.deps import SAFE_ID, AppState, EventId, IdempotencyKey, Registry, State, TemporalClient, Writer
from api.models import ActOutcome
from workflows.messages import (
    ACT_NAMES,
    AcknowledgeIncident,
    AcknowledgePapers,
    Act,
    Actor,
    Cancel,
    ChangeItem,
    CheckIn,
    CompleteTask,
    Decide,
    EndItem,
    InviteAttendees,
    InviteSpeaker,
    Postpone,
    RecordBudget,
    RecordDocument,
    RecordEmergencyPlan,
    RecordObjectives,
    RecordRisks,
    RecordSurvey,
    RemoveBudgetLine,
    ReportIncident,
    ResolveIncident,
    Rsvp,
    SendBack,
    SetAgenda,
    SpeakerItinerary,
    SpeakerReply,
    StartItem,
)

IDENT = r"^[a-z][a-z0-9_]{0,63}$"
"""Ids of roles, gates, tasks, stages and budget categories, as definitions spell them."""

@dataclass(frozen=True)
class ActRoute:
    """Where an act is served: method and path under ``/events``, and how its body differs from its model."""

    model: type[Act]
    method: str
    path: str
    params: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Path parameters: name in the path -> (the act field it fills, its pattern)."""
    flatten: str | None = None
    made_up: dict[str, Callable[[str], Any]] = field(default_factory=dict)
    """Act fields the body may leave out, made from the idempotency key (so a retried request is the same act)."""
    summary: str | None = None
    schema_extra: dict[str, Any] = field(default_factory=dict)
    """Added to the body's JSON Schema: the cross-field rules of :data:`api.bodies.AFTER`."""


def _incident_id(key: str) -> str:
    return f"inc-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


ROUTES: list[ActRoute] = [
    ActRoute(Decide, "POST", "/{event_id}/decisions",
             summary="Approve, reject or waive a gate, as the caller's role among the gate's approvers."),
    ActRoute(CompleteTask, "POST", "/{event_id}/tasks/{task_id}/complete", {"task_id": ("task", IDENT)},
             summary="Mark a task of the current stage done."),
    ActRoute(RecordBudget, "POST", "/{event_id}/budget",
             summary="Record budget lines (each category replaces its earlier line)."),
    ActRoute(RemoveBudgetLine, "DELETE", "/{event_id}/budget/{category}", {"category": ("category", IDENT)},
             summary="Remove a budget line recorded by mistake."),
    ActRoute(InviteSpeaker, "POST", "/{event_id}/speakers", summary="Invite a speaker to a slot."),
    ActRoute(SpeakerReply, "POST", "/{event_id}/speakers/{speaker_id}/reply", {"speaker_id": ("speaker_id", SAFE_ID)},
             summary="Record a speaker's answer."),
    ActRoute(SpeakerItinerary, "POST", "/{event_id}/speakers/{speaker_id}/itinerary",
             {"speaker_id": ("speaker_id", SAFE_ID)}, flatten="itinerary",
             summary="Record an accepted speaker's itinerary (arrival, lodging, pick-up, meals): the speaker is "
                     "confirmed."),
    ActRoute(SetAgenda, "PUT", "/{event_id}/agenda",
             summary="Replace the agenda (checked for overlaps and buffer by the agenda gate)."),
    ActRoute(StartItem, "POST", "/{event_id}/agenda/{item_id}/start", {"item_id": ("item_id", SAFE_ID)},
             summary="On the day: an agenda item starts now (an overrun is warned of)."),
    ActRoute(EndItem, "POST", "/{event_id}/agenda/{item_id}/end", {"item_id": ("item_id", SAFE_ID)},
             summary="On the day: an agenda item ends now."),
    ActRoute(ChangeItem, "POST", "/{event_id}/agenda/{item_id}/change", {"item_id": ("item_id", SAFE_ID)},
             summary="On the day: shorten, extend, move, swap or drop an agenda item, with a reason (the projected "
                     "times follow; the speakers of the items whose time changed are told)."),
    ActRoute(ReportIncident, "POST", "/{event_id}/incidents", made_up={"incident_id": _incident_id},
             summary="Record an incident (a high one is escalated at once). Without an ``incident_id`` one is made "
                     "from the idempotency key, so a retried report (same key) is the same act, answered as the "
                     "first, rather than a second incident refused as a conflict."),
    ActRoute(AcknowledgeIncident, "POST", "/{event_id}/incidents/{incident_id}/acknowledge",
             {"incident_id": ("incident_id", SAFE_ID)},
             summary="Acknowledge an incident (stops its escalation), optionally saying what is being done."),
    ActRoute(ResolveIncident, "POST", "/{event_id}/incidents/{incident_id}/resolve",
             {"incident_id": ("incident_id", SAFE_ID)}, summary="Mark an incident resolved."),
    ActRoute(RecordEmergencyPlan, "PUT", "/{event_id}/emergency-plan",
             summary="Replace the emergency plan: per incident category, the owner role, the person and phone that "
                     "reach it on the day, and the first steps. Incidents reported without an owner take the plan's."),
    ActRoute(SendBack, "POST", "/{event_id}/send-back",
             summary="Send the event back to an earlier stage (its decisions are reopened)."),
    ActRoute(Postpone, "POST", "/{event_id}/postpone", schema_extra={AFTER: {"new_end": "new_start"}},
             summary="Move the event later; every deadline moves with it. ``new_end`` must be later than "
                     "``new_start``."),
    ActRoute(Cancel, "POST", "/{event_id}/cancel",
             summary="Cancel the event: everyone confirmed is told and bookings are released."),
]
"""The acts with a path of their own. Any other act is served at ``POST /events/{event_id}/acts/<update>``."""

ROUTED_ELSEWHERE = {InviteAttendees, Rsvp, CheckIn, RecordSurvey, RecordDocument, AcknowledgePapers, RecordRisks,
                    RecordObjectives}
"""Acts whose routes write the database first and have routes of their own: the roster's (:mod:`api.routes.roster`:
database transactions), a document's upload and its receipts (:mod:`api.routes.documents`, :mod:`api.routes.papers`)
the risk register (:mod:`api.routes.risks`) and the objectives and outcomes (:mod:`api.routes.outcomes`), which tell the workflow the small fact its gates need."""

Outcome = Callable[[AppState, Act, ActOutcome | JSONResponse | None, BaseException | None], None]
"""Told of every act's outcome (the app, the act, its answer or the refusal raised): metrics."""


def routes() -> list[ActRoute]:
    """Every act served here: :data:`ROUTES`, then the default route of each act that has none."""
    routed = {r.model for r in ROUTES} | ROUTED_ELSEWHERE
    return ROUTES + [ActRoute(model, "POST", f"/{{event_id}}/acts/{name}", summary=model.__doc__)
                     for model, name in ACT_NAMES.items() if model not in routed]


_BODIES: dict[type[Act], type[ActIn]] = {}


def body_of(model: type[Act]) -> type[ActIn]:
    """The request body of `model`'s route (made once; what the route validates and documents).

    Raises:
        KeyError: `model` has no route here (its route is the roster's, documents' or risks').
    """
    if model not in _BODIES:
        route = next((r for r in routes() if r.model is model), None)
        if route is None:
            raise KeyError(f"{model.__name__} has no route in api.act_routes")
        _BODIES[model] = act_body(model, path={f for f, _ in route.params.values()}, flatten=route.flatten,
                                  optional=route.made_up, schema_extra=route.schema_extra or None)
    return _BODIES[model]


def add_act_routes(router: APIRouter, responses: dict[int | str, dict[str, Any]],
                   on_outcome: Outcome | None = None) -> None:
    """Add a route to `router` for every act of :func:`routes`, each named after the act's update."""
    for route in routes():
        _add(router, route, responses, on_outcome)


def _add(router: APIRouter, route: ActRoute, responses: dict[int | str, dict[str, Any]],
         on_outcome: Outcome | None) -> None:
    body_model = body_of(route.model)
    required = any(f.is_required() for n, f in body_model.model_fields.items())

    async def endpoint(**kw: Any) -> ActOutcome | JSONResponse:
        body: ActIn | None = kw["body"]
        path = {fname: kw[param] for param, (fname, _) in route.params.items()}
        key = kw["idempotency_key"] or (body.key if body else None) or uuid.uuid4().hex
        as_role = body.as_role if body else None
        principal = kw["principal"]
        actor = Actor(id=principal.id, role=as_role or principal.roles[0])
        act_ = act_from_body(route.model, body, key, actor, path, route.flatten, route.made_up)
        try:
            outcome = await perform(kw["client"], kw["registry"], kw["app"], principal, kw["event_id"], key,
                                    as_role, act_)
        except Exception as exc:
            if on_outcome is not None:
                on_outcome(kw["app"], act_, None, exc)
            raise
        if on_outcome is not None:
            on_outcome(kw["app"], act_, outcome, None)
        return outcome

    params = [inspect.Parameter("event_id", inspect.Parameter.KEYWORD_ONLY, annotation=EventId)]
    params += [inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[str, Path(pattern=pattern)])
               for param, (_, pattern) in route.params.items()]
    body_annotation = Annotated[body_model, Body()] if required else Annotated[body_model | None, Body()]
    params.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body_annotation,
                                    default=inspect.Parameter.empty if required else None))
    for name, annotation in (("client", TemporalClient), ("registry", Registry), ("principal", Writer),
                             ("app", State)):
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation))
    params.append(inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyKey,
                                    default=None))
    endpoint.__signature__ = inspect.Signature(params, return_annotation=ActOutcome | JSONResponse)  # type: ignore[attr-defined]
    name = route.model.update
    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = route.summary or route.model.__doc__
    router.add_api_route(route.path, endpoint, methods=[route.method], name=name, response_model=ActOutcome,
                         responses=responses, summary=None, description=endpoint.__doc__)
