"""The two sides of the engine-against-bare-Temporal benchmark: the acts they are driven through, how each
side starts an event and sends an act, and the plan of commands the baseline copies from the engine's history."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.common import TypedSearchAttributes

from bench import baseline
from definitions import shipped
from tests.support import APPROVER, FINANCE, PLANNER, PM, PR, VENUE, conference, day_one
from workflows import search
from workflows.client import act as engine_act
from workflows.client import start_event
from workflows.messages import (
    Attendee,
    BudgetLine,
    CompleteTask,
    Decide,
    InviteAttendees,
    InviteSpeaker,
    Itinerary,
    Person,
    RecordBudget,
    SetAgenda,
    SpeakerItinerary,
    SpeakerReply,
)

# --------------------------------------------------------------------------- the acts

# The gate-relevant acts of a conference, in order: preparation (as Driver.prepare: the
# 8th approves the budget and moves the event to planning), then planning (as Driver.plan;
# the 16th completes planning and moves the event to promotion). Each builds its act from
# an idempotency key and the event's start.
ACTS: list[tuple[str, Callable[[str, datetime], Any]]] = [
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PM, task="theme_purpose")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PM, task="date_checked")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PM, task="team_assigned")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=VENUE, task="site_inspection")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=VENUE, task="venue_booked")),
    ("record_budget", lambda k, s: RecordBudget(key=k, actor=FINANCE, lines=[
        BudgetLine(category="venue", planned=Decimal("40000")),
        BudgetLine(category="catering", planned=Decimal("30000")),
        BudgetLine(category="contingency", planned=Decimal("8000")),
    ])),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=FINANCE, task="budget_draft")),
    ("decide", lambda k, s: Decide(key=k, actor=APPROVER, gate="budget_approved", decision="approve")),
    ("invite_speaker", lambda k, s: InviteSpeaker(key=k, actor=PLANNER, slot="keynote", topic="Durable events",
                                                  speaker=Person(id="kim", name="Kim Keynote",
                                                                 email="kim@example.org"))),
    ("speaker_reply", lambda k, s: SpeakerReply(key=k, actor=PLANNER, speaker_id="kim", response="accepted")),
    ("invite_attendees", lambda k, s: InviteAttendees(key=k, actor=PR, attendees=[
        Attendee(id="ann", name="Ann", email="ann@example.org", category="partner", key_client=True),
        Attendee(id="bob", name="Bob", email="bob@example.org", category="expert"),
    ])),
    ("set_agenda", lambda k, s: SetAgenda(key=k, actor=PLANNER, items=day_one(s))),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PLANNER, task="agenda_final")),
    ("speaker_itinerary", lambda k, s: SpeakerItinerary(key=k, actor=PLANNER, speaker_id="kim",
                                                        itinerary=Itinerary(lodging="Hotel Bellecour"))),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PLANNER, task="materials_ready")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PR, task="contact_named")),
]


# --------------------------------------------------------------------------- the two sides


class Side:
    """How the driver starts an event and sends its i-th act, for one side."""

    kind = ""

    def __init__(self, client: Client, task_queue: str, plan: Plan | None = None) -> None:
        self.client, self.task_queue, self.plan = client, task_queue, plan
        self.now = datetime.now(timezone.utc)
        self.event_start = self.details("x").start  # every event of a round starts at the same time

    def details(self, event_id: str) -> Any:
        return conference(self.now, event_id=event_id)

    def workflow_id(self, event_id: str) -> str:
        raise NotImplementedError

    async def start(self, event_id: str) -> None:
        raise NotImplementedError

    async def act(self, event_id: str, i: int) -> None:
        raise NotImplementedError


class EngineSide(Side):
    kind = "engine"

    def __init__(self, client: Client, task_queue: str, plan: Plan | None = None) -> None:
        super().__init__(client, task_queue, plan)
        self.definition = shipped().get("conference")

    def workflow_id(self, event_id: str) -> str:
        return f"event-{event_id}"

    async def start(self, event_id: str) -> None:
        await start_event(self.client, self.details(event_id), self.definition, self.task_queue)

    async def act(self, event_id: str, i: int) -> None:
        await engine_act(self.client, event_id, ACTS[i][1](f"{event_id}-{i}", self.event_start))


class BaselineSide(Side):
    kind = "baseline"

    def workflow_id(self, event_id: str) -> str:
        return f"bare-{event_id}"

    async def start(self, event_id: str) -> None:
        details = self.details(event_id)
        await self.client.start_workflow(
            baseline.WORKFLOW_NAME, baseline.BareInput(event_id=event_id, plan=self.plan.steps if self.plan else []),
            id=self.workflow_id(event_id), task_queue=self.task_queue,
            # the attributes the engine's client set at start (read from its history), so it lists the same
            search_attributes=TypedSearchAttributes(
                [baseline.pair(u) for u in self.plan.start] if self.plan else
                search.attributes(details, "conference", "preparation", 0, False)),
        )

    async def act(self, event_id: str, i: int) -> None:
        name, build = ACTS[i]
        act = build("x", self.event_start)  # the same content, as a plain dict
        data = act.model_dump(mode="json", exclude={"key", "actor"}, exclude_none=True)
        await self.client.get_workflow_handle(self.workflow_id(event_id)).execute_update(
            "act", baseline.BareAct(key=f"{event_id}-{i}", name=name, actor=act.actor.id, role=act.actor.role,
                                    data=data),
            result_type=baseline.BareResult,
        )


SA_KINDS = {"KEYWORD": "keyword", "INT": "int", "BOOL": "bool", "DATETIME": "datetime", "TEXT": "text",
            "KEYWORD_LIST": "keyword_list", "FLOAT": "float"}


@dataclass
class Plan:
    """What the engine did, read from an event's history, for the baseline to do the same."""

    steps: list[baseline.Step]  # per act (step 0: at start): activities, timers, upserts
    start: list[baseline.Upsert]  # the search attributes set when the event was started

    @property
    def activities(self) -> int:
        return sum(s.activities for s in self.steps)


