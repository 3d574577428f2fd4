"""The programme, its people and the day itself, on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.support import (
    COMMAND, PLANNER, PR, Driver, RecordingActivities, conference, day_one, eventually, key, settings,
    start_conference,
)
from worker import build_worker
from workflows.messages import (
    AcknowledgeIncident, AgendaItem, Attendee, ChangeItem, CheckIn, EndItem, InviteAttendees, InviteSpeaker, Person,
    ReportIncident, Rsvp, SetAgenda, SpeakerReply, StartItem,
)


def gate(s, gate_id: str):  # noqa: ANN001, ANN201
    return next(g for g in s.gates if g.id == gate_id)


async def test_a_declining_keynote_reopens_the_gate_and_the_ladder(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Kim accepts then declines: the keynote is open again, the planner is told, the speakers ladder resumes."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="decline-1", days_ahead=50)  # speakers due day 5
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.do(InviteSpeaker(key=key(), actor=PLANNER, slot="keynote",
                                     speaker=Person(id="kim", name="Kim", email="kim@example.org")))
        await drive.do(SpeakerReply(key=key(), actor=PLANNER, speaker_id="kim", response="accepted"))
        await drive.do(SetAgenda(key=key(), actor=PLANNER, items=day_one(details.start)))
        assert gate(await drive.state(), "speakers_confirmed").status == "passed"
        await drive.do(SpeakerReply(key=key(), actor=PLANNER, speaker_id="kim", response="declined",
                                    reason="family emergency"))
        s = await drive.state()
        assert gate(s, "speakers_confirmed").reasons == ["keynote keynote (Durable events): Kim has declined"]
        told = await eventually(lambda: [n.recipient.person_id for n in stand_ins.notifications
                                         if "speaker-declined.kim" in n.key and n.channel == "email"])
        assert told == ["pat"]
        await ts_env.sleep(timedelta(days=6))  # past the speakers deadline
        s = await drive.state()
        ladder = next(d for d in s.deadlines if d.id == "speakers_confirmation")
        assert ladder.status == "missed" and s.at_risk and s.escalation_level >= 1


async def test_a_silent_speaker_gets_every_reminder_once_and_the_planner_is_told(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """A speaker who never answers is reminded at +7d and +14d, once each; the planner hears both times."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="silent-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.do(InviteSpeaker(key=key(), actor=PLANNER, slot="session",
                                     speaker=Person(id="sil", name="Silent Sam", email="sil@example.org")))
        await ts_env.sleep(timedelta(days=30))
        reminders = await eventually(lambda: [n.key for n in stand_ins.notifications
                                              if n.kind == "reminder" and n.recipient.person_id == "sil"][1:] and
                                     [n.key for n in stand_ins.notifications
                                      if n.kind == "reminder" and n.recipient.person_id == "sil"])
        assert reminders == [f"{details.id}:speaker-reminder.sil.0:sil:email", f"{details.id}:speaker-reminder.sil.1:sil:email"]
        planner = [n for n in stand_ins.notifications if "speaker-silent.sil" in n.key and n.channel == "email"]
        assert [n.recipient.person_id for n in planner] == ["pat", "pat"]
        s = await drive.state()
        assert sum(1 for a in s.audit if "Silent Sam has not answered" in a.summary) == 2


