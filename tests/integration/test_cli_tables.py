"""`convene events list` on the dev server: one table, a Chinese title keeping the columns in line."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from rich.cells import cell_len
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from console import cli
from convene.settings import get_settings
from definitions import shipped
from tests.support import conference
from workflows.client import start_event


async def test_events_list_aligns_chinese_titles(dev_env: WorkflowEnvironment, task_queue: str,
                                                 monkeypatch: pytest.MonkeyPatch):
    """Two events of one owner, one titled in Chinese: their kind column starts at the same display column."""
    owner = f"o{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    for event_id, title in ((f"zh-{owner}", "年度技術大會"), (f"en-{owner}", "Annual tech summit")):
        details = conference(now, event_id=event_id).model_copy(update={"title": title, "owner": owner})
        await start_event(dev_env.client, details, shipped().get("conference"), task_queue)
    monkeypatch.setenv("CONVENE_TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    monkeypatch.setenv("CONVENE_TEMPORAL_NAMESPACE", dev_env.client.namespace)
    get_settings.cache_clear()
    try:
        lines: list[str] = []
        for _ in range(100):  # visibility is eventually consistent
            result = await asyncio.to_thread(CliRunner().invoke, cli.app, ["events", "list", "--owner", owner])
            assert result.exit_code == 0, result.output
            lines = result.output.splitlines()
            if len(lines) == 4:
                break
            await asyncio.sleep(0.1)
    finally:
        get_settings.cache_clear()
    assert lines[0].split() == ["id", "title", "kind", "stage", "level", "at", "risk", "status"]
    assert any("年度技術大會" in line for line in lines[2:])
    kind_at = {cell_len(line[:line.index("conference")]) for line in lines[2:]}
    assert kind_at == {cell_len(lines[0][:lines[0].index("kind")])}
    for event_id in (f"zh-{owner}", f"en-{owner}"):
        await dev_env.client.get_workflow_handle(f"event-{event_id}").terminate("test over")
