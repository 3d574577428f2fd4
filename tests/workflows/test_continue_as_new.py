"""Long-lived events continue as new with their whole state, audit included."""

from __future__ import annotations

from decimal import Decimal

from temporalio.testing import WorkflowEnvironment

from definitions import shipped
from tests.support import (
    FINANCE,
    PM,
    PR,
    Driver,
    RecordingActivities,
    conference,
    eventually,
    settings,
    start_conference,
)
from worker import build_worker
from workflows.messages import BudgetLine, CompleteTask, RecordBudget, ReportIncident


async def test_continue_as_new_keeps_the_whole_state(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """With a small history limit the event continues as new mid-way and nothing it knew is lost."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="can-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details, history_limit=60)
        drive = Driver(client, details.id)
        early = CompleteTask(key="before-the-hand-over", actor=PM, task="theme_purpose")
        early_result = await drive.do(early)
        await drive.prepare()
        await drive.plan()
        s = await drive.state()
        description = await handle.describe()
        first_run = handle.first_execution_run_id or handle.result_run_id
        assert description.run_id != first_run, "expected at least one continue-as-new"
        assert s.stage == "promotion"
        assert s.audit[0].key == "before-the-hand-over" and [a.seq for a in s.audit] == list(range(1, len(s.audit) + 1))
        assert s.speakers.confirmed_keynotes == 1 and s.attendees.invited == 2
        assert next(g for g in s.gates if g.id == "budget_approved").status == "passed"
        assert len((await handle.fetch_history()).events) < 200
        # Idempotency keys survive too: an act from before the hand-over, sent again, is applied once.
        again = await drive.do(early)
        assert again == early_result
        assert len((await drive.state()).audit) == len(s.audit)


async def test_a_record_kept_in_memory_moves_to_the_roster_database_once(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """A run that receives a record from before the roster database (as a run continued from an old one
    does) writes its attendees, survey, deliveries and audit there first, then keeps a bounded record."""
    from tests.replay.record import legacy_record
    from workflows.client import start_input, workflow_id
    from workflows.event import WORKFLOW_NAME
    from workflows.messages import StateView

    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="replay-moved")
    definition = shipped().get("conference")
    legacy = legacy_record(definition, await ts_env.get_current_time())
    assert legacy.roster == "memory" and len(legacy.attendees) == 3
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        inp = start_input(details, definition).model_copy(update={"record": legacy})
        await client.start_workflow(WORKFLOW_NAME, inp, id=workflow_id(details.id), task_queue=task_queue,
                                    result_type=StateView)
        drive = Driver(client, details.id)
        s = await drive.state()
        await drive.tasks(PM, "theme_purpose")
        audited = await eventually(lambda: max(stand_ins.audit, default=0) > len(legacy.audit) and stand_ins.audit)
    moved = stand_ins.legacy
    assert sorted(a.person.id for part in moved for a in part.attendees) == ["old-0", "old-1", "old-2"]
    assert [d.key for part in moved for d in part.deliveries] == ["replay-moved:legacy"]
    assert [e.seq for part in moved for e in part.audit] == [e.seq for e in legacy.audit]
    assert s.roster == "database" and s.attendees.invited == 3 and s.audit_total == len(legacy.audit)
    assert sorted(audited) == list(range(len(legacy.audit) + 1, max(audited) + 1))  # numbering goes on


async def test_a_conference_of_50000_keeps_every_payload_under_256_kib(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """50,000 attendees invited in 100 batches, 300 more team acts: every payload in the history (inputs,
    update answers, activity inputs, continue-as-new) and the state query stay under 256 KiB."""
    from temporalio.api.enums.v1 import EventType

    from workflows.messages import InvitationBatchRef, InviteAttendees

    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="big-1", days_ahead=200)
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details, history_limit=2000)
        drive = Driver(client, details.id)
        await drive.prepare()
        for i in range(100):
            await drive.do(InviteAttendees(key=f"big-batch-{i}", actor=PR,
                                           batch=InvitationBatchRef(id=f"batch-{i}", count=500)))
        for i in range(60):  # a busy day's incidents (they are kept in the record: see the README)
            await drive.do(ReportIncident(key=f"big-inc-{i}", actor=PM, incident_id=f"i{i}", category="other",
                                          severity="low", summary="x" * 300))
        for i in range(240):  # and a long tail of team acts, which only the database keeps
            await drive.do(RecordBudget(key=f"big-budget-{i}", actor=FINANCE, lines=[
                BudgetLine(category="catering", planned=Decimal(30000 + i))]))
        s = await drive.state()
        state_bytes = len(s.model_dump_json())
        runs = [await handle.fetch_history()]
    assert s.attendees.invited == 50_000 and s.audit_total > 400 and len(s.audit) == 50
    assert state_bytes < 256 * 1024, state_bytes
    largest = 0
    for history in runs:
        for e in history.events:
            for field in ("workflow_execution_started_event_attributes", "activity_task_scheduled_event_attributes",
                          "workflow_execution_update_completed_event_attributes",
                          "workflow_execution_continued_as_new_event_attributes"):
                if e.HasField(field):
                    largest = max(largest, e.ByteSize())
    assert 0 < largest < 256 * 1024, largest
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in {e.event_type for h in runs for e in h.events}
