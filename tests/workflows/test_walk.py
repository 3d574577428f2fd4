"""A conference walked through all five stages on the time-skipping server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support import (
    PM,
    Driver,
    RecordingActivities,
    act_with_temporal_cli,
    conference,
    key,
    settings,
    start_conference,
)
from worker import build_worker
from workflows.client import act
from workflows.messages import CompleteTask


@pytest.mark.parametrize("transport", [act, act_with_temporal_cli], ids=["python", "temporal-cli"])
async def test_conference_walks_to_closed(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities, transport
):
    """A conference goes preparation -> planning -> promotion -> on-site -> post-event -> closed,
    driven by updates from Python and, separately, from the `temporal` CLI."""
    client = ts_env.client
    now = await ts_env.get_current_time()
    details = conference(now, event_id="walk-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id, transport)
        assert (await drive.state()).stage == "preparation"
        await drive.prepare()
        assert (await drive.state()).stage == "planning"
        await drive.plan()
        assert (await drive.state()).stage == "promotion"
        await drive.promote()
        s = await drive.state()
        assert s.stage == "on_site"
        await drive.run_the_day()
        assert (await drive.state()).stage == "on_site"  # the event has not ended yet
        await ts_env.sleep(details.end - await ts_env.get_current_time() + timedelta(minutes=1))
        s = await drive.state()
        assert s.stage == "post_event"
        await drive.do(CompleteTask(key=key(), actor=PM, task="lessons_recorded", note="book the hall earlier"))
        await ts_env.sleep(timedelta(days=15))
        final = await handle.result()
    assert final.status == "closed"
    assert final.stage == "closed"
    assert [a.summary for a in final.audit if a.act == "advance"] == [
        "preparation -> planning", "planning -> promotion", "promotion -> on_site", "on_site -> post_event",
    ]
    assert sorted(stand_ins.dossier_calls) == ["archive", "evaluation_report", "send_thanks"]
    assert "invitation" in stand_ins.kinds_to("kim") and "confirmation" in stand_ins.kinds_to("kim")
    assert final.escalation_level == 0 and not final.at_risk
