"""What the activities read of the roster database, shared by thanks, the report and the archive.

An event whose ``record.roster == "database"`` keeps its attendees, survey answers,
deliveries and whole audit in the database (:mod:`store`); events recorded before
keep them in the record (``roster == "memory"``). The post-event activities ask
:func:`in_database` which one to read, and :func:`require` for the stores.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from temporalio.exceptions import ApplicationError

from store.journal import Journal
from store.roster import Roster
from store.schema import attendees
from workflows.messages import AttendeeRecord, DossierRequest

NO_DATABASE = "RosterDatabaseMissing"
"""An event keeps its roster in the database, and this worker was built without one."""


def in_database(request: DossierRequest) -> bool:
    """The event's attendees, survey, deliveries and whole audit are in the roster database."""
    return request.record.roster == "database"


def require(event_id: str, *stores: Roster | Journal | None) -> None:
    """Raise a non-retryable error when a store is missing: this worker has no database (a configuration
    fault, which no retry mends)."""
    if any(store is None for store in stores):
        raise ApplicationError(
            f"event {event_id} keeps its roster in the database, and this worker has no database "
            "(build the activities with build_activities(settings, database=...))",
            type=NO_DATABASE, non_retryable=True,
        )


async def ready(*stores: Roster | Journal | None) -> None:
    """Make sure the schema is there (a no-op once the worker migrated at start, as it does)."""
    for store in stores:
        if store is not None:
            await store.db.migrate()


async def key_clients(roster: Roster, event_id: str) -> list[AttendeeRecord]:
    """The event's key clients, by id, read through the roster a page at a time."""
    found = [a async for a in roster.records(event_id) if a.person.key_client]
    return sorted(found, key=lambda a: a.person.id)


async def batch_outcomes(roster: Roster, event_id: str, batch: str) -> Counter[str]:
    """How the invitations of one batch went, by status (``pending``, ``sent``, ``failed``, ``skipped``)."""
    a = attendees.c
    async with roster.db.read() as conn:
        rows = await conn.execute(select(a.invitation, func.count()).where(a.event_id == event_id, a.batch == batch)
                                  .group_by(a.invitation))
        return Counter({status: n for status, n in rows})