def _upserts(fields: Any, types: dict[str, str]) -> list[baseline.Upsert]:
    out = []
    for name, payload in fields.items():
        if name.startswith("Temporal"):  # e.g. TemporalChangeVersion, the SDK's record of workflow.patched
            continue
        value = json.loads(payload.data)
        if types.get(name) == "datetime":
            value = datetime.fromisoformat(value)
        out.append(baseline.Upsert(name=name, kind=types.get(name, "keyword"), value=value))
    return out


BOOKKEEPING = ("record_audit", "sync_event")
"""The engine's writes of its audit and facts to the roster database: batched, so their number varies with load;
neither counted in a round's plan nor mirrored by the baseline (the engine's figures carry their cost)."""


def plan_from_history(events: list[Any]) -> Plan:
    """Per act (step 0: at start), the activities, timers and upserts the engine's history shows."""
    types = {k.name: SA_KINDS[k.indexed_value_type.name] for k in search.ALL}
    steps = [baseline.Step()]
    start: list[baseline.Upsert] = []
    for ev in events:
        t = ev.event_type
        if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            start = _upserts(ev.workflow_execution_started_event_attributes.search_attributes.indexed_fields, types)
        elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            steps.append(baseline.Step())
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if ev.activity_task_scheduled_event_attributes.activity_type.name not in BOOKKEEPING:
                steps[-1].activities += 1
        elif t == EventType.EVENT_TYPE_TIMER_STARTED:
            steps[-1].timers += 1
        elif t == EventType.EVENT_TYPE_TIMER_CANCELED:
            steps[-1].cancels += 1
        elif t == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = ev.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            steps[-1].upserts += _upserts(fields, types)
    return Plan(steps, start)


async def settle(client: Client, workflow_id: str, timeout: float = 30) -> None:
    """Wait until a workflow has no pending activity or workflow task and its history holds still."""
    handle = client.get_workflow_handle(workflow_id)
    last, deadline = -1, time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = (await handle.describe()).raw_description
        length = d.workflow_execution_info.history_length
        if not d.pending_activities and not d.HasField("pending_workflow_task") and length == last:
            return
        last = length
        await asyncio.sleep(0.3)


async def history_events(client: Client, workflow_id: str) -> list[Any]:
    return (await client.get_workflow_handle(workflow_id).fetch_history()).events
