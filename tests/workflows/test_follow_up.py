"""Issue 20, defect 5 on the time-skipping server: lessons recorded after the evaluation report write it again;
and each report goes to the definition's report_to roles (item 6)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.support import PM, Driver, RecordingActivities, conference, key, settings, start_conference
from worker import build_worker
from workflows.messages import CompleteTask


async def test_lessons_recorded_after_the_report_write_it_again(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """The report runs at end+14 days without lessons; recording them at end+15 runs it again, and the event
    closes only after that second report has been written. Each report goes by email to the conference's
    report_to roles: the first without lessons, the second quoting them."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="lessons-late")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()
        await drive.plan()
        await drive.promote()
        await drive.run_the_day()
        await ts_env.sleep(details.end - await ts_env.get_current_time() + timedelta(days=15))
        s = await drive.state()
        assert s.stage == "post_event"
        assert stand_ins.dossier_calls.count("evaluation_report") == 1
        result = await drive.do(CompleteTask(key=key(), actor=PM, task="lessons_recorded", note="Open doors earlier."))
        final = await handle.result()
    assert result.message.endswith("the evaluation report is written again with the lessons")
    assert final.status == "closed"
    assert stand_ins.dossier_calls.count("evaluation_report") == 2
    reports = [n for n in stand_ins.notifications if n.kind == "evaluation_report" and n.channel == "email"]
    roles = ["project_manager", "sponsor", "finance_approver"]
    assert sorted(n.recipient.role for n in reports) == sorted(roles * 2)
    assert sorted(n.context["lessons"] for n in reports) == [""] * 3 + ["Open doors earlier."] * 3