async def test_agenda_overlap_and_thin_buffer_block_the_planning_gate_with_reasons(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Two items overlapping in a room, and a room with no buffer, are named in the agenda gate's reasons."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="agenda-1")
    start = details.start
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.do(SetAgenda(key=key(), actor=PLANNER, items=[
            AgendaItem(id="open", kind="opening", title="Open", start=start, minutes=30),
            AgendaItem(id="talk1", kind="session", title="Talk 1", start=start + timedelta(minutes=20), minutes=30),
            AgendaItem(id="b1", kind="breakout", title="B1", start=start, minutes=60, room="east"),
            AgendaItem(id="b2", kind="breakout", title="B2", start=start + timedelta(minutes=60), minutes=60, room="east"),
        ]))
        s = await drive.state()
        reasons = gate(s, "agenda_ready").reasons
        assert "open and talk1 overlap in room main" in reasons
        assert any(r.startswith("room east keeps 0% buffer, less than 10% (b1, b2)") for r in reasons)
        assert s.stage == "planning"


async def test_invitations_sent_20_days_before_fail_the_30_day_check(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Invitations recorded 20 days before the start leave the invitations gate open, naming how many."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="late-inv-1", days_ahead=20)
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.do(InviteAttendees(key=key(), actor=PR, attendees=[
            Attendee(id="ann", name="Ann", email="ann@example.org"), Attendee(id="bob", name="Bob")]))
        s = await drive.state()
        sent_at = next(a.at for a in reversed(s.audit) if a.act == "invite_attendees")
        assert gate(s, "invitations_sent").reasons == [
            f"2 invitation(s) sent less than 30 days before the start (the latest at {sent_at.isoformat()})"]


async def on_site_event(ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities,
                        event_id: str) -> tuple[Driver, object]:
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id=event_id, days_ahead=40)
    await start_conference(client, task_queue, details)
    drive = Driver(client, details.id)
    await drive.prepare()
    await drive.plan()
    await drive.promote()
    assert (await drive.state()).stage == "on_site"
    return drive, details


async def test_an_item_that_overruns_warns_once_and_later_items_shift(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """The keynote runs 10 minutes over: one warning to the planner, and the items after it shown 10 minutes later."""
    async with build_worker(ts_env.client, settings(task_queue), activities=stand_ins.all()):
        drive, details = await on_site_event(ts_env, task_queue, stand_ins, "overrun-1")
        await ts_env.sleep(details.start + timedelta(minutes=30) - await ts_env.get_current_time())
        await drive.do(StartItem(key=key(), actor=COMMAND, item_id="keynote"))
        await ts_env.sleep(timedelta(minutes=55))  # 45-minute slot, 10 over
        s = await drive.state()
        keynote = next(v for v in s.agenda if v.item.id == "keynote")
        assert keynote.status == "overrun"  # as of the warning's timer, at the end of its slot
        await drive.do(EndItem(key=key(), actor=COMMAND, item_id="keynote"))
        s = await drive.state()
        talks = next(v for v in s.agenda if v.item.id == "talks")
        assert 9.9 <= talks.shift_minutes <= 10.1
        await ts_env.sleep(timedelta(minutes=30))
        warnings = [n for n in stand_ins.notifications if "overrun.keynote" in n.key and n.channel == "email"]
        assert [n.recipient.person_id for n in warnings] == ["pat"]
        assert sum(a.act == "overrun" for a in (await drive.state()).audit) == 1


async def test_a_severe_incident_not_acknowledged_escalates(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """A high-severity incident tells on-site command at once and escalates after 10 minutes without acknowledgement."""
    async with build_worker(ts_env.client, settings(task_queue), activities=stand_ins.all()):
        drive, _ = await on_site_event(ts_env, task_queue, stand_ins, "incident-1")
        await drive.do(ReportIncident(key=key(), actor=COMMAND, incident_id="fire-1", category="safety",
                                      severity="high", summary="smoke in hall B"))
        told = lambda: {n.recipient.person_id for n in stand_ins.notifications if "incident.fire-1" in n.key}  # noqa: E731
        await eventually(lambda: {"cole", "pia"} <= told())  # each send is its own activity: wait for both
        at_once = told()
        assert {"cole", "pia"} <= at_once
        await drive.do(ReportIncident(key=key(), actor=COMMAND, incident_id="mic-1", category="equipment",
                                      severity="high", summary="main mic dead"))
        await drive.do(AcknowledgeIncident(key=key(), actor=COMMAND, incident_id="mic-1", action="spare mic"))
        await ts_env.sleep(timedelta(minutes=12))
        s = await drive.state()
        escalated = [a.summary for a in s.audit if a.act == "escalate"]
        assert len([e for e in escalated if "fire-1" in e]) == 1 and not [e for e in escalated if "mic-1" in e]
        assert s.at_risk and s.escalation_level == 2
        assert "incidents_closed" in [g.id for g in s.gates if g.status == "open"]


async def test_attendee_acts_are_refused_by_the_workflow_and_point_to_the_roster(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """RSVP, check-in and survey answers are roster transactions: the workflow refuses them as updates,
    names the API route, and changes nothing; invitations travel as a small batch to an activity."""
    async with build_worker(ts_env.client, settings(task_queue), activities=stand_ins.all()):
        drive, _ = await on_site_event(ts_env, task_queue, stand_ins, "checkin-1")
        before = await drive.state()
        for act_, route in ((Rsvp(key=key(), actor=PR, attendee_id="ann", response="yes"), "rsvp"),
                            (CheckIn(key=key(), actor=PR, attendee_id="ann"), "check-in")):
            with pytest.raises(WorkflowUpdateFailedError) as info:
                await drive.do(act_)
            assert info.value.cause.type == "Invalid" and f"/attendees/{{attendee}}/{route}" in str(info.value.cause)
        after = await drive.state()
        assert after.audit_total == before.audit_total and after.attendees == before.attendees
        facts = stand_ins.latest_facts("checkin-1")
        assert facts is not None and facts.on_site and facts.stage == "on_site"
        sent = [i for i in stand_ins.invitations if i.event_id == "checkin-1"]
        assert [(len(i.attendees), i.cause.startswith("attendee.")) for i in sent] == [(2, True)]


async def test_agenda_exports_as_ics_and_a_printable_page(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """The agenda exports to a calendar with one event per item and to an escaped, printable page."""
    from icalendar import Calendar

    from console.agenda_exports import agenda_html, agenda_ics

    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="export-1", title="<script>x</script> Summit")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.plan()
        s = await drive.state()
    cal = Calendar.from_ical(agenda_ics(s))
    events = cal.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Welcome", "Durable events", "Coffee", "Lightning talks", "Closing"]
    assert events[1].decoded("dtstart") == details.start.replace(microsecond=0) + timedelta(minutes=30)
    page = agenda_html(s)
    assert "&lt;script&gt;x&lt;/script&gt; Summit" in page and "<script>x" not in page
    assert "Kim Keynote" in page


async def test_an_item_is_warned_of_before_its_end_once_and_a_change_tells_its_speaker(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """The keynote (45 min) runs: at 40 minutes the planner is warned once, by a durable timer; extending it by 10
    minutes tells Kim and re-arms the warning at the new end − 5; ending it leaves no overrun warning."""
    async with build_worker(ts_env.client, settings(task_queue), activities=stand_ins.all()):
        drive, details = await on_site_event(ts_env, task_queue, stand_ins, "item-end-1")
        await ts_env.sleep(details.start + timedelta(minutes=30) - await ts_env.get_current_time())
        await drive.do(StartItem(key=key(), actor=COMMAND, item_id="keynote"))
        warned = lambda: [n for n in stand_ins.notifications  # noqa: E731
                          if ":item-end.keynote." in n.key and n.channel == "email"]
        await ts_env.sleep(timedelta(minutes=39))
        assert warned() == []
        await ts_env.sleep(timedelta(minutes=2))
        first = await eventually(warned)
        assert [(n.recipient.person_id, n.context["item_ending"]) for n in first] == [("pat", "5")]
        await drive.do(ChangeItem(key=key(), actor=COMMAND, item_id="keynote", change="extend", minutes=10,
                                  reason="the questions run long", allow_overlap=True))
        told = await eventually(lambda: [n for n in stand_ins.notifications if "agenda-change.keynote.1" in n.key])
        assert [(n.recipient.person_id, n.context["agenda_change"]) for n in told] == [("kim", "extend")]
        await ts_env.sleep(timedelta(minutes=12))  # past the new end − 5
        await eventually(lambda: len(warned()) == 2)
        await drive.do(EndItem(key=key(), actor=COMMAND, item_id="keynote"))
        await ts_env.sleep(timedelta(minutes=30))
        s = await drive.state()
        assert sum(a.act == "item_ending" for a in s.audit) == 2 and not any(a.act == "overrun" for a in s.audit)
        assert len(warned()) == 2
        keynote = next(v for v in s.agenda if v.item.id == "keynote")
        assert keynote.item.minutes == 55 and keynote.planned is not None and keynote.planned.minutes == 45
