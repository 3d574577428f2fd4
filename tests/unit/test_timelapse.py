"""A time-lapse definition: the same lifecycle with its calendar compressed, run by the same pure lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from definitions import definition_hash, shipped
from definitions.timelapse import describe_pace, timelapse
from tests.support import PM, PR, VENUE, conference, key
from workflows.lifecycle import Lifecycle
from workflows.messages import Attendee, AttendeeQuery, CheckIn, CompleteTask, InviteAttendees

from tests.unit.test_lifecycle import on_site, start

PACE = timedelta(seconds=10)
FACTOR = PACE / timedelta(days=1)
NOW = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)


def close(a: timedelta, b: timedelta) -> bool:
    return abs(a - b) < timedelta(milliseconds=1)


@pytest.mark.parametrize("kind", ["conference", "board_meeting", "product_launch"])
def test_every_day_scale_time_shrinks_by_the_same_factor(kind: str) -> None:
    real = shipped().get(kind)
    fast = timelapse(real, PACE)
    assert fast.kind == real.kind and fast.stage_ids() == real.stage_ids() and fast.roles == real.roles
    assert fast.permissions == real.permissions and fast.on_cancel == real.on_cancel
    assert fast.title == f"{real.title} (time-lapse: 1 day = 10 s)"
    for d_real, d_fast in zip(real.deadlines, fast.deadlines, strict=True):
        assert close(d_fast.at.delta, d_real.at.delta * FACTOR)
        assert d_fast.met_when == d_real.met_when
        for s_real, s_fast in zip(d_real.ladder, d_fast.ladder, strict=True):
            assert close(s_fast.delta, s_real.delta * FACTOR)
            assert (s_fast.notify, s_fast.level, s_fast.action) == (s_real.notify, s_real.level, s_real.action)
    for st_real, st_fast in zip(real.stages, fast.stages, strict=True):
        for t_real, t_fast in zip(st_real.tasks, st_fast.tasks, strict=True):
            for field in ("due", "run_at"):
                a, b = getattr(t_real, field), getattr(t_fast, field)
                assert (a is None) == (b is None)
                if a is not None:
                    assert close(b.delta, a.delta * FACTOR) and b.anchor == a.anchor
        for g_real, g_fast in zip(st_real.gates, st_fast.gates, strict=True):
            for c_real, c_fast in zip(g_real.checks, g_fast.checks, strict=True):
                if c_real.check in ("invitations_sent", "papers_acknowledged"):  # both scale their days
                    assert c_fast.days_before_start == pytest.approx(c_real.days_before_start * FACTOR)
                else:
                    assert c_fast == c_real
    assert fast.speaker_reminder_days == pytest.approx([d * FACTOR for d in real.speaker_reminder_days])
    # within the day nothing is compressed: an incident still has its minutes to be acknowledged
    assert fast.incident_ack_minutes == real.incident_ack_minutes


@pytest.mark.parametrize("day", [timedelta(0), timedelta(seconds=-1), timedelta(days=2)])
def test_a_pace_that_is_not_a_compression_is_refused(day: timedelta) -> None:
    with pytest.raises(ValueError, match="time-lapse day"):
        timelapse(shipped().get("conference"), day)


def test_describe_pace() -> None:
    assert [describe_pace(timedelta(seconds=s)) for s in (10, 0.5, 90, 7200)] == [
        "1 day = 10 s", "1 day = 0.5 s", "1 day = 1.5 min", "1 day = 2 h"]


def test_a_time_lapse_conference_escalates_and_judges_invitations_on_its_own_calendar() -> None:
    """Started 100 (demo) days ahead at 10 s a day: the budget ladder fires at start - 60 days = 400 s in,
    and invitations count as early only if sent 30 days = 300 s before the start."""
    fast = timelapse(shipped().get("conference"), PACE)
    event = conference(NOW, days_ahead=0).model_copy(update={
        "start": NOW + 100 * PACE, "end": NOW + 100 * PACE + timedelta(minutes=10)})
    lc = Lifecycle.start(fast, event, NOW, definition_hash(fast))
    for task in ("site_inspection", "venue_booked"):  # booked at once: only the budget ladder escalates
        lc.apply(CompleteTask(key=key(task), actor=VENUE, task=task))
    lc.take_effects()

    lc.at(NOW + timedelta(seconds=369)).tick()
    assert not [f for f in lc.record.fired if f.deadline == "budget_approval"]
    lc.at(NOW + timedelta(seconds=371)).tick()  # 3 days (30 s) before the deadline: the reminder
    assert [f.step for f in lc.record.fired if f.deadline == "budget_approval"] == [0]
    assert lc.escalation() == (0, False)
    lc.at(NOW + timedelta(seconds=401)).tick()
    assert lc.escalation() == (1, True)

    sent = NOW + timedelta(seconds=750)
    lc.at(sent).apply(InviteAttendees(key=key("inv"), actor=PR, attendees=[
        Attendee(id="ann", name="Ann", email="ann@example.org")]))
    gate = next(g for g in lc.view().gates if g.id == "invitations_sent")
    assert gate.reasons == [f"1 invitation(s) sent less than 5 minutes before the start (the latest at {sent.isoformat()})"]


def test_the_memory_roster_attendee_page_filters_the_check_in_desk() -> None:
    """Events recorded before the roster database page their in-memory roster through the `attendees` query."""
    lc = on_site(start(roster="memory"))  # ann and bob invited
    lc.apply(InviteAttendees(key=key("inv"), actor=PR, attendees=[
        Attendee(id=f"g{i}", name=f"Guest {i}", email=f"g{i}@example.org") for i in range(5)]))
    lc.apply(CheckIn(key=key("in"), actor=PM, attendee_id="g3"))
    inside = lc.attendee_page(AttendeeQuery(checked_in=True))
    assert [a.person.id for a in inside.items] == ["g3"] and (inside.total, inside.matched) == (7, 1)
    outside = lc.attendee_page(AttendeeQuery(checked_in=False, offset=1, limit=2))
    assert outside.matched == 6 and [a.person.id for a in outside.items] == ["bob", "g0"]
    assert [a.person.id for a in lc.attendee_page(AttendeeQuery(search="guest 4")).items] == ["g4"]


@pytest.mark.parametrize("kind", ["conference", "board_meeting", "product_launch"])
def test_a_definitions_hash_survives_the_trip_through_a_workflow_input(kind: str) -> None:
    """The archive recomputes the hash of the definition a workflow carried: whole days must stay whole
    (30, not 30.0) through JSON, and a time-lapse definition's fractions must come back exactly."""
    for definition in (shipped().get(kind), timelapse(shipped().get(kind), PACE)):
        again = type(definition).model_validate_json(definition.model_dump_json())
        assert definition_hash(again) == definition_hash(definition)
    inv = next(c for s in shipped().get(kind).stages for g in s.gates for c in g.checks if c.check == "invitations_sent")
    assert type(inv.days_before_start) is int
