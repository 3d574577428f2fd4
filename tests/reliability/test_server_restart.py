"""The Temporal server itself is SIGKILLed and started again on the same SQLite file while events wait
on decisions and deadline timers: the same worker process carries on, acts sent meanwhile are answered
once the server is back, every pending ladder step fires exactly once, and nothing accepted is lost."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.reliability.support import (
    Outcome,
    WorkerProcess,
    act_until_answered,
    audit_keys,
    dev_server,
    failed_workflow_tasks,
    journal_of,
    state_when_up,
    webhook_receiver,
)
from tests.support import FINANCE, PM, VENUE, conference, start_conference
from workflows.client import handle
from workflows.messages import CompleteTask

# Seconds from the start until each event's first ladder step (the budget reminder, at start-63d) is due:
# before the kill, while the server is down, and after it is back.
REMINDER_IN = (2.0, 5.0, 6.0, 8.0, 11.0)
KILL_AT, DOWN_FOR = 4.0, 1.5


async def test_server_killed_and_restarted_keeps_every_act_and_fires_each_timer_once(tmp_path: Path):
    server = dev_server(tmp_path / "temporal" / "dev.db")
    await server.start()
    worker: WorkerProcess | None = None
    running: list[asyncio.Task[Any]] = []
    try:
        client = await server.ready()
        task_queue = f"server-{uuid.uuid4().hex[:8]}"
        worker = WorkerProcess(server.address, task_queue, tmp_path)
        await worker.start()
        with webhook_receiver() as receiver:
            t0 = time.monotonic()
            now = datetime.now(timezone.utc)
            events = []
            for i, seconds in enumerate(REMINDER_IN):
                start = now + timedelta(days=63, seconds=seconds)
                details = conference(now, event_id=f"srv-{i}-{uuid.uuid4().hex[:6]}", webhooks=[receiver.url()])
                events.append(details.model_copy(update={"start": start, "end": start + timedelta(days=1)}))
                await start_conference(client, task_queue, events[-1])
            outcomes: list[Outcome] = []

            async def decide_steadily(event_id: str) -> None:
                """The team keeps working: a task every ~0.8 s, through the outage (the client retries, same key)."""
                for n, (actor, task) in enumerate([(PM, "theme_purpose"), (PM, "date_checked"), (PM, "team_assigned"),
                                                   (VENUE, "site_inspection"), (VENUE, "venue_booked"),
                                                   (FINANCE, "budget_draft"), (FINANCE, "budget_draft")]):
                    act_ = CompleteTask(key=f"{event_id}.{n}.{task}", actor=actor, task=task)
                    outcomes.append(await act_until_answered(client, event_id, act_, rpc_timeout=5))
                    await asyncio.sleep(0.8)

            running += [asyncio.create_task(decide_steadily(e.id)) for e in events]
            await asyncio.sleep(KILL_AT - (time.monotonic() - t0))
            before = {e.id: audit_keys(await state_when_up(client, e.id)) for e in events}
            await server.kill()
            killed_at = time.monotonic() - t0
            await asyncio.sleep(DOWN_FOR)
            await server.start()
            client = await server.ready()  # the test's own client; the worker reconnects by itself
            back_at = time.monotonic() - t0
            await asyncio.gather(*running)
            # Wait until every reminder is due and has had time to fire (and, wrongly, to fire twice).
            await asyncio.sleep(max(0.0, max(REMINDER_IN) + 1 - (time.monotonic() - t0)))
            deadline = time.monotonic() + 60
            while True:
                views = [await state_when_up(client, e.id) for e in events]
                if all(any(a.act == "remind" and "Budget approved" in a.summary for a in v.audit) for v in views) \
                        or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.5)  # time for a wrong second firing to show up
            views = [await state_when_up(client, e.id) for e in events]

            for view in views:
                keys = audit_keys(view)
                # Every act accepted before the kill is still recorded, once.
                assert all(keys[k] == 1 for k in before[view.event.id]), view.event.id
                # Every act answered (before, during or after the outage) is recorded once; refused ones nowhere.
                for o in (o for o in outcomes if o.event_id == view.event.id):
                    assert keys[o.key] == (1 if o.accepted else 0), (o, keys[o.key])
                # the budget's reminder, once (the venue booking's ladder, due before this near start, fires too)
                reminders = [a for a in view.audit if a.act == "remind" and "Budget approved" in a.summary]
                assert len(reminders) == 1, (view.event.id, reminders)
                _, deliveries = await journal_of(tmp_path, view.event.id)
                fired = [f for f in deliveries if ":budget_approval.0." in f.key]
                assert fired and len({f.key for f in fired}) == len(fired), fired
                assert view.stage == "preparation" and view.status == "active"
                assert not await failed_workflow_tasks(handle(client, view.event.id))
            # The second draft completion is refused (already done): the act answered, nothing recorded twice.
            assert sum(not o.accepted for o in outcomes) == len(events)
            # One reminder webhook per event reached the subscriber, each key applied once.
            hooks = [k for k in receiver.counts() if ":budget_approval.0." in k]
            assert len(hooks) == len(events), receiver.counts()
            assert receiver.unsigned() == 0 and receiver.conflicting_bodies() == []
            assert worker.proc is not None and worker.proc.returncode is None, "the worker outlived the outage"
            retried = sum(o.attempts > 1 for o in outcomes)
            waited = sum(o.latency > 1.0 for o in outcomes)  # held by the client's own retries until the server was back
            print("\nserver restart: " + json.dumps({
                "killed_at_s": round(killed_at, 1), "back_at_s": round(back_at, 1), "acts": len(outcomes),
                "acts_retried": retried, "acts_waiting_out_the_outage": waited, "webhook_posts": len(receiver.hits), "webhook_keys": len(receiver.counts()),
                "total_s": round(time.monotonic() - t0, 1)}))
    finally:
        for task in running:
            task.cancel()
        if worker is not None:
            await worker.kill()
        await server.kill()
