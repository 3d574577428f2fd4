"""Record the replay histories checked in under tests/replay/histories/.

    python -m tests.replay.record

Run this only when a change is *meant* to change what new events record (and
running events are protected by ``workflow.patched``); the replay test then
guards the new histories. Each history is a full lifecycle on the time-skipping
server: every shipped definition walked to closed, and a conference left alone
until its ladders escalate, then cancelled.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from definitions import Definition, definition_hash, shipped
from tests.autopilot import event_for, walk_to_closed
from tests.conftest import binary
from tests.support import SPONSOR, RecordingActivities, conference, settings, start_conference
from worker import build_worker
from workflows import search
from workflows.client import act
from workflows.lifecycle import Lifecycle
from workflows.messages import Actor, Attendee, Cancel, DeliveryRecord, EventRecord, InviteAttendees, Rsvp

HISTORIES = Path(__file__).parent / "histories"


def legacy_record(definition: Definition, now: datetime) -> EventRecord:
    """The record of an event begun before the roster database, as its next run receives it: attendees
    with RSVPs, survey answers, deliveries and the whole audit held in the workflow."""
    details = event_for(definition, now, "replay-moved")
    lc = Lifecycle.start(definition, details, now, definition_hash(definition), roster="memory")
    pr = Actor(id="pr_communications", role="pr_communications")
    lc.apply(InviteAttendees(key="legacy-inv", actor=pr, attendees=[
        Attendee(id=f"old-{i}", name=f"Old Guest {i}", email=f"old{i}@example.org") for i in range(3)]))
    lc.apply(Rsvp(key="legacy-rsvp", actor=pr, attendee_id="old-0", response="yes"))
    lc.record.deliveries.append(DeliveryRecord(key="replay-moved:legacy", kind="invitation", channel="email",
                                               to="old0@example.org", status="sent", at=now))
    return lc.record


async def record() -> None:
    HISTORIES.mkdir(exist_ok=True)
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=binary("temporal-test-server")
    )
    try:
        await search.register(env.client, env.client.namespace)
        task_queue = f"record-{uuid.uuid4().hex[:8]}"
        async with build_worker(env.client, settings(task_queue), activities=RecordingActivities().all()):
            conference_kind = shipped().get("conference")
            for definition in shipped():
                handle = await walk_to_closed(env, definition, f"replay-{definition.kind}", task_queue)
                await handle.result()
                (HISTORIES / f"{definition.kind}.json").write_text((await handle.fetch_history()).to_json())
            handle = await walk_to_closed(env, conference_kind, "replay-moved", task_queue,
                                          record=legacy_record(conference_kind, await env.get_current_time()))
            await handle.result()
            (HISTORIES / "conference_moved_roster.json").write_text((await handle.fetch_history()).to_json())
            details = conference(await env.get_current_time(), event_id="replay-escalated", days_ahead=70)
            handle = await start_conference(env.client, task_queue, details)
            await env.sleep(timedelta(days=14))
            await act(env.client, details.id, Cancel(key="cancel-1", actor=SPONSOR, reason="no budget in time"))
            await handle.result()
            (HISTORIES / "conference_escalated_cancelled.json").write_text((await handle.fetch_history()).to_json())
    finally:
        await env.shutdown()
    print(f"recorded {len(list(HISTORIES.glob('*.json')))} histories in {HISTORIES}")


if __name__ == "__main__":
    asyncio.run(record())
