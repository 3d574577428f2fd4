"""Long-lived events continue as new with their whole state, audit included."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from tests.support import PM, Driver, RecordingActivities, conference, settings, start_conference
from worker import build_worker
from workflows.messages import CompleteTask


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
