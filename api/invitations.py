"""Inviting attendees: the people go to the roster database first, then one small act tells the event.

Shared by the API (``POST /events/{id}/attendees`` and ``.../attendees/import``) and the CLI
(``convene events import-attendees``), so both invite the same way:

1. people already on the roster are left out (and named in the answer);
2. the rest are written as batch ``<idempotency key>`` (:meth:`store.Roster.add`);
3. the ``invite_attendees`` act names the batch and its size (``batch=InvitationBatchRef``), so
   50,000 people cost fifty acts of a few hundred bytes, not a payload that grows with the roster.

A resend of the same key finds its batch already written and sends the same act again; the
event's idempotency memory answers it as the first time. The same key with other people is a
conflict, as for every act. Events recorded before the roster database (``roster="memory"``)
get the people inside the act, as before.

Nothing here depends on FastAPI: refusals are :class:`~workflows.refusals.ActRefused`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.client import Client

from store import Roster
from store.schema import attendees as A
from workflows.client import act
from workflows.messages import Actor, ActResult, Attendee, InvitationBatchRef, InviteAttendees
from workflows.refusals import ActRefused

PAGE = 1000
"""People per invitation act (and per request to ``POST /events/{id}/attendees``)."""

_SHOWN = 10


def _names(ids: Sequence[str]) -> str:
    more = len(ids) - _SHOWN
    return ", ".join(ids[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


class NobodyNew(ActRefused):
    """Everyone listed is invited already: nothing to do (409)."""

    def __init__(self, skipped: Sequence[str]) -> None:
        super().__init__("conflict", f"already invited: {_names(skipped)}")
        self.skipped = list(skipped)


@dataclass
class Invited:
    result: ActResult
    invited: int
    skipped: list[str] = field(default_factory=list)


async def in_database(roster: Roster, event_id: str, recorded: str) -> bool:
    """Does the event keep its roster in the database? `recorded` is what its state said (``memory`` or
    ``database``); an event recorded before the database moves its roster there once, so ``memory`` is
    checked against the database's own record of the event."""
    if recorded == "database":
        return True
    return await roster.facts(event_id) is not None


async def batch_members(roster: Roster, event_id: str, batch: str) -> set[str]:
    """The people of one batch (one invitation act): what a resend of its key must list again."""
    async with roster.db.read() as conn:
        rows = await conn.execute(select(A.c.attendee_id).where(A.c.event_id == event_id, A.c.batch == batch))
        return {r[0] for r in rows}


def listed_twice(people: Sequence[Attendee]) -> list[str]:
    return sorted(i for i, n in Counter(p.id for p in people).items() if n > 1)


async def invite(client: Client, roster: Roster, event_id: str, *, key: str, actor: Actor,
                 people: Sequence[Attendee], database: bool, reason: str | None = None,
                 now: datetime | None = None, rpc_timeout: timedelta | None = None) -> Invited:
    """Invite `people` (at most :data:`PAGE`) as one act with idempotency key `key`.

    Args:
        database: the event keeps its roster in the database (:func:`in_database`).
        actor: who invites, as the role already checked.

    Raises:
        NobodyNew: everyone is on the roster already (409).
        ActRefused: ``invalid`` for a list too long or naming someone twice; ``conflict`` for a key used
            for other people; the event's own refusals come back as its update's failure.
    """
    if len(people) > PAGE:
        raise ActRefused("invalid", f"at most {PAGE} people per invitation; send the rest in further pages")
    twice = listed_twice(people)
    if twice:
        raise ActRefused("invalid", f"listed more than once: {_names(twice)}")
    if not database:
        result = await act(client, event_id, InviteAttendees(key=key, actor=actor, reason=reason,
                                                             attendees=list(people)),
                           rpc_timeout=rpc_timeout, final=True)
        return Invited(result=result, invited=len(people))
    ids = [p.id for p in people]
    members = await batch_members(roster, event_id, key)
    existing = await roster.existing(event_id, ids)
    skipped = [i for i in ids if i in existing and i not in members]
    if members:  # the key was used before: only the same people make the same act
        if {i for i in ids if i not in existing or i in members} != members:
            raise ActRefused("conflict", f"idempotency key {key!r} was already used for a different invitation")
    else:
        new = [p for p in people if p.id not in existing]
        if not new:
            raise NobodyNew(skipped)
        await roster.add(event_id, batch=key, people=new, invited_at=now or datetime.now(UTC))
    count = await roster.batch_size(event_id, key)
    if not count:  # everyone was invited by someone else in the meantime
        raise NobodyNew(skipped or ids)
    result = await act(client, event_id, InviteAttendees(
        key=key, actor=actor, reason=reason, batch=InvitationBatchRef(id=key, count=count)),
        rpc_timeout=rpc_timeout, final=True)
    return Invited(result=result, invited=count, skipped=skipped)


def page_key(base: str, page: int) -> str:
    """The idempotency key of page `page` (from 1) of an import keyed `base` (at most 200 characters)."""
    if len(base) > 180:
        base = "k-" + hashlib.sha256(base.encode()).hexdigest()[:40]
    return f"{base}.p{page}"


def content_key(people: Sequence[Attendee]) -> str:
    """A key made from who is listed: importing the same list again is the same acts, answered the same."""
    return "csv-" + hashlib.sha256("\n".join(p.id for p in people).encode()).hexdigest()[:24]


@dataclass
class Imported:
    invited: int = 0
    skipped: list[str] = field(default_factory=list)
    pages: int = 0


Progress = Callable[[int, int, int, int], None]
"""Told after each page: (page, pages, invited by it, skipped by it)."""


async def invite_pages(client: Client, roster: Roster, event_id: str, *, key: str, actor: Actor,
                       people: Sequence[Attendee], database: bool, reason: str | None = None,
                       progress: Progress | None = None, rpc_timeout: timedelta | None = None) -> Imported:
    """Invite a long list in pages of :data:`PAGE` (keys ``<key>.p1``, ``<key>.p2``...); a page whose
    people are all invited already is counted as skipped, not refused."""
    twice = listed_twice(people)
    if twice:
        raise ActRefused("invalid", f"listed more than once: {_names(twice)}")
    out = Imported()
    pages = (len(people) + PAGE - 1) // PAGE
    for n in range(pages):
        page = people[n * PAGE:(n + 1) * PAGE]
        try:
            done = await invite(client, roster, event_id, key=page_key(key, n + 1), actor=actor, people=page,
                                database=database, reason=reason, rpc_timeout=rpc_timeout)
        except NobodyNew as nobody:
            invited, skipped = 0, nobody.skipped
        else:
            invited, skipped = done.invited, done.skipped
            out.pages += 1
        out.invited += invited
        out.skipped += skipped
        if progress is not None:
            progress(n + 1, pages, invited, len(skipped))
    return out
