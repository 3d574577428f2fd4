"""Talking to an event's workflow: start an event, act on it, read it, list events.

The CLI, the API and the tests all go through these functions, so there is one place that knows the
workflow's name, id scheme and search attributes. Connecting is :func:`convene.client.connect`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import TypedSearchAttributes, WorkflowIDReusePolicy

from definitions import Definition, definition_hash
from workflows import search
from workflows.event import WORKFLOW_NAME
from workflows.messages import (
    ACT_NAMES,
    Act,
    ActResult,
    Allowed,
    AttendeePage,
    AttendeeQuery,
    EventDetails,
    MayAsk,
    StateView,
    WorkflowInput,
    act_update_id,
)


def workflow_id(event_id: str) -> str:
    return f"event-{event_id}"


def start_input(details: EventDetails, definition: Definition, history_limit: int | None = None) -> WorkflowInput:
    if details.kind != definition.kind:
        raise ValueError(f"event kind {details.kind!r} does not match definition {definition.kind!r}")
    return WorkflowInput(
        event=details, definition=definition, definition_hash=definition_hash(definition), history_limit=history_limit
    )


async def start_event(
    client: Client, details: EventDetails, definition: Definition, task_queue: str, history_limit: int | None = None,
    rpc_timeout: timedelta | None = None,
) -> WorkflowHandle[Any, StateView]:
    """Start one event's workflow; its id is ``event-<event id>`` and a second start with the same id fails."""
    inp = start_input(details, definition, history_limit)
    return await client.start_workflow(
        WORKFLOW_NAME,
        inp,
        id=workflow_id(details.id),
        task_queue=task_queue,
        result_type=StateView,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        rpc_timeout=rpc_timeout,
        search_attributes=TypedSearchAttributes(search.attributes(details, definition.kind, definition.path()[0], 0, False)
                                                + [search.SearchAttributePair(search.TITLE, details.title),
                                                   search.SearchAttributePair(search.READERS,
                                                                              search.readers(details, definition))]),
    )


def handle(client: Client, event_id: str) -> WorkflowHandle[Any, StateView]:
    return client.get_workflow_handle(workflow_id(event_id), result_type=StateView)


async def act(client: Client, event_id: str, act: Act, rpc_timeout: timedelta | None = None,
              final: bool = False) -> ActResult:
    """Send one act as its update and wait for the answer (accepted or refused).

    With `final`, the update id is :func:`workflows.messages.act_update_id` of the act's key: a resend of
    the key is the same update (answered by the server within a run) and a refusal is final for the key
    (the workflow remembers it and refuses a later attempt alike, even one that would pass by then).
    Without it, each call is a new update checked in the validator (a refusal leaves no trace).

    With `rpc_timeout`, give up (``WorkflowUpdateRPCTimeoutOrCancelledError``) when no worker answers in time.
    """
    result: ActResult = await handle(client, event_id).execute_update(
        ACT_NAMES[type(act)], act, result_type=ActResult, rpc_timeout=rpc_timeout,
        id=act_update_id(act.key) if final else None,
    )
    return result


async def state(client: Client, event_id: str, rpc_timeout: timedelta | None = None) -> StateView:
    view: StateView = await handle(client, event_id).query("state", result_type=StateView, rpc_timeout=rpc_timeout)
    return view


async def may(client: Client, event_id: str, ask: MayAsk, rpc_timeout: timedelta | None = None) -> Allowed:
    """What a person may do on the event now, each as the role they would act as (query ``may``)."""
    allowed: Allowed = await handle(client, event_id).query("may", ask, result_type=Allowed, rpc_timeout=rpc_timeout)
    return allowed


async def attendees(client: Client, event_id: str, query: AttendeeQuery | None = None,
                    rpc_timeout: timedelta | None = None) -> AttendeePage:
    """A page of the event's attendees (query ``attendees``)."""
    page: AttendeePage = await handle(client, event_id).query(
        "attendees", query or AttendeeQuery(), result_type=AttendeePage, rpc_timeout=rpc_timeout)
    return page


def list_query(stage: str | None = None, kind: str | None = None, at_risk: bool | None = None,
               owner: str | None = None) -> str:
    """A visibility query for events, with values quoted safely."""
    def q(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    parts = [f"WorkflowType = {q(WORKFLOW_NAME)}"]
    if stage:
        parts.append(f"{search.STAGE.name} = {q(stage)}")
    if kind:
        parts.append(f"{search.KIND.name} = {q(kind)}")
    if owner:
        parts.append(f"{search.OWNER.name} = {q(owner)}")
    if at_risk is not None:
        parts.append(f"{search.AT_RISK.name} = {'true' if at_risk else 'false'}")
    return " AND ".join(parts)
