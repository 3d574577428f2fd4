"""The risk register over HTTP: record or change a risk, read the register.

A write goes ``database -> the workflow's summary``: the risk is written (:mod:`store.risks`, idempotent by the
request's key), then the event is sent the register's summary (``record_risks``: how many risks, which high ones
are open, which of those have no owner), which its ``risk_register`` check reads. The act's key is the write's
key with the register's revision, so a retry after a success is the same act, and a summary made after other
writes is a newer one. An event that takes no more acts (closed, cancelled) is refused before anything is
written. Reads follow the event's read rules.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.acts import perform
from api.auth import choose_role
from api.deps import EventId, IdempotencyKey, Principal, Registry, State, TemporalClient, Writer
from api.errors import ACT_PROBLEMS, READ_PROBLEMS, Problem
from api.models import ActOutcome
from api.visibility import readable
from definitions import Definition
from definitions.schema import RiskRegister
from store.risks import OPEN, KeyReused, Risk, Risks
from workflows.messages import RISK_IDS_KEPT, Actor, EventDetails, RecordRisks

router = APIRouter(prefix="/events", tags=["risks"])
log = structlog.stdlib.get_logger("convene.api")

SAFE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
RiskId = Annotated[str, Path(pattern=SAFE_ID, description="The risk's id, chosen by the team (r1, flood...).")]
HIGH_FROM = 12
"""Likelihood x impact from which a risk is high, for a kind whose definition has no risk_register check."""


class RiskIn(BaseModel):
    """A risk as it now stands. `likelihood` and `impact` 1 (rare / negligible) to 5 (almost certain / severe);
    `owner` a person on the event's team (null: nobody yet)."""

    title: str = Field(min_length=1, max_length=300)
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    owner: str | None = Field(default=None, pattern=SAFE_ID)
    response: str = Field(default="", max_length=4000, description="What is done about it.")
    status: Literal["open", "mitigating", "closed", "occurred"] = "open"
    key: str | None = Field(default=None, max_length=150)
    as_role: str | None = None


class RiskOut(BaseModel):
    risk_id: str
    title: str
    likelihood: int
    impact: int
    score: int = Field(description="likelihood x impact, 1 to 25.")
    high: bool
    owner: str | None
    response: str
    status: str
    version: int
    updated_by: str
    updated_at: datetime


class RegisterOut(BaseModel):
    """The register: every risk (highest score first), its revision (changes so far), the threshold of a high risk
    and the open high risks (what the go / no-go shows)."""

    risks: list[RiskOut]
    revision: int
    high_from: int
    open_high: list[RiskOut]


def high_from(definition: Definition | None) -> int:
    checks = [] if definition is None else [c for s in definition.stages for g in s.gates for c in g.checks
                                            if isinstance(c, RiskRegister)]
    return checks[0].high_from if checks else HIGH_FROM


def _out(r: Risk, threshold: int) -> RiskOut:
    return RiskOut(risk_id=r.risk_id, title=r.title, likelihood=r.likelihood, impact=r.impact, score=r.score,
                   high=r.high(threshold), owner=r.owner, response=r.response, status=r.status, version=r.version,
                   updated_by=r.updated_by, updated_at=r.updated_at)


def _on_team(person: str, event: EventDetails) -> bool:
    return person == event.owner or any(p.id == person for people in event.team.values() for p in people)


@router.put("/{event_id}/risks/{risk_id}", name="record_risks", response_model=ActOutcome,
            responses=ACT_PROBLEMS)
async def record_risk(event_id: EventId, risk_id: RiskId, body: RiskIn, client: TemporalClient, registry: Registry,
                      principal: Writer, app: State, idempotency_key: IdempotencyKey = None) -> ActOutcome | JSONResponse:
    """Record a risk, or change one (the whole risk as it now stands), and tell the event the register's summary.

    Who: the definition's ``manage_risks`` roles (else its owner role). Errors: 404, 403, 409 (the event takes no
    more acts), 422 (an owner not on the team, a key used for another change).
    """
    await app.store_ready()
    info, definition = await readable(app.events, client, registry, principal, event_id)
    key = idempotency_key or body.key or uuid.uuid4().hex
    probe = RecordRisks(key=key, actor=Actor(id=principal.id, role=body.as_role or principal.roles[0]), revision=1,
                        count=0)
    role = choose_role(principal, definition, info.details, probe, body.as_role) if definition else probe.actor.role
    if body.owner is not None and not _on_team(body.owner, info.details):
        raise Problem(422, f"the owner {body.owner!r} is not on this event's team")
    facts = await app.roster.facts(event_id)
    if facts is not None and facts.status != "active":
        raise Problem(409, f"the event is {facts.status}; it takes no more acts", slug="act-refused")
    risks = Risks(app.database)
    try:
        await risks.put(event_id=event_id, risk_id=risk_id, key=key, title=body.title, likelihood=body.likelihood,
                        impact=body.impact, owner=body.owner, response=body.response, status=body.status,
                        by=principal.id, at=datetime.now(UTC))
    except KeyReused:
        raise Problem(422, f"Idempotency-Key {key!r} was used for another change on this event",
                      slug="idempotency-key-reused") from None
    register = await risks.register(event_id)
    count, high_open, high_unowned = register.summary(high_from(definition), RISK_IDS_KEPT)
    act_ = RecordRisks(key=f"{key}:r{register.revision}", actor=Actor(id=principal.id, role=role),
                       revision=max(register.revision, 1), count=count, high_open=high_open, high_unowned=high_unowned)
    log.info("risk recorded", event_id=event_id, risk_id=risk_id, revision=register.revision)
    return await perform(client, registry, app, principal, event_id, act_.key, role, act_)


@router.get("/{event_id}/risks", response_model=RegisterOut, responses=READ_PROBLEMS)
async def risk_register(event_id: EventId, client: TemporalClient, registry: Registry, principal: Principal,
                        app: State) -> RegisterOut:
    """The event's risk register, highest score first, and its open high risks."""
    await app.store_ready()
    _, definition = await readable(app.events, client, registry, principal, event_id)
    threshold = high_from(definition)
    register = await Risks(app.database).register(event_id)
    ordered = sorted(register.risks, key=lambda r: (-r.score, r.risk_id))
    out = [_out(r, threshold) for r in ordered]
    return RegisterOut(risks=out, revision=register.revision, high_from=threshold,
                       open_high=[r for r in out if r.high and r.status in OPEN])
