"""Walk any definition's event to closed by doing what each stage's gates ask for.

Generic over definitions: it reads the current stage's checks and approvals and
does the acts that satisfy them, each as the first role allowed to. Used to prove
every shipped definition can close, and to record the replay histories.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from definitions import Definition
from definitions.schema import (
    INCIDENT_CATEGORIES,
    AgendaReady,
    BudgetHasLine,
    BudgetWithinLimit,
    DocumentsPresent,
    EmergencyPlanReady,
    EventEnded,
    InvitationsSent,
    ItinerariesRecorded,
    KeynotesConfirmed,
    ObjectivesRecorded,
    PapersAcknowledged,
    RiskRegister,
    TasksDone,
)
from workflows.client import act, start_event, start_input, state, workflow_id
from workflows.event import WORKFLOW_NAME
from workflows.messages import (
    AcknowledgePapers,
    Actor,
    AgendaItem,
    Attendee,
    BudgetLine,
    CompleteTask,
    Decide,
    EmergencyContact,
    EventDetails,
    EventRecord,
    InviteAttendees,
    InviteSpeaker,
    Itinerary,
    Person,
    RecordBudget,
    RecordDocument,
    RecordEmergencyPlan,
    RecordObjectives,
    RecordRisks,
    SetAgenda,
    SpeakerItinerary,
    SpeakerReply,
    StateView,
)

_n = itertools.count(1)


def _key(what: str) -> str:
    return f"auto-{what}-{next(_n)}"


def lead_days(definition: Definition) -> int:
    """Days ahead an event of this kind starts so that nothing is overdue when it is created: 120, or 10 more
    than its earliest task or deadline before the start (an exhibition plans half a year ahead)."""
    offsets = [t.due.days for s in definition.stages for t in s.tasks if t.due and t.due.anchor == "start"]
    offsets += [d.at.days + min([step.offset_days for step in d.ladder], default=0)
                for d in definition.deadlines if d.at.anchor == "start"]
    return max(120, int(-min(offsets, default=0)) + 10)


def event_for(definition: Definition, now: datetime, event_id: str, days_ahead: int | None = None) -> EventDetails:
    """An event of this kind with one person per role (the person's id is the role's id), starting
    `days_ahead` days from `now` (default :func:`lead_days`)."""
    start = now + timedelta(days=days_ahead if days_ahead is not None else lead_days(definition))
    return EventDetails(
        id=event_id, title=f"Autopilot {definition.title}", kind=definition.kind, start=start,
        end=start + timedelta(days=1), timezone="UTC", venue="Room 1", expected_attendees=50,
        budget_limit=Decimal("50000"), owner=definition.owner_role, keynote_slots=1,
        team={r.id: [Person(id=r.id, name=r.title, email=f"{r.id}@example.org")] for r in definition.roles},
    )


def _actor(definition: Definition, roles: list[str]) -> Actor:
    role = roles[0] if roles else definition.owner_role
    return Actor(id=role, role=role)


async def satisfy_stage(client: Client, event_id: str, definition: Definition, s: StateView) -> None:
    """Do every act the current stage's gates need, except waiting for time."""
    stage = definition.stage(s.stage)
    p = definition.permissions
    checks = [c for g in stage.gates for c in g.checks]
    if any(isinstance(c, (BudgetWithinLimit, BudgetHasLine)) for c in checks) and not s.budget.lines:
        cats = {c.category for c in checks if isinstance(c, BudgetHasLine)} | {"venue"}
        await act(client, event_id, RecordBudget(key=_key("budget"), actor=_actor(definition, p.record_budget),
                                                 lines=[BudgetLine(category=c, planned=Decimal("1000")) for c in sorted(cats)]))
    if any(isinstance(c, KeynotesConfirmed) for c in checks) and s.speakers.confirmed_keynotes < 1:
        who = _actor(definition, p.manage_speakers)
        await act(client, event_id, InviteSpeaker(key=_key("spk"), actor=who, slot="keynote",
                                                  speaker=Person(id="keynote-1", name="Key Note", email="k@example.org")))
        await act(client, event_id, SpeakerReply(key=_key("reply"), actor=who, speaker_id="keynote-1",
                                                 response="accepted"))
    if any(isinstance(c, ItinerariesRecorded) for c in checks):  # every accepted speaker's travel recorded
        fresh = await state(client, event_id)
        for sp in fresh.speaker_list:
            if sp.status == "accepted" and sp.itinerary is None:
                await act(client, event_id, SpeakerItinerary(
                    key=_key(f"itinerary-{sp.person.id}"), actor=_actor(definition, p.manage_speakers),
                    speaker_id=sp.person.id, itinerary=Itinerary(lodging="Hotel near the venue")))
    if any(isinstance(c, AgendaReady) for c in checks) and not s.agenda:
        speaker = "keynote-1" if any(isinstance(c, KeynotesConfirmed) for c in checks) else None
        start = s.event.start
        await act(client, event_id, SetAgenda(key=_key("agenda"), actor=_actor(definition, p.manage_agenda), items=[
            AgendaItem(id="opening", kind="opening", title="Opening", start=start, minutes=30),
            AgendaItem(id="keynote", kind="keynote", title="Keynote", start=start + timedelta(minutes=40),
                       minutes=45, speaker_id=speaker),
            AgendaItem(id="closing", kind="closing", title="Closing", start=start + timedelta(minutes=95),
                       minutes=15),
        ]))
    if any(isinstance(c, InvitationsSent) for c in checks) and s.attendees.invited == 0:
        await act(client, event_id, InviteAttendees(key=_key("inv"), actor=_actor(definition, p.manage_attendees),
                                                    attendees=[Attendee(id="guest-1", name="Guest", email="g@example.org")]))
    wanted = [c.min_objectives for c in checks if isinstance(c, ObjectivesRecorded)]
    if wanted:  # the objectives live in the database: the workflow is told how many (as the API does)
        await act(client, event_id, RecordObjectives(key=_key("objectives"), actor=_actor(definition, p.manage_objectives),
                                                     revision=1, objectives=max(wanted), outcomes=0))
    settled = {g.id for g in s.gates if g.status in ("passed", "waived")}
    open_checks = [c for g in stage.gates if g.id not in settled for c in g.checks]
    if any(isinstance(c, EmergencyPlanReady) for c in open_checks):
        owner = definition.told(definition.escalate_to.incident_high)[0]  # a person per role: id = role id
        await act(client, event_id, RecordEmergencyPlan(key=_key("plan"), actor=_actor(definition, p.record_incident),
                                                        entries=[EmergencyContact(category=c, role=owner, person=owner,
                                                                                  phone="+44 20 7946 0000")
                                                                 for c in INCIDENT_CATEGORIES]))
    done = {t.id for t in s.tasks if t.done}
    needed = [t for t in stage.tasks if not t.activity and t.id not in done]
    for task in needed:
        await act(client, event_id, CompleteTask(key=_key(task.id), actor=Actor(id=task.owner, role=task.owner),
                                                 task=task.id, note="autopilot" if task.note_required else None))
    await _records(client, event_id, definition, s, checks)
    for gate in stage.gates:
        if gate.approval and gate.id not in settled:
            await act(client, event_id, Decide(key=_key(gate.id), actor=_actor(definition, gate.approval.roles),
                                               gate=gate.id, decision="approve", reason="autopilot"))
    assert not any(isinstance(c, TasksDone) and c.tasks and set(c.tasks) - {t.id for t in stage.tasks} for c in checks)


