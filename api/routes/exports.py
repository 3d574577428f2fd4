"""Spreadsheet exports of an event: attendees, check-ins, deliveries, survey, budget, as CSV or XLSX.

``GET /events/{id}/exports/{kind}.{csv|xlsx}``. The rows are read from the roster database a page
at a time and sent as they are read: a CSV is a streamed response (never the whole roster in
memory); an XLSX is written row by row by openpyxl's write-only workbook into a spooled temporary
file (memory up to 8 MB, disk past it), then streamed from there, since a zip's directory comes
last. What is in each kind, and what a confidential event withholds: :mod:`api.roster_exports`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from api.auth import may_export, sees_contacts
from api.deps import EventId, Journal, Principal, Registry, Roster, State, TemporalClient
from api.errors import conflict
from api.invitations import in_database
from api.roster_exports import KINDS, Sources, filename
from api.visibility import definition_of
from convene.spreadsheet import csv_chunks, file_chunks, xlsx_file
from workflows.client import state

router = APIRouter(prefix="/events", tags=["exports"])
log = structlog.stdlib.get_logger("convene.api")

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/{event_id}/exports/{kind}.{fmt}",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The spreadsheet, as an attachment named `<event id>-<kind>.<csv|xlsx>`",
              "content": {m.split(";")[0]: {} for m in MEDIA.values()}},
        401: {"description": "No valid bearer token"},
        404: {"description": "No such event, or not one the caller may read (its team and those granted it)"},
        409: {"description": "The event keeps its attendees in its workflow (recorded before the roster "
                             "database): only its budget can be exported until its roster moves"},
        422: {"description": "Not a kind or format there is (kinds: attendees, check-ins, deliveries, survey, "
                             "budget; formats: csv, xlsx)"},
        503: {"description": "Temporal or the database is unavailable (Retry-After says when to try again)"},
    },
)
async def export(
    event_id: EventId,
    kind: Annotated[Literal["attendees", "check-ins", "deliveries", "survey", "budget"], Path(
        description="attendees (RSVP, check-in, needs), check-ins, deliveries, survey or budget (planned vs "
                    "actual).")],
    fmt: Annotated[Literal["csv", "xlsx"], Path(description="csv (UTF-8 with BOM) or xlsx.")],
    client: TemporalClient, principal: Principal, registry: Registry, roster: Roster, journal: Journal, app: State,
) -> StreamingResponse:
    """One of the event's lists as a spreadsheet, streamed (50,000 rows are never held at once).

    Text cells that could start a formula (`=`, `+`, `-`, `@`, tab, CR) are neutralised, digits keep
    their leading zeros, a CSV starts with a UTF-8 BOM so Excel reads it as written. A confidential
    event's exports withhold email addresses from all but its owner and the team's owner role; webhook
    addresses never carry credentials. Only the event's readers may export it. Times in UTC.
    """
    info = await app.events.get(client, event_id)
    may_export(principal, info.details, definition_of(registry, info.kind))  # before anything else is said of it
    definition = registry.get(info.kind)
    budget = None
    if kind == "budget":
        budget = (await state(client, event_id)).budget
    elif not await in_database(roster, event_id, info.roster):
        raise conflict("this event keeps its attendees in its workflow (recorded before the roster database); "
                       "export its lists once its roster has moved")
    sheet = KINDS[kind]
    sources = Sources(event_id=event_id, roster=roster, journal=journal, contact=sees_contacts(principal, info.details, definition),
                      budget=budget)
    headers = {"Content-Disposition": f'attachment; filename="{filename(event_id, kind, fmt)}"',
               "Cache-Control": "no-store"}
    log.info("export", kind=kind, format=fmt, confidential=definition.confidential)
    if fmt == "csv":
        return StreamingResponse(csv_chunks(sheet.header, sheet.rows(sources)), media_type=MEDIA["csv"],
                                 headers=headers)
    book = await xlsx_file(sheet.title, sheet.header, sheet.rows(sources))
    return StreamingResponse(file_chunks(book), media_type=MEDIA["xlsx"], headers=headers)
