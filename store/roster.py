"""The roster: attendees, their RSVPs and check-ins, survey answers; and the attendee acts themselves.

RSVP, check-in and survey answers are database transactions, not workflow
updates: a door with dozens of lanes checks people in concurrently, far past the
ten updates a workflow takes in flight. Each act is idempotent by its key (the
audit row ``act:<key>`` holds what the key stands for and its answer) and is
refused with the same :class:`~workflows.refusals.ActRefused` kinds the workflow
uses. What the act may depend on of the event (its stage, its dates) comes from
the ``events`` row the workflow writes through ``sync_event``.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from store.db import Database
from store.schema import attendees as A
from store.schema import audit as AU
from store.schema import events as E
from store.schema import survey_responses as S
from workflows.messages import (
    ActResult,
    Attendee,
    AttendeePage,
    AttendeeQuery,
    AttendeeRecord,
    CheckIn,
    EventFacts,
    InvitationProgress,
    LegacyRoster,
    NeedView,
    QuestionView,
    RecordSurvey,
    RosterAudience,
    Rsvp,
    SurveyResponse,
)
from workflows.refusals import ActRefused, conflict, invalid

CHUNK = 1000
"""Rows per INSERT statement when adding people."""


def utc(value: datetime | None) -> datetime | None:
    """An aware UTC time from the database (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_db(value: datetime | None) -> datetime | None:
    """Times are stored in UTC on both databases."""
    return None if value is None else value.astimezone(UTC)


def digest(act: Any) -> str:
    body = act.model_dump_json(exclude={"key"})
    return hashlib.sha256(f"{type(act).__name__}:{body}".encode()).hexdigest()


def _person(row: Any) -> Attendee:
    return Attendee(
        id=row.attendee_id, name=row.name, email=row.email, locale=row.locale, webhook_url=row.webhook_url,
        category=row.category, key_client=row.key_client, needs=list(row.needs or []), needs_note=row.needs_note,
    )


def record_of(row: Any) -> AttendeeRecord:
    return AttendeeRecord(
        person=_person(row), invited_at=utc(row.invited_at), rsvp=row.rsvp, checked_in_at=utc(row.checked_in_at),
        checked_in_by=row.checked_in_by, checked_in_desk=row.checked_in_desk, invitation=row.invitation,
    )


def _row(event_id: str, batch: str, at: datetime, position: int, a: Attendee, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id, "attendee_id": a.id, "position": position, "name": a.name, "email": a.email,
        "locale": a.locale, "webhook_url": a.webhook_url, "category": a.category, "key_client": a.key_client,
        "needs": list(a.needs), "needs_note": a.needs_note, "batch": batch, "invited_at": to_db(at),
        "invitation": "pending", **extra,
    }


class _Repeat(Exception):
    """A repeated key whose first act applied: its stored answer."""

    def __init__(self, result: ActResult) -> None:
        self.result = result


class Roster:
    """Queries and attendee acts over one :class:`~store.db.Database`."""

    def __init__(self, db: Database, on_applied: Callable[[str], None] | None = None) -> None:
        """`on_applied` is told the name of every attendee act that applied now (``check_in``...), never of a
        repeated key answered again or a refused act: the API counts check-ins with it."""
        self.db = db
        self.on_applied = on_applied

    # ------------------------------------------------------------------ invitations

    async def add(self, event_id: str, batch: str, people: Sequence[Attendee], invited_at: datetime,
                  **extra: Any) -> int:
        """Add `people` to the roster as batch `batch`; people already on it are skipped (idempotent).

        Returns:
            How many were added now.
        """
        added = 0
        for start in range(0, len(people), CHUNK):
            chunk = people[start:start + CHUNK]
            async with self.db.write() as conn:
                top = (await conn.execute(select(func.max(A.c.position)).where(A.c.event_id == event_id))).scalar()
                base = (top or 0) + 1
                rows = [_row(event_id, batch, invited_at, base + i, a, **extra) for i, a in enumerate(chunk)]
                result = await conn.execute(self.db.insert(A).on_conflict_do_nothing(), rows)
                added += max(result.rowcount or 0, 0)
        return added

    async def existing(self, event_id: str, ids: Sequence[str]) -> set[str]:
        """Which of `ids` are already on the roster."""
        found: set[str] = set()
        async with self.db.read() as conn:
            for start in range(0, len(ids), CHUNK):
                part = list(ids[start:start + CHUNK])
                rows = await conn.execute(select(A.c.attendee_id).where(A.c.event_id == event_id,
                                                                        A.c.attendee_id.in_(part)))
                found |= {r[0] for r in rows}
        return found

    async def batch_size(self, event_id: str, batch: str) -> int:
        async with self.db.read() as conn:
            return (await conn.execute(select(func.count()).select_from(A).where(
                A.c.event_id == event_id, A.c.batch == batch))).scalar_one()

    async def pending_invitations(self, event_id: str, batch: str, after: int, limit: int) -> list[tuple[int, Attendee]]:
        """People of `batch` whose invitation has not gone out, in invitation order after position `after`."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(A).where(A.c.event_id == event_id, A.c.batch == batch, A.c.position > after,
                                A.c.invitation == "pending").order_by(A.c.position).limit(limit))
            return [(r.position, _person(r)) for r in rows]

    async def set_invitations(self, event_id: str, outcomes: dict[str, str]) -> None:
        """Record how each invitation went (`attendee id -> sent | failed | skipped`)."""
        if not outcomes:
            return
        async with self.db.write() as conn:
            for status in set(outcomes.values()):
                ids = [i for i, s in outcomes.items() if s == status]
                await conn.execute(update(A).where(A.c.event_id == event_id, A.c.attendee_id.in_(ids))
                                   .values(invitation=status))

    async def invitation_progress(self, event_id: str) -> InvitationProgress:
        async with self.db.read() as conn:
            rows = await conn.execute(select(A.c.invitation, func.count()).where(A.c.event_id == event_id)
                                      .group_by(A.c.invitation))
            by = {status: n for status, n in rows}
        return InvitationProgress(invited=sum(by.values()), sent=by.get("sent", 0), failed=by.get("failed", 0),
                                  skipped=by.get("skipped", 0), pending=by.get("pending", 0))

    # ------------------------------------------------------------------ reads

    async def page(self, event_id: str, q: AttendeeQuery) -> AttendeePage:
        """A page of attendees in invitation order, filtered as the check-in desk and RSVP list ask."""
        where = [A.c.event_id == event_id]
        needle = q.search.strip().casefold()
        if needle:
            pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(or_(*(func.lower(c).like(pattern, escape="\\") for c in (A.c.attendee_id, A.c.name, A.c.email))))
        if q.rsvp == "none":
            where.append(A.c.rsvp.is_(None))
        elif q.rsvp != "any":
            where.append(A.c.rsvp == q.rsvp)
        if q.checked_in is not None:
            where.append(A.c.checked_in_at.is_not(None) if q.checked_in else A.c.checked_in_at.is_(None))
        async with self.db.read() as conn:
            total = (await conn.execute(select(func.count()).select_from(A).where(A.c.event_id == event_id))).scalar_one()
            matched = (await conn.execute(select(func.count()).select_from(A).where(*where))).scalar_one()
            rows = await conn.execute(select(A).where(*where).order_by(A.c.position).offset(q.offset).limit(q.limit))
            items = [record_of(r) for r in rows]
        return AttendeePage(total=total, matched=matched, items=items)

    async def person(self, event_id: str, attendee_id: str) -> AttendeeRecord | None:
        """One attendee's record (their page, their ticket at the door), or None."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(A).where(A.c.event_id == event_id, A.c.attendee_id == attendee_id))).first()
        return None if row is None else record_of(row)

    async def set_needs_note(self, event_id: str, attendee_id: str, note: str | None) -> None:
        """The attendee's own note on their needs (access, diet, interpreting), at most 500 characters."""
        async with self.db.write() as conn:
            await conn.execute(update(A).where(A.c.event_id == event_id, A.c.attendee_id == attendee_id)
                               .values(needs_note=(note or None) and note[:500]))

    async def set_question(self, event_id: str, attendee_id: str, question: str | None) -> None:
        """The attendee's question for the named contact (their RSVP form), at most 1,000 characters; None
        or empty takes it back."""
        async with self.db.write() as conn:
            await conn.execute(update(A).where(A.c.event_id == event_id, A.c.attendee_id == attendee_id)
                               .values(question=(question or None) and question[:1000]))

    async def question(self, event_id: str, attendee_id: str) -> str | None:
        """The attendee's question, or None."""
        async with self.db.read() as conn:
            return (await conn.execute(select(A.c.question).where(
                A.c.event_id == event_id, A.c.attendee_id == attendee_id))).scalar()

    async def questions(self, event_id: str, limit: int = 200) -> list[QuestionView]:
        """Attendees' questions, in invitation order, at most `limit`."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(A.c.attendee_id, A.c.name, A.c.question).where(A.c.event_id == event_id,
                                                                      A.c.question.is_not(None))
                .order_by(A.c.position).limit(limit))
            return [QuestionView(attendee_id=r.attendee_id, name=r.name, question=r.question) for r in rows]

    async def answered_survey(self, event_id: str, respondent: str) -> bool:
        async with self.db.read() as conn:
            return (await conn.execute(select(S.c.respondent).where(
                S.c.event_id == event_id, S.c.respondent == respondent))).first() is not None

    async def counts(self, event_id: str) -> dict[str, int]:
        """``invited``, ``rsvp_yes``, ``rsvp_no``, ``rsvp_maybe``, ``checked_in``: one grouped query."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(A.c.rsvp, func.count(), func.count(A.c.checked_in_at)).where(A.c.event_id == event_id)
                .group_by(A.c.rsvp))
            out = {"invited": 0, "rsvp_yes": 0, "rsvp_no": 0, "rsvp_maybe": 0, "checked_in": 0}
            for rsvp, n, checked in rows:
                out["invited"] += n
                out["checked_in"] += checked
                if rsvp:
                    out[f"rsvp_{rsvp}"] = n
        return out

    async def special_needs(self, event_id: str, limit: int = 200) -> list[NeedView]:
        """Attendees with special needs who have not declined (for reception), at most `limit`."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(A).where(A.c.event_id == event_id, or_(A.c.rsvp.is_(None), A.c.rsvp != "no"),
                                func.json_array_length(A.c.needs) > 0)  # the same function on both databases
                .order_by(A.c.position).limit(limit))
            return [NeedView(attendee_id=r.attendee_id, name=r.name, needs=list(r.needs), note=r.needs_note,
                             checked_in=r.checked_in_at is not None) for r in rows if r.needs]

    def _audience(self, audience: RosterAudience) -> Any:
        if audience == "not_declined":
            return or_(A.c.rsvp.is_(None), A.c.rsvp != "no")
        if audience == "survey_pending":
            answered = select(S.c.respondent).where(S.c.event_id == A.c.event_id)
            return and_(or_(A.c.checked_in_at.is_not(None), A.c.rsvp == "yes"), A.c.attendee_id.not_in(answered))
        if audience == "invited":
            return A.c.invitation == "sent"
        return A.c.event_id.is_not(None)

    async def audience(self, event_id: str, audience: RosterAudience, after: int,
                       limit: int) -> list[tuple[int, Attendee]]:
        """People to tell (``not_declined``, ``survey_pending``, ``invited`` or ``all``), in invitation order after `after`."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(A).where(A.c.event_id == event_id, A.c.position > after, self._audience(audience))
                .order_by(A.c.position).limit(limit))
            return [(r.position, _person(r)) for r in rows]

    async def records(self, event_id: str, page: int = 5000) -> AsyncIterator[AttendeeRecord]:
        """Every attendee, in invitation order, read a page at a time (never the whole roster at once)."""
        after = 0
        while True:
            async with self.db.read() as conn:
                rows = list(await conn.execute(select(A).where(A.c.event_id == event_id, A.c.position > after)
                                               .order_by(A.c.position).limit(page)))
            for r in rows:
                yield record_of(r)
            if len(rows) < page:
                return
            after = rows[-1].position

    async def check_ins(self, event_id: str, page: int = 5000) -> AsyncIterator[AttendeeRecord]:
        """Everyone checked in, in check-in order (ties by id), read a page at a time by keyset
        (``ix_attendees_checked_in``): never the whole roster at once, and no OFFSET scans."""
        after: tuple[datetime, str] | None = None
        while True:
            q = select(A).where(A.c.event_id == event_id, A.c.checked_in_at.is_not(None))
            if after is not None:
                q = q.where(or_(A.c.checked_in_at > after[0],
                                and_(A.c.checked_in_at == after[0], A.c.attendee_id > after[1])))
            async with self.db.read() as conn:
                rows = list(await conn.execute(q.order_by(A.c.checked_in_at, A.c.attendee_id).limit(page)))
            for r in rows:
                yield record_of(r)
            if len(rows) < page:
                return
            after = (rows[-1].checked_in_at, rows[-1].attendee_id)

    async def survey_responses(self, event_id: str, page: int = 5000) -> AsyncIterator[SurveyResponse]:
        """Every survey answer by respondent id, read a page at a time by keyset."""
        after: str | None = None
        while True:
            q = select(S).where(S.c.event_id == event_id)
            if after is not None:
                q = q.where(S.c.respondent > after)
            async with self.db.read() as conn:
                rows = list(await conn.execute(q.order_by(S.c.respondent).limit(page)))
            for r in rows:
                yield SurveyResponse(respondent=r.respondent, content=r.content, organisation=r.organisation,
                                     service=r.service, comment=r.comment)
            if len(rows) < page:
                return
            after = rows[-1].respondent

    async def survey(self, event_id: str) -> list[SurveyResponse]:
        async with self.db.read() as conn:
            rows = await conn.execute(select(S).where(S.c.event_id == event_id).order_by(S.c.respondent))
            return [SurveyResponse(respondent=r.respondent, content=r.content, organisation=r.organisation,
                                   service=r.service, comment=r.comment) for r in rows]

    # ------------------------------------------------------------------ the event's facts

    async def sync_event(self, facts: EventFacts) -> None:
        """Write the event's facts unless a newer version is there already (idempotent, order-proof)."""
        values = facts.model_dump() | {"start": to_db(facts.start), "end": to_db(facts.end),
                                       "updated_at": datetime.now(UTC)}
        async with self.db.write() as conn:
            stmt = self.db.insert(E).values(**values)
            stmt = stmt.on_conflict_do_update(index_elements=[E.c.event_id],
                                              set_={k: stmt.excluded[k] for k in values if k != "event_id"},
                                              where=E.c.version <= stmt.excluded.version)
            await conn.execute(stmt)

    async def facts(self, event_id: str, conn: AsyncConnection | None = None) -> EventFacts | None:
        async def read(c: AsyncConnection) -> EventFacts | None:
            row = (await c.execute(select(E).where(E.c.event_id == event_id))).first()
            if row is None:
                return None
            data = dict(row._mapping)
            data.pop("updated_at", None)
            return EventFacts(**data | {"start": utc(row.start), "end": utc(row.end)})

        if conn is not None:
            return await read(conn)
        async with self.db.read() as c:
            return await read(c)

    # ------------------------------------------------------------------ attendee acts

    def _open(self, event_id: str, on_site: bool = False) -> Any:
        """The event takes attendee acts (and, for check-in, is on site): a condition inside the UPDATE,
        so the common case is one statement."""
        cond = [E.c.event_id == event_id, E.c.status == "active"]
        if on_site:
            cond.append(E.c.on_site.is_(True))
        return exists().where(*cond)

    @staticmethod
    def _stage() -> Any:
        return select(E.c.stage).where(E.c.event_id == A.c.event_id).scalar_subquery()

    async def rsvp(self, event_id: str, act: Rsvp, now: datetime) -> ActResult:
        """Record an RSVP (a change of mind replaces the earlier answer), within the event's places: a yes when
        none is free joins the waiting list (:mod:`store.registration`).

        Raises:
            ActRefused: ``invalid`` (not invited), ``conflict`` (event over, key reused for another act).
        """
        from store.registration import Places  # registration builds on this module

        async def do(conn: AsyncConnection) -> tuple[str, str] | None:
            return await Places(self.db).answer(conn, event_id, act.attendee_id, act.response, now)

        async def why(conn: AsyncConnection, facts: EventFacts) -> ActRefused:
            return invalid(f"unknown attendee {act.attendee_id!r}: not invited to this event")

        return await self._act(event_id, "rsvp", act, now, do, why)

    async def check_in(self, event_id: str, act: CheckIn, now: datetime) -> ActResult:
        """Check an attendee in, once; a second check-in is refused saying when, by whom and where.

        Raises:
            ActRefused: ``invalid`` (not invited), ``conflict`` (not on site, already checked in, event over).
        """
        async def do(conn: AsyncConnection) -> tuple[str, str] | None:
            row = (await conn.execute(
                update(A).where(A.c.event_id == event_id, A.c.attendee_id == act.attendee_id,
                                A.c.checked_in_at.is_(None), self._open(event_id, on_site=True))
                .values(checked_in_at=to_db(now), checked_in_by=act.actor.id, checked_in_desk=act.desk)
                .returning(A.c.name, self._stage()))).first()
            if row is None:
                return None
            return f"{row[0]} checked in" + (f" at {act.desk}" if act.desk else ""), row[1]

        async def why(conn: AsyncConnection, facts: EventFacts) -> ActRefused:
            if not facts.on_site:
                return conflict(f"check-in opens on site; the event is in {facts.stage}")
            row = (await conn.execute(select(A).where(A.c.event_id == event_id,
                                                      A.c.attendee_id == act.attendee_id))).first()
            if row is None:
                return invalid(f"unknown attendee {act.attendee_id!r}: not invited to this event")
            at = utc(row.checked_in_at)
            where = f" at {row.checked_in_desk}" if row.checked_in_desk else ""
            return conflict(f"{act.attendee_id} already checked in at {at.isoformat() if at else '?'} "
                            f"by {row.checked_in_by}{where}")

        return await self._act(event_id, "check_in", act, now, do, why)

    async def record_survey(self, event_id: str, act: RecordSurvey, now: datetime) -> ActResult:
        """Record survey responses (after the event's end); a respondent answering again replaces the answer.

        Raises:
            ActRefused: ``conflict`` before the end or once the event no longer takes acts.
        """
        async def do(conn: AsyncConnection) -> tuple[str, str] | None:
            facts = await self.facts(event_id, conn)
            if facts is None or facts.status != "active" or now < facts.end:
                return None
            rows = [r.model_dump() | {"event_id": event_id, "at": to_db(now)} for r in act.responses]
            stmt = self.db.insert(S)
            stmt = stmt.on_conflict_do_update(
                index_elements=[S.c.event_id, S.c.respondent],
                set_={k: stmt.excluded[k] for k in ("content", "organisation", "service", "comment", "at")})
            await conn.execute(stmt, rows)
            return f"{len(act.responses)} survey response(s) recorded", facts.stage

        async def why(conn: AsyncConnection, facts: EventFacts) -> ActRefused:
            return conflict("survey responses are recorded after the event")

        return await self._act(event_id, "record_survey", act, now, do, why)

    async def _act(self, event_id: str, name: str, act: Any, now: datetime, do: Any, why: Any) -> ActResult:
        """Do an attendee act once per key: `do` tries it in one transaction (None: it did not apply);
        then `why` says why, after the key and the event's state have been looked at."""
        entry = f"act:{act.key}"
        fingerprint = digest(act)
        for attempt in range(2):
            try:
                async with self.db.write() as conn:
                    done = await do(conn)
                    if done is None:
                        raise await self._refusal(conn, event_id, entry, act, why)
                    summary, stage = done
                    result = ActResult(act=name, key=act.key, seq=0, stage=stage, status="active", message=summary)
                    await conn.execute(AU.insert().values(
                        event_id=event_id, entry=entry, seq=None, at=to_db(now), act=name, actor=act.actor.id,
                        role=act.actor.role, key=act.key, reason=act.reason, summary=summary, digest=fingerprint,
                        answer=result.model_dump(mode="json")))
                if self.on_applied is not None:  # committed: it happened
                    self.on_applied(name)
                return result
            except _Repeat as repeat:
                return repeat.result
            except IntegrityError:  # the key was used before (or meanwhile): answer as it did, or refuse
                async with self.db.read() as conn:
                    seen = await self._seen(conn, event_id, entry)
                if seen is not None:
                    return self._repeat(act, seen)
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _refusal(self, conn: AsyncConnection, event_id: str, entry: str, act: Any, why: Any) -> Exception:
        seen = await self._seen(conn, event_id, entry)
        if seen is not None:
            return _Repeat(self._repeat(act, seen))
        facts = await self.facts(event_id, conn)
        if facts is None:
            return invalid(f"unknown event {event_id!r}, or its roster is not ready yet")
        if facts.status != "active":
            return conflict(f"the event is {facts.status}; it takes no more acts")
        return await why(conn, facts)

    @staticmethod
    async def _seen(conn: AsyncConnection, event_id: str, entry: str) -> Any:
        return (await conn.execute(select(AU.c.digest, AU.c.answer).where(AU.c.event_id == event_id,
                                                                          AU.c.entry == entry))).first()

    @staticmethod
    def _repeat(act: Any, seen: Any) -> ActResult:
        if seen.digest != digest(act):
            raise ActRefused("conflict", f"idempotency key {act.key!r} was already used for a different act")
        return ActResult.model_validate(seen.answer)

    # ------------------------------------------------------------------ moving an old record

    async def import_legacy(self, part: LegacyRoster) -> None:
        """Write part of a record kept before the roster database (idempotent: rows already there stay)."""
        if part.attendees:
            async with self.db.write() as conn:
                top = (await conn.execute(select(func.max(A.c.position)).where(A.c.event_id == part.event_id))).scalar()
                base = (top or 0) + 1
                rows = [
                    _row(part.event_id, "legacy", a.invited_at, base + i, a.person, rsvp=a.rsvp,
                         checked_in_at=to_db(a.checked_in_at), invitation="sent")
                    for i, a in enumerate(part.attendees)
                ]
                await conn.execute(self.db.insert(A).on_conflict_do_nothing(), rows)
        if part.survey:
            async with self.db.write() as conn:
                rows = [r.model_dump() | {"event_id": part.event_id, "at": datetime.now(UTC)} for r in part.survey]
                await conn.execute(self.db.insert(S).on_conflict_do_nothing(), rows)
