"""On the real dev server: events are listed by stage with one visibility query, by Python and the CLI."""

from __future__ import annotations

import asyncio
import json
import uuid

from temporalio.testing import WorkflowEnvironment

from convene.devserver import temporal_binary
from tests.support import Driver, RecordingActivities, conference, settings, start_conference
from worker import build_worker
from workflows import search
from workflows.client import list_query
from workflows.messages import Actor


async def wait_for_count(client, query: str, expected: int, tries: int = 100) -> int:  # noqa: ANN001
    """Visibility is eventually consistent: poll the count until it settles on `expected` (or give up)."""
    count = -1
    for _ in range(tries):
        count = (await client.count_workflows(query)).count
        if count == expected:
            break
        await asyncio.sleep(0.1)
    return count


async def test_list_by_stage_is_one_visibility_query(
    dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Six events, two moved to planning: lists by stage and at-risk are right, from Python and `temporal`."""
    client = dev_env.client
    owner = f"owner-{uuid.uuid4().hex[:8]}"  # this test's events only
    now = await dev_env.get_current_time()
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        ids = [f"vis-{uuid.uuid4().hex[:8]}" for _ in range(6)]
        for i in ids:
            team = conference(now).team | {"project_manager": [conference(now).team["project_manager"][0].model_copy(
                update={"id": owner})]}
            await start_conference(client, task_queue, conference(now, event_id=i, owner=owner, team=team))
        for i in ids[:2]:
            await Driver(client, i, pm=Actor(id=owner, role="project_manager")).prepare()
        planning = list_query(stage="planning", owner=owner)
        preparation = list_query(stage="preparation", owner=owner)
        assert await wait_for_count(client, planning, 2) == 2
        assert await wait_for_count(client, preparation, 4) == 4
        listed = sorted([wf.id async for wf in client.list_workflows(planning)])
        assert listed == sorted(f"event-{i}" for i in ids[:2])
        first = await anext(aiter(client.list_workflows(planning)))
        assert first.typed_search_attributes.get(search.KIND) == "conference"
        assert first.typed_search_attributes.get(search.AT_RISK) is False

        proc = await asyncio.create_subprocess_exec(
            temporal_binary(), "workflow", "list", "--address", client.service_client.config.target_host,
            "--query", f"EventStage='planning' AND EventOwner='{owner}'", "--output", "json",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        rows = json.loads(out) if out.strip().startswith(b"[") else [json.loads(line) for line in out.splitlines()]
        assert sorted(r["execution"]["workflowId"] for r in rows) == listed
