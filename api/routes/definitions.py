"""Definitions: the event kinds this API starts, each with its diagram and a simulated timeline."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Path, Query
from fastapi.encoders import jsonable_encoder

from api.deps import Principal, Registry
from api.errors import not_found
from api.models import DateTime, DefinitionDetail, DefinitionSummary, StageSummary
from definitions import Definition, UnknownKind, definition_hash, json_schema

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
