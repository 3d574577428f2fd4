"""`convene dev`: the whole stack comes up on the embedded dev server, and events survive a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import httpx

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from convene.devserver import free_port
from console.dev import DEMO_ID, DEMO_LENGTH_DAYS, DEMO_PACE
from workflows.messages import StateView

CONVENE = str(Path(sys.executable).parent / "convene")


async def run_until_banner(db: Path, port: int, ui_port: int, api_port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        CONVENE, "dev", "--db", str(db), "--port", str(port), "--ui-port", str(ui_port), "--api-port", str(api_port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "CONVENE_TASK_QUEUE": "dev-stack-test", "CONVENE_ARCHIVE_ROOT": str(db.parent / "archive")},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(90):
        while "Ctrl-C stops everything." not in lines:
            line = await proc.stdout.readline()
            assert line, f"convene dev exited early: {lines}"
            lines.append(line.decode().strip())
    return proc


async def stop(proc: asyncio.subprocess.Process) -> int:
    proc.send_signal(signal.SIGINT)
    async with asyncio.timeout(30):
        return await proc.wait()


async def test_dev_stack_runs_a_demo_and_keeps_it_across_a_restart(tmp_path: Path):
    """The stack starts a demo conference, stops cleanly, and on restart finds the same event where it was."""
    db = tmp_path / "temporal.db"
    port, ui_port, api_port = free_port(), free_port(), free_port()
    proc = await run_until_banner(db, port, ui_port, api_port)
    try:
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        first = await client.get_workflow_handle(f"event-{DEMO_ID}").query("state", result_type=StateView)
        assert first.stage == "preparation" and first.kind == "conference"
        assert [a.act for a in first.audit].count("complete_task") == 3
        # the demo runs in time-lapse (one day = 10 s): it starts within the half hour and every
        # deadline of its calendar falls between now and a few minutes after its end
        assert first.event.end - first.event.start == DEMO_LENGTH_DAYS * DEMO_PACE == timedelta(minutes=10)
        assert first.event.start - first.now < timedelta(minutes=20)
        assert all(first.now < d.at < first.event.end + timedelta(minutes=5) for d in first.deadlines)
        # one-click sign-in: the dev people's tokens are offered, and each one signs in as that person
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}") as http:
            people = (await http.get("/ui/api/dev-people")).json()
            assert {"pia", "finn", "vic"} <= {p["id"] for p in people}
            for person in people:
                me = await http.get("/ui/api/me", headers={"Authorization": f"Bearer {person['token']}"})
                assert me.status_code == 200 and me.json()["id"] == person["id"]
    finally:
        assert await stop(proc) == 0
    proc = await run_until_banner(db, port, ui_port, api_port)
    try:
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        again = await client.get_workflow_handle(f"event-{DEMO_ID}").query("state", result_type=StateView)
        assert again.audit == first.audit  # the same event, not a second demo
        count = await client.count_workflows("EventStage='preparation'")
        assert count.count == 1
    finally:
        assert await stop(proc) == 0
