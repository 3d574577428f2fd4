"""Deadlines escalate by themselves: ladders fire once at their virtual times, move with the event."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.support import (
    APPROVER, PM, PR, SPONSOR, VENUE, Driver, RecordingActivities, conference, eventually, key, settings, start_conference,
)
from worker import build_worker
from workflows.messages import Attendee, Cancel, CompleteTask, Decide, InviteAttendees, Postpone


def budget_steps(stand_ins: RecordingActivities) -> Counter[tuple[str, str, str]]:
    """(kind, role, cause) of every ladder notification of the budget deadline, on email."""
    return Counter(
        (n.kind, n.recipient.role, n.key.split(":")[1].rsplit(".", 1)[0])
        for n in stand_ins.notifications
        if n.channel == "email" and ":budget_approval." in n.key
    )


async def test_untouched_conference_escalates_through_every_step_once(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Left alone, the budget ladder reminds at -3d, escalates at 0 and +2d, once each; the event is at risk."""
    client = ts_env.client
    now = await ts_env.get_current_time()
    details = conference(now, event_id="ladder-1", days_ahead=70)  # budget due at start-60d = now+10d
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.tasks(VENUE, "site_inspection", "venue_booked")  # only the budget ladder is left alone
        await ts_env.sleep(timedelta(days=6))
        s = await drive.state()
        assert s.escalation_level == 0 and not s.at_risk and not budget_steps(stand_ins)

        await ts_env.sleep(timedelta(days=1, hours=1))  # day 7: the reminder
        s = await drive.state()
        budget = next(d for d in s.deadlines if d.id == "budget_approval")
        assert [st.fired for st in budget.steps] == [True, False, False]
        assert s.escalation_level == 0 and not s.at_risk

        await ts_env.sleep(timedelta(days=3))  # day 10: at the deadline
        s = await drive.state()
        assert s.escalation_level == 1 and s.at_risk
        budget = next(d for d in s.deadlines if d.id == "budget_approval")
        assert budget.status == "missed" and budget.next_step is not None and budget.next_step.index == 2

        await ts_env.sleep(timedelta(days=4))  # day 14: two days after, and some
        s = await drive.state()
        assert s.escalation_level == 2 and s.at_risk
        steps = await eventually(lambda: len(budget_steps(stand_ins)) == 5 and budget_steps(stand_ins))
        assert steps == {
            ("reminder", "project_manager", "budget_approval.0"): 1,
            ("reminder", "finance_approver", "budget_approval.0"): 1,
            ("escalation", "project_manager", "budget_approval.1"): 1,
            ("escalation", "sponsor", "budget_approval.1"): 1,
            ("escalation", "sponsor", "budget_approval.2"): 1,
        }
        fired = [a.summary for a in s.audit if a.act in ("remind", "escalate") and "Budget" in a.summary]
        assert len(fired) == 3


