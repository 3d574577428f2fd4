"""Acts on a running event: refusals change nothing, repeats apply once, moves are recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.support import (
    APPROVER, FINANCE, PM, SPONSOR, Driver, RecordingActivities, conference, key, settings, start_conference,
)
from worker import build_worker
from workflows.messages import ActResult, Actor, BudgetLine, CompleteTask, Decide, RecordBudget, SendBack


async def refused(drive: Driver, act) -> ApplicationError:  # noqa: ANN001
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await drive.do(act)
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def test_unauthorised_approver_is_refused_and_nothing_changes(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """A finance clerk, an impostor and a wrong-stage decision are refused with reasons; state is unchanged."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="auth-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.tasks(PM, "theme_purpose")
        before = await drive.state()
        history_before = len((await handle.fetch_history()).events)
        # (The real server drops a rejected update's workflow task entirely; the test server
        # records the task itself, but no update and no effect of it may appear.)

        err = await refused(drive, Decide(key=key(), actor=FINANCE, gate="budget_approved", decision="approve"))
        assert err.type == "Forbidden" and "finance may not decide here" in err.message.replace("decide", "decide")
        err = await refused(drive, Decide(key=key(), actor=Actor(id="mallory", role="finance_approver"),
                                          gate="budget_approved", decision="approve"))
        assert err.type == "Forbidden" and "mallory does not hold the role finance_approver" in err.message
        err = await refused(drive, Decide(key=key(), actor=PM, gate="go_decision", decision="approve"))
        assert err.type == "Conflict" and "belongs to promotion; the event is in preparation" in err.message
        err = await refused(drive, Decide(key=key(), actor=APPROVER, gate="no_such_gate", decision="approve"))
        assert err.type == "Invalid" and "unknown gate 'no_such_gate'" in err.message
        err = await refused(drive, Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="approve"))
        assert err.type == "Conflict" and "cannot approve budget_approved yet" in err.message
        assert "no budget lines recorded yet" in err.message
        err = await refused(drive, Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="reject"))
        assert err.type == "Invalid" and "needs a reason" in err.message

        after = await drive.state()
        assert after.model_dump(exclude={"now", "deadlines"}) == before.model_dump(exclude={"now", "deadlines"})
        # Refused in the validator: no update, timer, activity or attribute reached the history.
        added = (await handle.fetch_history()).events[history_before:]
        assert {EventType.Name(e.event_type) for e in added} <= {
            "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED", "EVENT_TYPE_WORKFLOW_TASK_STARTED", "EVENT_TYPE_WORKFLOW_TASK_COMPLETED"
        }


async def test_malformed_payloads_are_refused_without_failing_the_workflow(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Payloads that do not validate (wrong types, unknown keys, missing actor) are refused; the event goes on."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="malformed-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        for payload in (
            {"key": "m1", "gate": "budget_approved", "decision": "approve"},
            {"key": "m2", "actor": {"id": "finn", "role": "finance_approver"}, "gate": "budget_approved",
             "decision": "maybe"},
            {"key": "m3", "actor": {"id": "finn", "role": "finance_approver"}, "gate": 7, "decision": "approve",
             "extra": "field"},
            "not even an object",
        ):
            with pytest.raises(WorkflowUpdateFailedError):
                await handle.execute_update("decide", payload)
        await drive.tasks(PM, "theme_purpose")
        s = await drive.state()
        assert s.status == "active" and [a.act for a in s.audit] == ["complete_task"]
        history = await handle.fetch_history()
        assert not any(e.workflow_task_failed_event_attributes.failure.message for e in history.events)


async def test_duplicate_decision_is_applied_once(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """The same idempotency key twice answers the same and records once; reused for another act it is refused."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="dup-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        act = CompleteTask(key="same-key", actor=PM, task="theme_purpose", note="the note")
        first = await drive.do(act)
        second = await drive.do(act)
        assert first == second
        s = await drive.state()
        assert [a.key for a in s.audit].count("same-key") == 1
        err = await refused(drive, CompleteTask(key="same-key", actor=PM, task="date_checked"))
        assert err.type == "Conflict" and "already used for a different act" in err.message


async def test_rejected_budget_is_revised_sent_back_and_reapproved(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """A rejected budget keeps the event in preparation; after approval a send-back reopens it for re-approval."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="budget-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.prepare()  # approved: now in planning
        assert (await drive.state()).stage == "planning"
        await drive.do(SendBack(key=key(), actor=APPROVER, to_stage="preparation", reason="catering quote doubled"))
        s = await drive.state()
        assert s.stage == "preparation"
        gate = next(g for g in s.gates if g.id == "budget_approved")
        assert gate.status == "awaiting_decision"
        await drive.do(Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="reject",
                              reason="over plan: catering"))
        s = await drive.state()
        gate = next(g for g in s.gates if g.id == "budget_approved")
        assert s.stage == "preparation" and gate.status == "rejected"
        assert "over plan: catering" in gate.reasons[0]
        await drive.do(RecordBudget(key=key(), actor=FINANCE,
                                    lines=[BudgetLine(category="catering", planned=Decimal("20000"))]))
        await drive.do(Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="approve"))
        s = await drive.state()
        assert s.stage == "planning"
        assert s.budget.planned == Decimal("68000")
        acts = [(a.act, a.actor) for a in s.audit if a.act in ("decide", "send_back")]
        assert acts == [("decide", "finn"), ("send_back", "finn"), ("decide", "finn"), ("decide", "finn")]


