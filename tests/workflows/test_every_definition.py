"""Every shipped definition's event can be walked to closed."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from definitions import shipped
from tests.autopilot import walk_to_closed
from tests.support import RecordingActivities, settings
from worker import build_worker


@pytest.mark.parametrize("kind", shipped().kinds())
async def test_every_shipped_definition_walks_to_closed(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities, kind: str
):
    """Doing what each stage's gates ask, the event passes every stage of its path and closes."""
    definition = shipped().get(kind)
    async with build_worker(ts_env.client, settings(task_queue), activities=stand_ins.all()):
        handle = await walk_to_closed(ts_env, definition, f"every-{kind}", task_queue)
        final = await handle.result()
    assert final.status == "closed"
    entered = [a.summary.split(" -> ")[1] for a in final.audit if a.act == "advance"]
    assert [definition.path()[0], *entered] == definition.path()
    activity_tasks = sorted({t.activity for s in definition.stages for t in s.tasks if t.activity})
    assert sorted(set(stand_ins.dossier_calls)) == activity_tasks