async def test_meeting_the_condition_drops_the_rest_of_the_ladder(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """A budget approved after the reminder but before the deadline stops the ladder there and clears the risk."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="ladder-2", days_ahead=70)
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await ts_env.sleep(timedelta(days=8))  # the reminder has gone out
        await drive.prepare()
        await ts_env.sleep(timedelta(days=10))
        s = await drive.state()
        budget = next(d for d in s.deadlines if d.id == "budget_approval")
        assert budget.status == "met"
        assert [st.fired for st in budget.steps] == [True, False, False]
        assert {c for (_, _, c) in budget_steps(stand_ins)} == {"budget_approval.0"}


async def test_postponing_two_weeks_moves_every_pending_step(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """After a two-week postponement the budget steps fire two weeks later, and a fired step is not repeated."""
    client = ts_env.client
    now = await ts_env.get_current_time()
    details = conference(now, event_id="postpone-1", days_ahead=70)
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.tasks(VENUE, "site_inspection", "venue_booked")  # only the budget ladder is left alone
        await ts_env.sleep(timedelta(days=8))  # reminder (day 7) fired
        await drive.do(Postpone(key=key(), actor=SPONSOR, reason="venue flooded",
                                new_start=details.start + timedelta(days=14), new_end=details.end + timedelta(days=14)))
        s = await drive.state()
        budget = next(d for d in s.deadlines if d.id == "budget_approval")
        assert budget.at == details.start + timedelta(days=14) - timedelta(days=60)
        # The reminder's new time (day 21) is still ahead, so it is re-armed; nothing else fired.
        assert [st.fired for st in budget.steps] == [False, False, False]
        await ts_env.sleep(timedelta(days=8))  # day 16: the old deadline (day 10) passed without a step
        s = await drive.state()
        assert s.escalation_level == 0 and not s.at_risk
        await ts_env.sleep(timedelta(days=9))  # day 25: new reminder (21) and deadline (24)
        s = await drive.state()
        assert s.escalation_level == 1 and s.at_risk
        await eventually(lambda: sum(budget_steps(stand_ins).values()) >= 6)
        causes = Counter(c for (_, _, c) in budget_steps(stand_ins).elements())
        assert causes == {"budget_approval.0": 4, "budget_approval.1": 2}  # reminder fired for both dates
        assert s.event.start == details.start + timedelta(days=14)


async def test_cancel_runs_every_compensation_even_when_one_fails_first(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Cancelling tells everyone holding the invitation, releases every booking (one retried twice), and ends in `cancelled`."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="cancel-1")
    stand_ins.fail_releases["venue"] = 2
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.plan()
        await drive.do(Cancel(key=key(), actor=SPONSOR, reason="sponsor withdrew"))
        final = await handle.result()
    assert final.status == "cancelled" and final.stage == "cancelled"
    assert sorted(stand_ins.releases) == ["catering", "equipment_rental", "lodging", "venue"]
    assert {e.name for e in final.effects if e.ok and e.name.startswith("release:")} == {
        "release:venue", "release:lodging", "release:catering", "release:equipment_rental"
    }
    told = {n.recipient.person_id for n in stand_ins.notifications if n.kind == "cancellation" and n.channel == "email"}
    assert "kim" in told  # the confirmed speaker, by the workflow itself
    # attendees are told from the roster database: everyone whose invitation went out, with a METHOD:CANCEL .ics
    assert [(n.kind, n.audience, n.cause, n.context["reason"], n.context["ics_method"], n.attach_ics)
            for n in stand_ins.notices] == [("cancellation", "invited", "calendar.1", "sponsor withdrew", "CANCEL", True)]
    assert final.audit[-1].act == "cancel" and final.audit[-1].actor == "sam"


async def test_an_activity_that_always_fails_escalates_and_the_event_goes_on(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """A failing archive marks the event at risk and tells the owner; the workflow does not fail."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="fail-1", days_ahead=2)
    stand_ins.fail_dossier.add("archive")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.plan_late()
        await drive.promote()
        await drive.run_the_day()
        await ts_env.sleep(timedelta(days=10))
        s = await drive.state()
        assert s.stage == "post_event" and s.status == "active"
        assert s.at_risk and s.escalation_level >= 1
        assert any(e.name == "archive_written" and not e.ok for e in s.effects)
        owner_told = await eventually(lambda: [n for n in stand_ins.notifications
                                               if n.kind == "escalation" and "failed.archive_written" in n.key])
        assert owner_told and owner_told[0].recipient.role == "project_manager"
        await drive.do(CompleteTask(key=key(), actor=PM, task="lessons_recorded", note="check the archive store"))
        assert (await drive.state()).status == "active"  # still waiting on the archive


async def test_a_notification_retrying_does_not_hold_back_the_event(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """While the owner's email keeps failing and retrying, the new stage reaches visibility at once
    and a later deadline step still fires on time."""
    from workflows import search

    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="retrying-1", days_ahead=70)
    stand_ins.unreachable.add("pia")  # the owner is told when preparation ends: that send keeps failing
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        assert (await handle.describe()).typed_search_attributes.get(search.STAGE) == "planning"
        await ts_env.sleep(timedelta(days=23))  # the speakers reminder (start-48d = day 22) is due
        s = await drive.state()
        speakers = next(d for d in s.deadlines if d.id == "speakers_confirmation")
        assert speakers.steps[0].fired


async def test_a_postponement_during_an_invitation_send_updates_calendars_after_it(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Issue 17, item 6, through Temporal: invitations still going out (with the old dates) when the event is
    postponed finish first; only then does the calendar update go to everyone whose invitation went out, so
    nobody is left holding the old date."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="moved-1")
    stand_ins.hold_invitations = asyncio.Event()
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.do(InviteAttendees(key="inv-1", actor=PR, attendees=[
            Attendee(id="ann", name="Ann", email="ann@example.org")]))
        await eventually(lambda: "invitations:inv-1 started" in stand_ins.log)
        new_start = details.start + timedelta(days=30)
        await drive.do(Postpone(key="p-1", actor=PM, new_start=new_start, new_end=details.end + timedelta(days=30)))
        await asyncio.sleep(1.0)  # the update is queued; it must not start while the send is held
        assert [e for e in stand_ins.log if e.startswith("notice:")] == []
        stand_ins.hold_invitations.set()
        await eventually(lambda: "notice:invited:calendar.1" in stand_ins.log)
    assert stand_ins.log == ["invitations:inv-1 started", "invitations:inv-1 done", "notice:invited:calendar.1"]
    [update] = stand_ins.notices
    assert (update.kind, update.attach_ics, update.context["ics_sequence"], update.context["start"]) == (
        "postponement", True, 1, new_start.isoformat())