async def test_waive_needs_an_allowed_role_and_a_reason(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """Only a role the definition allows may waive, with a reason; the waiver is on the record."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="waive-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        err = await refused(drive, Decide(key=key(), actor=FINANCE, gate="date_venue_confirmed", decision="waive",
                                          reason="x"))
        assert err.type == "Forbidden"
        err = await refused(drive, Decide(key=key(), actor=SPONSOR, gate="date_venue_confirmed", decision="waive"))
        assert err.type == "Invalid" and "needs a reason" in err.message
        await drive.do(Decide(key=key(), actor=SPONSOR, gate="date_venue_confirmed", decision="waive",
                              reason="the board picked the date and the venue"))
        s = await drive.state()
        gate = next(g for g in s.gates if g.id == "date_venue_confirmed")
        assert gate.status == "waived" and gate.decision and gate.decision.by == "sam"
        assert s.audit[-1].reason == "the board picked the date and the venue"


async def test_a_refusal_sent_with_its_key_as_update_id_is_final_for_the_key(
    ts_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities
):
    """An act sent as ``act:<key>`` and refused stays refused for that key once the event has moved so that it
    would pass: a stalled attempt arriving later (another update id, so the server's own dedup plays no
    part) gets the first reason, and nothing is applied; the refusal is in history; continue-as-new keeps it."""
    client = ts_env.client
    details = conference(await ts_env.get_current_time(), event_id="final-refusal-1")
    async with build_worker(client, settings(task_queue), activities=stand_ins.all()):
        handle = await start_conference(client, task_queue, details)
        drive = Driver(client, details.id)
        await drive.tasks(PM, "theme_purpose", "date_checked", "team_assigned")
        await drive.tasks(Actor(id="val", role="venue_coordinator"), "site_inspection", "venue_booked")
        await drive.do(RecordBudget(key=key("budget"), actor=FINANCE, lines=[
            BudgetLine(category="venue", planned=Decimal("40000")),
            BudgetLine(category="contingency", planned=Decimal("8000"))]))
        approve = Decide(key="approve-K", actor=APPROVER, gate="budget_approved", decision="approve")

        with pytest.raises(WorkflowUpdateFailedError) as first:
            await handle.execute_update("decide", approve, id="act:approve-K")
        assert first.value.cause.type == "Conflict" and "budget_draft" in first.value.cause.message
        history = await handle.fetch_history()
        assert any(e.workflow_execution_update_completed_event_attributes.meta.update_id == "act:approve-K"
                   for e in history.events), "a final refusal is decided in the handler, so it is in history"

        await drive.tasks(FINANCE, "budget_draft")  # the act would pass now
        with pytest.raises(WorkflowUpdateFailedError) as late:  # the stalled attempt, as another update
            await handle.execute_update("decide", approve, id="act:approve-K#stalled")
        assert late.value.cause.message == first.value.cause.message
        with pytest.raises(WorkflowUpdateFailedError) as other:  # the key on another act: a conflict
            await handle.execute_update("decide", approve.model_copy(update={"reason": "other"}), id="act:x")
        assert "already used for a different act" in other.value.cause.message
        s = await drive.state()
        assert s.stage == "preparation" and not any(a.act == "decide" for a in s.audit)

        # an act sent the old way (a fresh update id) is still checked in the validator and leaves no trace
        before = len((await handle.fetch_history()).events)
        err = await refused(drive, Decide(key=key(), actor=FINANCE, gate="budget_approved", decision="approve"))
        assert err.type == "Forbidden"
        added = (await handle.fetch_history()).events[before:]
        assert not any(e.workflow_execution_update_accepted_event_attributes.accepted_request_message_id
                       for e in added)

        # a new key is decided on today's state: approved
        done = await handle.execute_update("decide", approve.model_copy(update={"key": "approve-2"}),
                                           id="act:approve-2", result_type=ActResult)
        assert done.stage == "planning"
