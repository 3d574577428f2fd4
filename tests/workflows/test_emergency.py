"""A large conference on the time-skipping server: its readiness waits for the police and fire coordination (1000
attendees or more) and the emergency plan's approval, incidents reported without an owner take the plan's, and
it walks to closed."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.support import COMMAND, PM, Driver, RecordingActivities, conference, key, settings, start_conference
from worker import build_worker
from workflows.messages import CompleteTask, ReportIncident, ResolveIncident


async def test_a_large_conference_coordinates_with_the_authorities_and_owns_its_incidents_by_the_plan(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="large-1", expected_attendees=2500)
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        team_ready = next(g for g in (await drive.state()).gates if g.id == "team_ready")
        assert team_ready.status == "passed"  # the team names every role: no tick needed
        await drive.prepare()
        await drive.plan()
        await drive.promote(authorities=False)
        s = await drive.state()
        # everything promote() does, but the coordination a large event needs: the readiness gate holds the stage
        assert s.stage == "promotion"
        ready = next(g for g in s.gates if g.id == "on_site_ready")
        assert ready.status == "open" and [r for r in ready.reasons if "authorities_coordinated" in r]
        assert next(g for g in s.gates if g.id == "emergency_plan_approved").status == "passed"
        assert next(t for t in s.tasks if t.id == "authorities_coordinated").required
        await drive.do(CompleteTask(key=key(), actor=PM, task="authorities_coordinated"))
        assert (await drive.state()).stage == "on_site"

        await drive.do(ReportIncident(key=key(), actor=COMMAND, incident_id="inc-1", category="injury",
                                      severity="medium", summary="a fall on the stairs"))
        s = await drive.state()
        assert [(i.id, i.owner) for i in s.incidents] == [("inc-1", "on_site_command")]
        await drive.do(ResolveIncident(key=key(), actor=COMMAND, incident_id="inc-1"))
        await drive.run_the_day()
        await ts_env.sleep(details.end - await ts_env.get_current_time() + timedelta(minutes=1))
        await drive.do(CompleteTask(key=key(), actor=PM, task="lessons_recorded", note="fine"))
        await ts_env.sleep(timedelta(days=15))
        final = await handle.result()
    assert final.status == "closed"
    assert next(d for d in final.deadlines if d.id == "authorities").status == "met"
