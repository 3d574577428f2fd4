"""Acts about attendees: invitations, and (for events recorded before the roster database only) RSVPs,
check-ins and survey answers. Each act's ``check_``/``apply_`` pair is listed in :data:`HANDLERS`."""

from __future__ import annotations

from workflows.lifecycle.handler import Handler
from workflows.lifecycle.moves import Moves
from workflows.messages import (
    INLINE_INVITATIONS,
    Act,
    AttendeeRecord,
    CheckIn,
    InvitationBatch,
    InvitationSend,
    InviteAttendees,
    RecordSurvey,
    Rsvp,
)
from workflows.refusals import conflict as _conflict
from workflows.refusals import invalid as _invalid


def check_invite_attendees(lc: Moves, act: InviteAttendees) -> None:
    if lc.in_database:
        if len(act.attendees) > INLINE_INVITATIONS:
            raise _invalid("at most %(limit)s attendees travel inside one act; write more to the roster first and "
                           "invite them as a batch (the API and CLI do this)", limit=INLINE_INVITATIONS)
        return  # the roster database skips people already invited
    if act.batch is not None:
        raise _invalid("this event keeps its roster in the workflow (recorded before the roster database); "
                       "list the attendees in the act")
    ids = [a.id for a in act.attendees]
    dupes = sorted({i for i in ids if ids.count(i) > 1} | {i for i in ids if i in lc.record.attendees})
    if dupes:
        raise _conflict("already invited: %(people)s", people=", ".join(dupes[:10]))


def apply_invite_attendees(lc: Moves, act: InviteAttendees) -> str:
    if lc.in_database:
        count = act.batch.count if act.batch else len(act.attendees)
        lc._add_invitation_batch(InvitationBatch(at=lc.now, count=count))
        lc.effects.append(InvitationSend(
            event_id=lc.event.id, batch=act.batch.id if act.batch else act.key, invited_at=lc.now,
            attendees=list(act.attendees), cause=f"attendee.{act.key}", locale=lc.event.locale,
            context=lc._context() | lc._invitation_context() | {"audience": "attendee"},
        ))
        return f"{count} attendee(s) invited"
    for a in act.attendees:
        lc.record.attendees[a.id] = AttendeeRecord(person=a, invited_at=lc.now)
    lc._notify_people("invitation", list(act.attendees), cause=f"attendee.{act.key}",
                        extra=lc._invitation_context() | {"audience": "attendee"}, ics=True)
    return f"{len(act.attendees)} attendee(s) invited"


def _attendee(lc: Moves, attendee_id: str) -> AttendeeRecord:
    rec = lc.record.attendees.get(attendee_id)
    if rec is None:
        raise _invalid("unknown attendee %(attendee)r: not invited to this event", attendee=attendee_id)
    return rec


def check_rsvp(lc: Moves, act: Rsvp) -> None:
    lc._roster_in_memory("RSVPs", "POST /events/{id}/attendees/{attendee}/rsvp")
    _attendee(lc, act.attendee_id)


def apply_rsvp(lc: Moves, act: Rsvp) -> str:
    rec = _attendee(lc, act.attendee_id)
    rec.rsvp = act.response
    return f"{rec.person.name} answered {act.response}"


def check_check_in(lc: Moves, act: CheckIn) -> None:
    lc._roster_in_memory("check-ins", "POST /events/{id}/attendees/{attendee}/check-in")
    rec = _attendee(lc, act.attendee_id)
    if not lc._on_site():
        raise _conflict("check-in opens on site; the event is in %(current)s", current=lc.record.stage)
    if rec.checked_in_at is not None:
        raise _conflict("%(attendee)s already checked in at %(at)s", attendee=act.attendee_id, at=rec.checked_in_at.isoformat())


def apply_check_in(lc: Moves, act: CheckIn) -> str:
    rec = _attendee(lc, act.attendee_id)
    rec.checked_in_at = lc.now
    return f"{rec.person.name} checked in"


def check_record_survey(lc: Moves, act: RecordSurvey) -> None:
    lc._roster_in_memory("survey responses", "POST /events/{id}/survey")
    if lc.now < lc.event.end:
        raise _conflict("survey responses are recorded after the event")


def apply_record_survey(lc: Moves, act: RecordSurvey) -> str:
    for resp in act.responses:
        lc.record.survey[resp.respondent] = resp
    return f"{len(act.responses)} survey response(s) recorded"


HANDLERS: dict[type[Act], Handler] = {
    InviteAttendees: Handler(check_invite_attendees, apply_invite_attendees),
    Rsvp: Handler(check_rsvp, apply_rsvp),
    CheckIn: Handler(check_check_in, apply_check_in),
    RecordSurvey: Handler(check_record_survey, apply_record_survey),
}
