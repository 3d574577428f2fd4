"""On the dev server: a worker killed while a deadline timer is pending; the step fires after restart, once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.reliability.support import database_url, journal_of
from tests.support import conference, start_conference
from workflows.client import state

ROOT = Path(__file__).resolve().parents[2]


async def start_worker(env: WorkflowEnvironment, task_queue: str, tmp: Path) -> asyncio.subprocess.Process:
    log = (tmp / f"worker-{uuid.uuid4().hex[:6]}.log").open("wb")
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "worker.py"), cwd=ROOT, stdout=log, stderr=log,
        env={**os.environ, "CONVENE_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
             "CONVENE_TASK_QUEUE": task_queue, "CONVENE_ARCHIVE_ROOT": str(tmp / "archive"),
             "CONVENE_DATABASE_URL": database_url(tmp)},
    )


async def test_timer_pending_through_a_worker_kill_fires_once(dev_env: WorkflowEnvironment, tmp_path: Path):
    """SIGKILL the only worker before a ladder step is due; after a new worker starts, the step fires exactly once."""
    client = dev_env.client
    task_queue = f"restart-{uuid.uuid4().hex[:8]}"
    now = await dev_env.get_current_time()
    # The budget reminder is due at start-63d: put it 6 seconds from now.
    details = conference(now, event_id=f"restart-{uuid.uuid4().hex[:8]}", days_ahead=0)
    details = details.model_copy(update={"start": now + timedelta(days=63, seconds=6),
                                         "end": now + timedelta(days=64, seconds=6)})
    worker = await start_worker(dev_env, task_queue, tmp_path)
    try:
        await start_conference(client, task_queue, details)
        first = await state(client, details.id)  # answered by the first worker
        assert first.stage == "preparation" and not any(
            a.act == "remind" and "Budget approved" in a.summary for a in first.audit)
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        await asyncio.sleep(8)  # the reminder's time passes with no worker alive
        worker = await start_worker(dev_env, task_queue, tmp_path)
        reminders: list[str] = []
        for _ in range(150):
            s = await state(client, details.id)
            reminders = [a.summary for a in s.audit if a.act == "remind" and "Budget approved" in a.summary]
            if reminders:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # time for a (wrong) second firing to show up
        s = await state(client, details.id)
        # (the venue booking's ladder, due before this near start, has fired too: it is not the one watched)
        reminders = [a.summary for a in s.audit if a.act == "remind" and "Budget approved" in a.summary]
        assert len(reminders) == 1
        _, deliveries = await journal_of(tmp_path, s.event.id)  # the worker records each send there
        sent = [d.key for d in deliveries if ":budget_approval.0." in d.key]
        assert sent and len(sent) == len(set(sent))  # each recipient/channel once
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
