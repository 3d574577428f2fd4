"""Recorded histories replay against today's workflow code: a change that would break running events fails here."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from worker import workflow_runner
from workflows.event import EventLifecycle
from workflows.messages import StateView, WorkflowInput

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())


def replayer(*workflows: type) -> Replayer:
    return Replayer(workflows=list(workflows), data_converter=pydantic_data_converter, workflow_runner=workflow_runner())


def test_histories_are_checked_in():
    """Every shipped definition has a recorded full lifecycle to replay."""
    from definitions import shipped

    assert {p.stem for p in HISTORIES} >= set(shipped().kinds())


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_on_todays_code(path: Path):
    """A recorded lifecycle replays with no nondeterminism."""
    result = await replayer(EventLifecycle).replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@workflow.defn(name="EventLifecycle")
class ReorderedLifecycle(EventLifecycle):
    """A deliberately incompatible change: the workflow now sleeps before its first effects."""

    @workflow.run
    async def run(self, inp: WorkflowInput) -> StateView:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)


async def test_an_incompatible_change_fails_the_replay():
    """Adding a timer at the start (without workflow.patched) is caught as nondeterminism."""
    result = await replayer(ReorderedLifecycle).replay_workflow(load(HISTORIES[0]), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, NondeterminismError)


def _patches(path: Path) -> set[str]:
    from temporalio.api.enums.v1 import EventType

    found = set()
    for e in load(path).events:
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            details = e.marker_recorded_event_attributes.details
            if "patch-data" in details:
                found.add(json.loads(details["patch-data"].payloads[0].data)["id"])
    return found


def test_histories_from_before_a_patch_are_kept_and_still_replay():
    """Histories recorded before a patch lack its marker (they replay above, on the old path);
    histories recorded since carry it."""
    for patch in ("board-attributes", "effects-beside-the-loop", "roster-in-database", "calendar-updates",
                  "speaker-reminders", "report-after-lessons", "event-readers", "item-end-warning",
                  "incident-owner-from-plan"):
        before = [p for p in HISTORIES if f".before-{patch}" in p.name]
        after = [p for p in HISTORIES if ".before-" not in p.name]
        assert before and after
        assert all(patch not in _patches(p) for p in before), patch
        assert all(patch in _patches(p) for p in after), patch


def _activities(path: Path) -> list[str]:
    from temporalio.api.enums.v1 import EventType

    return [e.activity_task_scheduled_event_attributes.activity_type.name for e in load(path).events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]


def test_a_history_recorded_across_the_roster_move_is_kept():
    """The run that received a record kept in memory moves it to the database first (import_legacy_record,
    once, before anything else), then writes its audit and facts there; histories from before never do."""
    moved = _activities(HISTORIES[0].parent / "conference_moved_roster.json")
    assert moved[0] == "import_legacy_record" and moved.count("import_legacy_record") >= 1
    assert "record_audit" in moved and "sync_event" in moved
    for path in HISTORIES:
        if ".before-roster-in-database" in path.name:
            assert not {"record_audit", "sync_event", "import_legacy_record"} & set(_activities(path)), path.name
