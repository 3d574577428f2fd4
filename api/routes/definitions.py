"""Definitions: the event kinds this API starts, each with its diagram and a simulated timeline."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Annotated, Any, get_args

import structlog
from fastapi import APIRouter, Path, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from api.bodies import DateTime
from api.deps import Principal, Registry
from api.errors import not_found
from api.models import DefinitionDetail, DefinitionSummary, StageSummary
from definitions import Definition, UnknownKind, definition_hash, json_schema
from definitions.schema import BUDGET_CATEGORIES, AgendaReady
from workflows.agenda import FREE_KINDS, layout
from workflows.messages import (
    AgendaItem,
    AgendaLayout,
    EventTime,
    InviteSpeaker,
    ItemKind,
    ReportIncident,
    SafeId,
)

router = APIRouter(prefix="/definitions", tags=["definitions"])
log = structlog.stdlib.get_logger("convene.api")  # lazy: resolved after logs.configure()

_diagrams: dict[str, str | None] = {}
"""Mermaid diagrams by definition hash: drawing one builds a machine, so each is drawn once."""


def _diagram(definition: Definition, digest: str) -> str | None:
    if digest not in _diagrams:
        from workflows.lifecycle import mermaid_diagram

        try:
            _diagrams[digest] = mermaid_diagram(definition)
        except Exception as exc:  # noqa: BLE001 - a picture that cannot be drawn must not hide the definition
            log.warning("diagram failed", kind=definition.kind, error=f"{type(exc).__name__}: {exc}")
            _diagrams[digest] = None
    return _diagrams[digest]


def _timeline(definition: Definition, start: datetime) -> list[dict[str, Any]] | None:
    """``workflows.timeline.simulate(definition, start)`` when that module exists, else nothing."""
    try:
        from workflows.timeline import simulate
    except ImportError:
        return None
    try:
        return jsonable_encoder(simulate(definition, start))
    except Exception as exc:  # noqa: BLE001 - optional extra
        log.warning("timeline failed", kind=definition.kind, error=f"{type(exc).__name__}: {exc}")
        return None


@router.get("", response_model=list[DefinitionSummary])
async def list_definitions(registry: Registry, principal: Principal) -> list[DefinitionSummary]:
    """The event kinds that can be started."""
    return [
        DefinitionSummary(
            kind=d.kind, title=d.title, description=d.description, version=d.version, hash=definition_hash(d),
            owner_role=d.owner_role, confidential=d.confidential, public_promotion=d.public_promotion,
            stages=[StageSummary(id=s.id, title=s.title) for s in d.stages],
        )
        for d in registry
    ]


@router.get("/schema")
async def definition_schema(principal: Principal) -> dict[str, Any]:
    """The JSON Schema of the definition format (for editors)."""
    return json_schema()


StartQ = Annotated[DateTime | None, Query(description="Start of the simulated timeline (default: in 90 days).")]


@router.get("/{kind}", response_model=DefinitionDetail, responses={404: {"description": "Unknown kind"}})
async def get_definition(
    kind: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")], registry: Registry, principal: Principal,
    start: StartQ = None,
) -> DefinitionDetail:
    """One definition, its lifecycle diagram and, for a start date, when each deadline step would fire."""
    try:
        definition = registry.get(kind)
    except UnknownKind as exc:
        raise not_found(str(exc)) from None
    if start is None:
        day = datetime.now(timezone.utc).date() + timedelta(days=90)
        start = datetime.combine(day, time(9), tzinfo=timezone.utc)
    digest = definition_hash(definition)
    return DefinitionDetail(
        kind=kind, hash=digest, definition=definition.model_dump(mode="json"),
        mermaid=_diagram(definition, digest), timeline=_timeline(definition, start),
    )


# --- what the page's forms take from the API ----------------------------------------------------


class AgendaDraftItem(BaseModel):
    """One row of the agenda editor, as typed so far (ids of rows not yet saved are the page's own)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: SafeId
    kind: ItemKind
    start: EventTime
    minutes: int = Field(ge=1, le=24 * 60)
    room: str = Field(default="main", min_length=1, max_length=100)
    speaker_id: SafeId | None = None


class AgendaDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[AgendaDraftItem] = Field(max_length=500)


@router.post("/{kind}/agenda-check", response_model=AgendaLayout, responses={
    404: {"description": "Unknown kind"}, 422: {"description": "A row that cannot be read"}})
async def agenda_check(kind: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")], draft: AgendaDraft,
                       registry: Registry, principal: Principal) -> AgendaLayout:
    """The agenda gate's check (overlaps, each room's buffer) of an agenda being edited, changing nothing: the
    editor asks as the person types, so the page shows what the gate will say (``workflows/agenda.py``)."""
    try:
        definition = registry.get(kind)
    except UnknownKind:
        raise not_found(f"unknown kind {kind!r}") from None
    items = [AgendaItem(id=i.id, kind=i.kind, title=i.id, start=i.start, minutes=i.minutes, room=i.room,
                        speaker_id=i.speaker_id) for i in draft.items]
    least = next((c.min_buffer_share for s in definition.stages for g in s.gates for c in g.checks
                  if isinstance(c, AgendaReady)), None)
    return layout(items).model_copy(update={"min_buffer_share": least})


class Vocabulary(BaseModel):
    """The values the act forms offer, read from the act models (so a page never keeps its own copy)."""

    slots: list[str]
    item_kinds: list[str]
    incident_categories: list[str]
    severities: list[str]
    free_item_kinds: list[str] = Field(description="Item kinds that count as a room's buffer (breaks, meals).")
    budget_categories: list[str] = Field(description="Suggested budget categories (the source document's); any "
                                                     "lowercase identifier is accepted.")


def _choices(model: type[BaseModel], name: str) -> list[str]:
    annotation = model.model_fields[name].annotation
    return [str(v) for v in get_args(annotation) if v is not None]


@router.get("/vocabulary/acts", response_model=Vocabulary)
async def vocabulary(principal: Principal) -> Vocabulary:
    """The choices of the act forms: speaker slots, agenda item kinds, incident categories and severities."""
    return Vocabulary(slots=_choices(InviteSpeaker, "slot"), item_kinds=list(get_args(ItemKind)),
                      incident_categories=_choices(ReportIncident, "category"),
                      severities=_choices(ReportIncident, "severity"), free_item_kinds=list(FREE_KINDS),
                      budget_categories=list(BUDGET_CATEGORIES))