async def _records(client: Client, event_id: str, definition: Definition, s: StateView, checks: list[Any]) -> None:
    """What the records checks need (issue 20): a risk register's summary, the documents named, every
    receipt of the papers; each only while a gate of the stage still names it."""
    p = definition.permissions
    reasons = " ".join(r for g in s.gates if g.stage == s.stage for r in g.reasons)
    risks = [c for c in checks if isinstance(c, RiskRegister)]
    if risks and "risk register" in reasons:
        await act(client, event_id, RecordRisks(key=_key("risks"), actor=_actor(definition, p.manage_risks),
                                                revision=1, count=max(c.min_risks for c in risks)))
    types = {t for c in checks if isinstance(c, (DocumentsPresent, PapersAcknowledged)) for t in c.types}
    for t in sorted(types):
        if f"no {t} attached yet" in reasons:
            await act(client, event_id, RecordDocument(key=_key(f"doc-{t}"), actor=_actor(definition, p.manage_documents),
                                                       doc_type=t, version=1, sha256="0" * 64))
    for c in checks:
        if isinstance(c, PapersAcknowledged):
            for person in s.event.team.get(c.role, []):
                await act(client, event_id, AcknowledgePapers(key=_key(f"ack-{person.id}"),
                                                              actor=_actor(definition, p.manage_documents),
                                                              person_id=person.id))


async def walk_to_closed(env: WorkflowEnvironment, definition: Definition, event_id: str,
                         task_queue: str, record: EventRecord | None = None) -> WorkflowHandle[Any, StateView]:
    """Start an event of `definition` and drive it to closed, skipping time where the lifecycle waits for it.

    With `record`, the workflow starts from that record, as a run continued from an earlier one does.
    """
    client = env.client
    details = event_for(definition, await env.get_current_time(), event_id)
    if record is None:
        handle = await start_event(client, details, definition, task_queue)
    else:
        inp = start_input(details, definition).model_copy(update={"record": record})
        handle = await client.start_workflow(WORKFLOW_NAME, inp, id=workflow_id(event_id), task_queue=task_queue,
                                             result_type=StateView)
    for _ in range(3 * len(definition.stages)):
        s = await state(client, event_id)
        if s.status != "active":
            break
        before = s.stage
        await satisfy_stage(client, event_id, definition, s)
        s = await state(client, event_id)
        if s.status == "active" and s.stage == before:
            stage = definition.stage(s.stage)
            if any(isinstance(c, EventEnded) for g in stage.gates for c in g.checks):
                await env.sleep(details.end - await env.get_current_time() + timedelta(minutes=1))
            else:  # waiting for the engine's own activity tasks (archive, report)
                await env.sleep(timedelta(days=20))
    return handle
