"""The pure lifecycle of one event: which acts are legal, what they change, what is due.

A :class:`Lifecycle` wraps a definition, the event's details and its
:class:`~workflows.messages.EventRecord`. The legal moves between stages are
decided by a ``transitions`` Machine compiled from the definition (its
conditions are the gate checks); everything else (who may act, what an act
records, when a deadline's ladder fires) is plain Python over the record.

Nothing here does I/O, reads a clock or imports Temporal: the caller passes
``now``. The workflow is a thin shell around this class, and unit tests drive
it directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from zoneinfo import ZoneInfo

from transitions import Machine

from definitions.schema import (
    CANCELLED,
    AgendaReady,
    CLOSED,
    BudgetHasLine,
    BudgetWithinLimit,
    Deadline,
    Definition,
    EventEnded,
    Gate,
    InvitationsSent,
    KeynotesConfirmed,
    LadderStep,
    NoOpenIncidents,
    Notify,
    Offset,
    Stage,
    Task,
    TasksDone,
    calendar_plus,
)
from workflows import documents as _documents  # meeting documents: checks and acts (hooks marked "documents")
from workflows import risks as _risks  # the risk register: its check and act (hooks marked "risks")
from workflows.reasons import Reason, because, because_n
from workflows.refusals import ActRefused  # noqa: F401 - re-exported: the API and tests import it from here
from workflows.refusals import conflict as _conflict, forbidden as _forbidden, invalid as _invalid
from workflows.messages import (
    ACT_NAMES,
    AcknowledgeIncident,
    AcknowledgePapers,  # documents
    RecordDocument,  # documents
    RecordRisks,  # risks
    AgendaItem,
    AgendaItemView,
    EndItem,
    NeedView,
    RunRecord,
    SetAgenda,
    SpeakerItinerary,
    StartItem,
    Act,
    ActResult,
    AnyAct,
    AttendeePage,
    AttendeeQuery,
    AttendeeRecord,
    AuditEntry,
    BudgetView,
    Cancel,
    CheckIn,
    CompleteTask,
    Counts,
    DeadlineView,
    Decide,
    EffectRecord,
    EventDetails,
    EventFacts,
    EventRecord,
    LegacyRoster,
    FiredStep,
    INLINE_INVITATIONS,
    not_deliverable,
    InvitationBatch,
    InvitationSend,
    RosterAudience,
    RosterNotice,
    GateRecord,
    GateView,
    IncidentRecord,
    InviteAttendees,
    InviteSpeaker,
    NotificationRequest,
    Person,
    Postpone,
    Progress,
    Recipient,
    RecordBudget,
    RecordSurvey,
    ReportIncident,
    ResolveIncident,
    Rsvp,
    SendBack,
    SpeakerRecord,
    SpeakerReply,
    StateView,
    StepView,
    TaskRecord,
    TaskView,
)

IDEMPOTENCY_WINDOW = 5000
"""How many recent idempotency keys an event with its roster in memory remembers."""

IDEMPOTENCY_WINDOW_DB = 256
"""How many recent idempotency keys an event with its roster in the database remembers. Its acts are
the team's (attendee acts are database transactions with their own keys), so a few hundred cover any
retry while keeping the carried record small."""

REFUSALS_KEPT = 256
"""How many recent refused idempotency keys an event remembers (acts sent with final refusals: the API's).
A key it refused is refused again with the same reason, however the event has moved since; older keys
are answered by the API's own record of each key (``idempotency_keys``, kept for a day)."""

AUDIT_TAIL = 50
"""Audit entries an event with its roster in the database keeps (the newest); the whole audit is in
the database."""

EFFECTS_KEPT = 200
"""Effect outcomes an event with its roster in the database keeps: the latest per effect, newest last."""

INVITATION_BATCHES = 100
"""Invitation batches kept one by one; past this the two oldest are merged (their count added, the
later time kept), so the invitations gate's record stays bounded however many batches are sent."""

LESSONS_TASK = "lessons_recorded"
"""The task whose note holds the lessons learned (the evaluation report quotes it)."""

INVITATION_AGENDA_ITEMS = 30
"""Agenda items an invitation lists (the rest are counted), so a large programme keeps the message short."""

GUEST = "guest"
"""The role of a person outside the team acting for themselves (a speaker through their personal link)."""
SYSTEM = "convene"
"""The actor id of acts the engine does by itself (ladder actions, activity tasks)."""


@dataclass(frozen=True)
class RunActivity:
    """Run an activity task (archive, evaluation report, thanks); success completes the task."""

    task_id: str
    activity: str


@dataclass(frozen=True)
class Compensate:
    """Release something booked for a cancelled event."""

    name: str


Effect = NotificationRequest | RunActivity | Compensate | RosterNotice | InvitationSend


def act_digest(act: Act) -> str:
    """What an idempotency key stands for: the act's content without the key."""
    body = act.model_dump_json(exclude={"key"})
    return hashlib.sha256(f"{type(act).__name__}:{body}".encode()).hexdigest()


def machine_config(definition: Definition) -> dict[str, Any]:
    """The ``transitions`` configuration a definition compiles to.

    States are the stages plus ``closed`` and ``cancelled``. Triggers:
    ``advance`` (to the next stage, guarded by the stage's gates),
    ``send_back_to_<stage>`` (to any earlier stage on the path) and ``cancel``.
    The same dict feeds the runtime Machine and the diagram, so the picture is
    the behaviour.
    """
    path = definition.path()
    on_site = definition.stages[definition.first_on_site_index()].id
    before_event = path[: path.index(on_site)] if on_site in path else path
    transitions: list[dict[str, Any]] = []
    for i, stage_id in enumerate(path):
        transitions.append(
            {"trigger": "advance", "source": stage_id, "dest": definition.next_stage(stage_id), "conditions": "gates_pass"}
        )
        if stage_id in before_event:  # once the doors open there is no going back, only forward or cancel
            for earlier in path[:i]:
                transitions.append({"trigger": f"send_back_to_{earlier}", "source": stage_id, "dest": earlier})
    # An event can be called off until it has happened; after that it can only close.
    transitions.append({"trigger": "cancel", "source": [*before_event, on_site], "dest": CANCELLED})
    return {
        "states": [*path, CLOSED, CANCELLED],
        "transitions": transitions,
        "initial": path[0],
        "auto_transitions": False,
    }


def mermaid_diagram(definition: Definition, current: str | None = None) -> str:
    """The lifecycle as a mermaid state diagram, drawn from the same machine config."""
    from transitions.extensions.diagrams import GraphMachine  # optional, only for pictures

    config = machine_config(definition)
    config = {**config, "initial": current or config["initial"]}

    class _Model:
        def gates_pass(self) -> bool:  # pragma: no cover - only drawn, never called
            return True

    machine = GraphMachine(model=_Model(), graph_engine="mermaid", title=definition.title, show_conditions=True, **config)
    text = machine.get_graph().draw(None).replace("\n  Class ", "\n  class ")  # mermaid's keyword is lowercase
    titles = {s.id: s.title for s in definition.stages} | {CLOSED: "Closed", CANCELLED: "Cancelled"}
    for state_id, title in titles.items():  # show each stage's title, keep its id as the node
        text = text.replace(f'state "{state_id}" as {state_id}', f'state "{title}" as {state_id}')
    return text


_SHARED_DEFINITIONS: dict[str, Definition] = {}


def shared_definition(definition: Definition, definition_hash: str) -> Definition:
    """The one Definition object of this content in this worker process.

    Every event's input carries its definition (about 120 KiB once decoded) and the SDK keeps the
    input for the run's life; definitions are frozen, so events of one kind can share one copy.
    A copy is reused only when equal to the one given, so a wrong hash cannot alias two contents.
    """
    known = _SHARED_DEFINITIONS.get(definition_hash)
    if known is None:
        if definition_hash and len(_SHARED_DEFINITIONS) < 256:
            _SHARED_DEFINITIONS[definition_hash] = definition
        return definition
    return known if known == definition else definition


def _span(days: float) -> str:
    """``30 days``; under a day (a time-lapse definition) in hours, minutes or seconds."""
    if days >= 1:
        return f"{days:g} day{'s' if days != 1 else ''}"
    seconds = days * 86400
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = round(seconds / size, 1)
            return f"{n:g} {unit}{'s' if n != 1 else ''}"
    return f"{seconds:.3g} seconds"


def _span_parts(days: float) -> tuple[float, str]:
    """What :func:`_span` says as (value, CLDR duration unit: ``day``, ``hour``, ``minute``, ``second``)."""
    if days >= 1:
        return days, "day"
    seconds = days * 86400
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return round(seconds / size, 1), unit
    return float(f"{seconds:.3g}"), "second"


def allowed_roles(definition: Definition, act: AnyAct) -> list[str]:
    """The roles that may do `act` on an event of `definition`: a gate's approvers, a task's owner,
    the permissions table (the definition's owner role where the table is empty).

    The workflow's validator and the API both call this, so their rules cannot drift apart.

    Raises:
        ActRefused: the act names an unknown gate or task.
    """
    p = definition.permissions
    owner = [definition.owner_role]
    if isinstance(act, Decide):
        try:
            _, gate = definition.gate(act.gate)
        except KeyError:
            raise _invalid("unknown gate %(gate)r", gate=act.gate) from None
        if act.decision == "waive":
            return p.waive
        return list(gate.approval.roles) if gate.approval else []
    if isinstance(act, CompleteTask):
        try:
            _, task = definition.task(act.task)
        except KeyError:
            raise _invalid("unknown task %(task)r", task=act.task) from None
        return list(dict.fromkeys([task.owner, *p.complete_task]))
    table: dict[type, list[str]] = {
        RecordBudget: p.record_budget,
        InviteSpeaker: p.manage_speakers,
        SpeakerReply: p.manage_speakers,
        SpeakerItinerary: p.manage_speakers,
        SetAgenda: p.manage_agenda or p.manage_speakers,
        StartItem: p.run_programme or p.record_incident,
        EndItem: p.run_programme or p.record_incident,
        AcknowledgeIncident: p.record_incident,
        InviteAttendees: p.manage_attendees,
        Rsvp: p.manage_attendees,
        CheckIn: p.manage_attendees,
        ReportIncident: p.record_incident,
        ResolveIncident: p.record_incident,
        RecordSurvey: p.record_survey,
        SendBack: p.send_back,
        Postpone: p.postpone,
        Cancel: p.cancel,
        RecordDocument: p.manage_documents,  # documents
        AcknowledgePapers: p.manage_documents,  # documents (a member acknowledges as a guest: _authorize)
        RecordRisks: p.manage_risks,  # risks
    }
    return table[type(act)] or owner


@dataclass
class Lifecycle:
    """One event's lifecycle over its record. Call :meth:`check` then :meth:`apply` for acts,
    :meth:`tick` when time passes; collect what to do from :attr:`effects`."""

    definition: Definition
    event: EventDetails
    record: EventRecord
    definition_hash: str = ""
    effects: list[Effect] = field(default_factory=list)
    # A postponement re-arms the steps that did their deadline's work for the old date (see _move_dates).
    # False only for runs recorded before that change (the workflow's patched("postpone-rearms-own-steps")).
    rearm_own_steps: bool = True
    # Postponing and cancelling send everyone holding the invitation an updated .ics (same UID, SEQUENCE + 1;
    # METHOD:CANCEL for a cancellation). False only for runs recorded before (patched("calendar-updates")).
    calendar_updates: bool = True
    # Offsets of whole days move by calendar days in the event's zone (the same wall-clock time across a
    # clock change). False only for runs recorded before (patched("calendar-updates")): 24-hour days.
    zone_days: bool = True
    # The start-7-days attendee reminder also reminds the speakers on board (accepted or confirmed).
    # False only for runs recorded before (patched("speaker-reminders")).
    speaker_reminders: bool = True
    # Recording the lessons once the evaluation report is written writes the report again, so that it
    # quotes them. False only for runs recorded before (patched("report-after-lessons")).
    report_after_lessons: bool = True

    def __post_init__(self) -> None:
        config = machine_config(self.definition) | {"initial": self.record.stage}
        self._machine = Machine(model=self, **config)
        # The path never changes for a definition: index it once instead of re-walking it per lookup.
        self._path_at = {stage_id: i for i, stage_id in enumerate(self.definition.path())}

    # `transitions` reads and writes the model's `state`; ours lives in the record.
    @property
    def state(self) -> str:
        return self.record.stage

    @state.setter
    def state(self, value: str) -> None:
        self.record.stage = value

    @classmethod
    def start(cls, definition: Definition, event: EventDetails, now: datetime, definition_hash: str = "",
              roster: str = "database") -> Lifecycle:
        """A new event in its first stage; `roster` is ``memory`` only to replay events recorded before
        the roster moved to the database."""
        first = definition.path()[0]
        record = EventRecord(stage=first, stage_entered_at=now, stages_entered={first: now},
                             roster=roster)  # type: ignore[arg-type]
        lc = cls(definition, event, record, definition_hash)
        lc._now = now
        lc._entered(first)
        lc._settle()
        return lc

    # ------------------------------------------------------------------ time

    _now: datetime | None = None

    def at(self, now: datetime) -> Lifecycle:
        """Set the time every following call works with (the workflow passes workflow.now())."""
        self._now = now
        return self

    @property
    def now(self) -> datetime:
        if self._now is None:
            raise RuntimeError("Lifecycle.at(now) must be called first")
        return self._now

    # ------------------------------------------------------------------ lookups

    @property
    def active(self) -> bool:
        return self.record.status == "active"

    @property
    def in_database(self) -> bool:
        """Attendees, survey, deliveries and the whole audit live in the roster database."""
        return self.record.roster == "database"

    @property
    def audit_count(self) -> int:
        return self.record.audit_seq if self.in_database else len(self.record.audit)

    def invited_count(self) -> int:
        if self.in_database:
            return sum(b.count for b in self.record.invitations)
        return len(self.record.attendees)

    def current_stage(self) -> Stage:
        return self.definition.stage(self.record.stage)

    def _path_index(self, stage_id: str) -> int:
        return self._path_at[stage_id]

    def _is_past(self, stage_id: str) -> bool:
        """True when the event has left that stage (or ended)."""
        if not self.active:
            return self.record.status == "closed"
        return self._path_index(stage_id) < self._path_index(self.record.stage)

    def _people(self, role: str) -> list[Person]:
        people = self.event.team.get(role)
        if people:
            return people
        if role == self.definition.owner_role:
            return [Person(id=self.event.owner, name=self.event.owner)]
        return []

    # ------------------------------------------------------------------ gates

    def _check_reasons(self, check: Any, stage: Stage) -> list[Reason]:
        r = self.record
        if (documents := _documents.check_reasons(self, check)) is not None:  # documents: its two check kinds
            return documents
        if (risks := _risks.check_reasons(self, check)) is not None:  # risks: the risk_register check
            return risks
        if isinstance(check, TasksDone):
            ids = check.tasks or [t.id for t in stage.tasks if t.required]
            missing = [i for i in ids if i not in r.tasks]
            if missing:
                titles = {t.id: t.title for t in stage.tasks}
                return [because("task not done: %(title)s (%(task)s)", title=titles.get(i, i), task=i) for i in missing]
            return []
        if isinstance(check, BudgetWithinLimit):
            if not r.budget:
                return [because("no budget lines recorded yet")]
            total = sum((line.planned for line in r.budget.values()), Decimal(0))
            limit, currency = self.event.budget_limit, self.event.currency
            if total > limit:
                return [because(
                    "planned budget %(total)s exceeds the limit %(limit)s",
                    english=f"planned budget {total:,.2f} {currency} exceeds the limit {limit:,.2f} {currency}",
                    total=str(total), limit=str(limit), currency=currency,
                )]
            return []
        if isinstance(check, BudgetHasLine):
            line = r.budget.get(check.category)
            if line is not None and line.planned > 0:
                return []
            return [because("the budget has no %(budget_category)s line", budget_category=check.category)]
        if isinstance(check, KeynotesConfirmed):
            keynotes = [i for i in r.agenda if i.kind == "keynote"]
            if keynotes:  # with an agenda, every keynote item needs its own confirmed speaker
                reasons = []
                for item in keynotes:
                    sp = r.speakers.get(item.speaker_id or "")
                    if sp is None:
                        reasons.append(because("keynote %(item)s (%(title)s) has no speaker",
                                               item=item.id, title=item.title))
                    elif not sp.on_board:
                        reasons.append(because("keynote %(item)s (%(title)s): %(name)s has %(speaker_status)s",
                                               item=item.id, title=item.title, name=sp.person.name,
                                               speaker_status=sp.status))
                return reasons
            slots = 1 if self.event.keynote_slots is None else self.event.keynote_slots
            confirmed = sum(1 for s in r.speakers.values() if s.slot == "keynote" and s.on_board)
            if confirmed < slots:
                return [because_n(
                    "%(confirmed)s of %(count)s keynote slot has a confirmed speaker",
                    "%(confirmed)s of %(count)s keynote slots have a confirmed speaker", slots,
                    english=f"{confirmed} of {slots} keynote slot(s) have a confirmed speaker", confirmed=confirmed,
                )]
            return []
        if isinstance(check, AgendaReady):
            return self._agenda_reasons(check.min_buffer_share)
        if isinstance(check, InvitationsSent):
            latest = self._plus(self.event.start, -check.days_before_start)
            span = _span(check.days_before_start)
            span_value, span_unit = _span_parts(check.days_before_start)
            if self.in_database:
                if not r.invitations:
                    return [because("no invitations sent yet")]
                late_batches = [b for b in r.invitations if b.at > latest]
                if late_batches:
                    n = sum(b.count for b in late_batches)
                    last = max(b.at for b in late_batches)
                    return [because_n(
                        "%(count)s invitation was sent less than %(span)s before the start (the latest at %(latest)s)",
                        "%(count)s invitations were sent less than %(span)s before the start "
                        "(the latest at %(latest)s)", n,
                        english=f"{n} invitation(s) sent less than {span} before the start "
                                f"(the latest at {last.isoformat()})",
                        span_value=span_value, span_unit=span_unit, latest=last.isoformat(), zone=self.event.timezone,
                    )]
                return []
            if not r.attendees:
                return [because("no invitations sent yet")]
            late = sorted(a.person.id for a in r.attendees.values() if a.invited_at > latest)
            if late:
                shown = ", ".join(late[:5]) + (f" and {len(late) - 5} more" if len(late) > 5 else "")
                return [because_n(
                    "%(count)s invitation was sent less than %(span)s before the start (%(people)s)",
                    "%(count)s invitations were sent less than %(span)s before the start (%(people)s)", len(late),
                    english=f"{len(late)} invitation(s) sent less than {span} before the start ({shown})",
                    span_value=span_value, span_unit=span_unit, people=late[:5], more=max(len(late) - 5, 0),
                )]
            return []
        if isinstance(check, NoOpenIncidents):
            open_ = [i.id for i in r.incidents.values() if i.resolved_at is None]
            return [because("incident %(incident)s is still open", incident=i) for i in open_]
        if isinstance(check, EventEnded):
            if self.now < self.event.end:
                return [because("the event ends at %(end)s", english=f"the event ends at {self.event.end.isoformat()}",
                                end=self.event.end.isoformat(), zone=self.event.timezone)]
            return []
        raise AssertionError(f"unhandled check {check!r}")  # pragma: no cover - schema is closed

    def _agenda_reasons(self, min_buffer: float) -> list[Reason]:
        items = sorted(self.record.agenda, key=lambda i: (i.start, i.id))
        if not items:
            return [because("no agenda recorded yet")]
        reasons: list[Reason] = []
        for a_i, a in enumerate(items):
            for b in items[a_i + 1 :]:
                if b.start >= a.end:
                    continue
                if a.room == b.room:
                    reasons.append(because("%(first)s and %(second)s overlap in room %(room)s",
                                           first=a.id, second=b.id, room=a.room))
                elif a.speaker_id and a.speaker_id == b.speaker_id:
                    reasons.append(because("%(first)s and %(second)s overlap for speaker %(speaker)s",
                                           first=a.id, second=b.id, speaker=a.speaker_id))
        rooms: dict[str, list[AgendaItem]] = {}
        for item in items:
            rooms.setdefault(item.room, []).append(item)
        for room, room_items in rooms.items():
            span = (max(i.end for i in room_items) - room_items[0].start).total_seconds() / 60
            busy = sum(i.minutes for i in room_items if i.kind not in ("break", "meal"))
            share = 1 - busy / span if span else 0
            if len(room_items) > 1 and share < min_buffer:
                ids = ", ".join(i.id for i in room_items)
                reasons.append(because(
                    "room %(room)s keeps %(share)s buffer, less than %(min_share)s (%(items)s)",
                    english=f"room {room} keeps {share:.0%} buffer, less than {min_buffer:.0%} ({ids})",
                    room=room, share=share, min_share=min_buffer, items=ids,
                ))
        return reasons

    def gate_status(self, stage: Stage, gate: Gate) -> tuple[str, list[Reason]]:
        """(status, reasons it is still open): the work of `gate_view` without building the view,
        which matters on the hot path (every act asks every gate of the stage)."""
        rec = self.record.gates.get(gate.id)
        if rec is not None and rec.decision == "waived":
            return "waived", []
        if rec is not None and rec.decision == "approved" and self._is_past(stage.id):
            return "passed", []
        reasons = [reason for check in gate.checks for reason in self._check_reasons(check, stage)]
        if rec is not None and rec.decision == "rejected":
            rejected = (because("rejected by %(by)s (%(role)s): %(why)s", by=rec.by, role=rec.role, why=rec.reason)
                        if rec.reason else because("rejected by %(by)s (%(role)s)", by=rec.by, role=rec.role))
            return "rejected", [rejected, *reasons]
        if reasons:
            return "open", reasons
        if gate.approval and (rec is None or rec.decision != "approved"):
            roles = list(gate.approval.roles)
            return "awaiting_decision", [because("awaiting a decision by %(roles)s",
                                                 english=f"awaiting a decision by {' or '.join(roles)}", roles=roles)]
        return "passed", []

    def gate_view(self, stage: Stage, gate: Gate) -> GateView:
        status, reasons = self.gate_status(stage, gate)
        return GateView(
            id=gate.id, stage=stage.id, title=gate.title, status=status,  # type: ignore[arg-type]
            reasons=[r.text for r in reasons], reason_messages=[r.message for r in reasons],
            approvers=list(gate.approval.roles) if gate.approval else [], decision=self.record.gates.get(gate.id),
        )

    def gates_pass(self) -> bool:
        """The condition of `advance`: every gate of the current stage passed or waived."""
        stage = self.current_stage()
        return all(self.gate_status(stage, g)[0] in ("passed", "waived") for g in stage.gates)

    # ------------------------------------------------------------------ deadlines

    def _plus(self, moment: datetime, days: float = 0, hours: float = 0) -> datetime:
        """`moment` + `days` (calendar days in the event's zone, see :func:`calendar_plus`) + `hours`."""
        if not self.zone_days:
            return moment + timedelta(days=days, hours=hours)
        return calendar_plus(moment, days, hours, self.event.timezone or "UTC")

    def _anchor(self, offset: Offset, default_stage: str | None = None) -> datetime | None:
        if offset.anchor == "start":
            return self._plus(self.event.start, offset.days, offset.hours)
        if offset.anchor == "end":
            return self._plus(self.event.end, offset.days, offset.hours)
        entered = self.record.stages_entered.get(offset.stage or default_stage or "")
        return None if entered is None else self._plus(entered, offset.days, offset.hours)

    def _step_at(self, at: datetime, step: LadderStep) -> datetime:
        """When a ladder step fires: its deadline's time `at` moved by the step's offset."""
        return self._plus(at, step.offset_days, step.offset_hours)

    def _deadline_met(self, d: Deadline) -> bool:
        if d.met_when.gate:
            stage, gate = self.definition.gate(d.met_when.gate)
            if self._is_past(stage.id):
                return True
            return self.gate_status(stage, gate)[0] in ("passed", "waived")
        return d.met_when.task in self.record.tasks

    def _fired(self, d: Deadline, step: int, at: datetime) -> bool:
        return any(f.deadline == d.id and f.step == step and f.anchor == at for f in self.record.fired)

    def deadline_views(self) -> list[DeadlineView]:
        views = []
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None:
                continue
            met = self._deadline_met(d)
            steps = [
                StepView(
                    index=i,
                    at=self._step_at(at, s),
                    kind=s.kind,
                    notify=list(s.notify),
                    level=s.level,
                    fired=self._fired(d, i, at),
                )
                for i, s in enumerate(d.ladder)
            ]
            if not self.active and not met:
                status = "void"
            elif met:
                status = "met"
            elif self.now >= at:
                status = "missed"
            else:
                status = "pending"
            nxt = next((s for s in steps if not s.fired), None) if status in ("pending", "missed") else None
            views.append(
                DeadlineView(
                    id=d.id,
                    title=d.title,
                    at=at,
                    status=status,
                    seconds_left=(at - self.now).total_seconds(),
                    next_step=nxt,
                    steps=steps,
                )
            )
        return views

    def escalation(self) -> tuple[int, bool]:
        """(escalation level, at risk) from fired steps of deadlines not yet met, and failed effects."""
        level, at_risk = 0, False
        if not self.active:
            return 0, False
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None or self._deadline_met(d):
                continue
            for i, step in enumerate(d.ladder):
                if self._fired(d, i, at):
                    level = max(level, step.level)
                    at_risk = at_risk or step.at_risk
        if self._failing_effects():
            level, at_risk = max(level, 1), True
        for inc in self.record.incidents.values():
            if inc.resolved_at is None and self._fired_key(f"incident:{inc.id}", 0, inc.reported_at):
                level, at_risk = max(level, 2), True
        return level, at_risk

    def _failing_effects(self) -> list[str]:
        last: dict[str, bool] = {}
        for e in self.record.effects:
            last[e.name] = e.ok
        return [name for name, ok in last.items() if not ok]

    def next_wakeup(self) -> datetime | None:
        """The next time something is due with no act: a ladder step, the event's end, an activity task."""
        if not self.active:
            return None
        times: list[datetime] = []
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None or self._deadline_met(d):
                continue
            times += [self._step_at(at, s) for i, s in enumerate(d.ladder) if not self._fired(d, i, at)]
        stage = self.current_stage()
        if any(isinstance(c, EventEnded) for g in stage.gates for c in g.checks) and self.now < self.event.end:
            times.append(self.event.end)
        for task in stage.tasks:
            if task.activity and task.run_at and task.id not in self.record.started_activities:
                when = self._anchor(task.run_at, stage.id)
                if when is not None:
                    times.append(when)
        times += [when for when, _ in self._people_timers()]
        return min(times) if times else None

    def _people_timers(self) -> list[tuple[datetime, Any]]:
        """Timers of people and the day: speaker reminders, overrun warnings, unacknowledged incidents.

        Each is (when, fire) where fire() does the step; each fires once (recorded in `fired`).
        """
        out: list[tuple[datetime, Any]] = []
        r = self.record
        for sp in r.speakers.values():
            if sp.status != "invited":
                continue
            for i, days in enumerate(self.definition.speaker_reminder_days):
                if not self._fired_key(f"speaker:{sp.person.id}", i, sp.invited_at):
                    out.append((self._plus(sp.invited_at, days), ("speaker", sp, i)))
        for item in r.agenda:
            run = r.run.get(item.id)
            if run and run.started_at and not run.ended_at and not self._fired_key(f"overrun:{item.id}", 0, run.started_at):
                out.append((run.started_at + timedelta(minutes=item.minutes), ("overrun", item, run)))
        for inc in r.incidents.values():
            if inc.severity == "high" and inc.acknowledged_at is None and inc.resolved_at is None:
                if not self._fired_key(f"incident:{inc.id}", 0, inc.reported_at):
                    out.append((inc.reported_at + timedelta(minutes=self.definition.incident_ack_minutes),
                                ("incident", inc, None)))
        return out

    def _fired_key(self, name: str, step: int, anchor: datetime) -> bool:
        return any(f.deadline == name and f.step == step and f.anchor == anchor for f in self.record.fired)

    def _fire_people_timers(self) -> list[str]:
        fired: list[str] = []
        owner = self.definition.owner_role
        roles = self.definition.role_ids()
        for when, (what, subject, extra) in sorted(self._people_timers(), key=lambda t: t[0]):
            if when > self.now:
                continue
            if what == "speaker":
                sp, i = subject, extra
                self.record.fired.append(FiredStep(deadline=f"speaker:{sp.person.id}", step=i, at=self.now,
                                                   anchor=sp.invited_at))
                self._notify_people("reminder", [sp.person], cause=f"speaker-reminder.{sp.person.id}.{i}",
                                    extra={"audience": "speaker", "slot": sp.slot, "topic": sp.topic or ""})
                planner = [r for r in ("activity_planner",) if r in roles] or [owner]
                self._notify(Notify(kind="reminder", roles=planner, channels=["email", "log"]),
                             cause=f"speaker-silent.{sp.person.id}.{i}",
                             context={"speaker": sp.person.name, "invited": sp.invited_at.isoformat()})
                self._audit("remind", SYSTEM, "system", None, None,
                            f"speaker {sp.person.name} has not answered; reminder {i + 1} sent, planner told")
                fired.append(f"speaker:{sp.person.id}[{i}]")
            elif what == "overrun":
                item, run = subject, extra
                self.record.fired.append(FiredStep(deadline=f"overrun:{item.id}", step=0, at=self.now,
                                                   anchor=run.started_at))
                told = [r for r in ("chair", "activity_planner") if r in roles] or [owner]
                self._notify(Notify(kind="escalation", roles=told, channels=["log", "email"]),
                             cause=f"overrun.{item.id}", context={"item": item.title, "minutes": item.minutes})
                self._audit("overrun", SYSTEM, "system", None, None,
                            f"{item.title} ({item.id}) has overrun its {item.minutes} minutes")
                fired.append(f"overrun:{item.id}")
            elif what == "incident":
                inc = subject
                self.record.fired.append(FiredStep(deadline=f"incident:{inc.id}", step=0, at=self.now,
                                                   anchor=inc.reported_at))
                told = [r for r in (owner, "sponsor") if r in roles]
                self._notify(Notify(kind="escalation", roles=told, channels=["email", "log"]),
                             cause=f"incident-unacknowledged.{inc.id}",
                             context={"incident": inc.summary, "severity": inc.severity})
                self._audit("escalate", SYSTEM, "system", None, None,
                            f"incident {inc.id} not acknowledged within {self.definition.incident_ack_minutes:g} "
                            f"minutes; {', '.join(told)} told")
                fired.append(f"incident:{inc.id}")
        return fired

    def tick(self) -> list[str]:
        """Fire every ladder step and activity task that is due, then advance if the gates allow.

        Returns what fired, for logging. Each step fires once per deadline date.
        """
        fired: list[str] = []
        if not self.active:
            return fired
        for d in self.definition.deadlines:
            at = self._anchor(d.at)
            if at is None or self._deadline_met(d):
                continue
            for i, step in enumerate(d.ladder):
                if self.now < self._step_at(at, step) or self._fired(d, i, at):
                    continue
                self.record.fired.append(FiredStep(deadline=d.id, step=i, at=self.now, anchor=at))
                fired.append(f"{d.id}[{i}]")
                self._audit("escalate" if step.kind == "escalation" else "remind", SYSTEM, "system", None, None,
                            f"{d.title}: {step.kind} step {i + 1} (due {at.isoformat()}), told {', '.join(step.notify) or 'nobody'}")
                level, _ = self.escalation()
                self._notify(
                    Notify(kind=step.kind, roles=list(step.notify), channels=["email", "log"]) if step.notify else None,
                    cause=f"{d.id}.{i}.{at.isoformat()}",
                    context={"deadline": d.title, "due": at.isoformat(), "level": level, "step": i + 1},
                )
                self._ladder_action(d, step.action, step.postpone_days)
                if not self.active:
                    return fired
        fired += self._fire_people_timers()
        self._start_due_activities()
        self._settle()
        return fired

    def _ladder_action(self, d: Deadline, action: str | None, postpone_days: float | None) -> None:
        if action is None:
            return
        if action == "send_attendee_reminder":
            cause = f"{d.id}.auto-reminder"
            at = self._anchor(d.at)
            if any(f.deadline == d.id and f.anchor != at for f in self.record.fired):
                cause += f".{at.isoformat() if at else ''}"  # again for a new date: a new message, not a retry
            if self.in_database:
                self._notify_roster("reminder", "not_declined", cause=cause)
                told = "reminders sent to every attendee who has not declined"
            else:
                people = [a.person for a in self.record.attendees.values() if a.rsvp != "no"]
                self._notify_people("reminder", people, cause=cause)
                told = f"reminders sent to {len(people)} attendee(s)"
            if self.speaker_reminders:
                speakers = [s.person for s in sorted(self.record.speakers.values(), key=lambda s: s.person.id)
                            if s.on_board]
                self._notify_people("reminder", speakers, cause=f"{cause}.speakers", extra={"audience": "speaker"})
                told += f", and to {len(speakers)} speaker(s) on board"
            if d.met_when.task and d.met_when.task not in self.record.tasks:
                self.record.tasks[d.met_when.task] = TaskRecord(done_at=self.now, by=SYSTEM, note="sent automatically")
            self._audit("auto_reminder", SYSTEM, "system", None, None, told)
        elif action == "send_survey_reminder":
            if self.in_database:
                self._notify_roster("reminder", "survey_pending", cause=f"{d.id}.survey-reminder",
                                    extra={"survey": True})
                told = "survey reminder sent to every attendee who came and has not answered"
            else:
                people = [a.person for a in self.record.attendees.values()
                          if (a.checked_in_at or a.rsvp == "yes") and a.person.id not in self.record.survey]
                self._notify_people("reminder", people, cause=f"{d.id}.survey-reminder", extra={"survey": True})
                told = f"survey reminder sent to {len(people)} attendee(s) who have not answered"
            self._audit("survey_reminder", SYSTEM, "system", None, None, told)
        elif action == "auto_reject" and d.met_when.gate:
            stage, gate = self.definition.gate(d.met_when.gate)
            if stage.id == self.record.stage and gate.approval:
                self.record.gates[gate.id] = GateRecord(
                    decision="rejected", by=SYSTEM, role="system", at=self.now, reason=f"no decision by {d.title}"
                )
                self._audit("auto_reject", SYSTEM, "system", None, None, f"{gate.title}: rejected, no decision in time")
        elif action == "postpone" and postpone_days:
            old = self.event.start
            self._move_dates(self._plus(self.event.start, postpone_days), self._plus(self.event.end, postpone_days))
            if self.calendar_updates:
                self._update_calendars("postponement", "REQUEST", {"postponed_from": old.isoformat()})
            self._audit("auto_postpone", SYSTEM, "system", None, None, f"postponed by {_span(postpone_days)}")
        elif action == "cancel" and self.may_cancel():  # type: ignore[attr-defined]
            self._cancel(f"{d.title} missed")
            self._audit("auto_cancel", SYSTEM, "system", None, None, f"cancelled: {d.title} missed")

    # ------------------------------------------------------------------ acts

    def check(self, act: AnyAct) -> ActResult | None:
        """Refuse an act that cannot be applied, or return the earlier answer for a repeated key.

        Raises:
            ActRefused: with a message a person understands; nothing changes.
        """
        seen = self.record.applied.get(act.key)
        if seen is not None:
            digest, result = seen
            if digest != act_digest(act):
                raise _conflict("idempotency key %(key)r was already used for a different act (%(act)s)", key=act.key, act=result.act)
            return result
        self.check_remembered(act)
        if not self.active:
            raise _conflict("the event is %(status)s; it takes no more acts", status=self.record.status)
        self._authorize(act)
        getattr(self, f"_check_{ACT_NAMES[type(act)]}")(act)
        return None

    def check_remembered(self, act: AnyAct) -> None:
        """Refuse an act whose key was refused before, with the reason it was given then.

        Raises:
            ActRefused: the earlier refusal (or a conflict, when the key stood for another act).
        """
        refused = self.record.refused.get(act.key)
        if refused is None:
            return
        digest, kind, message = refused
        if digest != act_digest(act):
            raise _conflict(f"idempotency key {act.key!r} was already used for a different act")
        raise ActRefused(kind, message)

    def remember_refusal(self, act: AnyAct, refusal: ActRefused) -> None:
        """Keep `act`'s key as refused for good (the newest :data:`REFUSALS_KEPT`), so that a later attempt
        with the same key, even one that would pass now, is refused with the same reason. A key already
        applied or already refused keeps what it has."""
        if act.key in self.record.applied or act.key in self.record.refused:
            return
        self.record.refused[act.key] = (act_digest(act), refusal.kind, refusal.message)
        while len(self.record.refused) > REFUSALS_KEPT:  # dicts keep insertion order: drop the oldest
            del self.record.refused[next(iter(self.record.refused))]

    def apply(self, act: AnyAct) -> ActResult:
        """Apply an act (after :meth:`check`), record it, advance if the gates now allow."""
        earlier = self.check(act)
        if earlier is not None:
            return earlier
        name = ACT_NAMES[type(act)]
        self.record.hold = None  # any act in a stage sent back to releases it (send_back sets it anew)
        summary = getattr(self, f"_apply_{name}")(act)
        entry = self._audit(name, act.actor.id, act.actor.role, act.key, act.reason, summary)
        self._settle()
        result = ActResult(
            act=name, key=act.key, seq=entry.seq, stage=self.record.stage, status=self.record.status, message=summary
        )
        self.record.applied[act.key] = (act_digest(act), result)
        window = IDEMPOTENCY_WINDOW_DB if self.in_database else IDEMPOTENCY_WINDOW
        while len(self.record.applied) > window:  # dicts keep insertion order: drop the oldest
            del self.record.applied[next(iter(self.record.applied))]
        return result

    def _authorize(self, act: AnyAct) -> None:
        actor = act.actor
        if actor.role == GUEST:  # a person outside the team, answering for themselves through their link
            if _documents.guest_may(self, act):  # documents: a board member acknowledging the papers on their page
                return
            if isinstance(act, (SpeakerReply, SpeakerItinerary)) and act.speaker_id == actor.id:
                self._speaker(act.speaker_id)  # an invited speaker, or invalid
                return
            raise _forbidden(f"{actor.id} may answer only for themselves: their own speaker reply and itinerary")
        if actor.role not in self.definition.role_ids():
            raise _forbidden("%(role)r is not a role of a %(kind)s", role=actor.role, kind=self.definition.kind)
        people = self._people(actor.role)
        if people and actor.id not in {p.id for p in people}:
            raise _forbidden("%(person)s does not hold the role %(role)s for this event", person=actor.id, role=actor.role)
        allowed = allowed_roles(self.definition, act)
        if actor.role not in allowed:
            raise _forbidden(
                "a %(role)s may not %(act)s here; allowed: %(allowed)s", role=actor.role,
                act=ACT_NAMES[type(act)].replace("_", " "), allowed=", ".join(allowed) or "nobody",
            )

    def _in_current_stage(self, stage: Stage, what: str) -> None:
        if stage.id != self.record.stage:
            raise _conflict("%(what)s belongs to %(stage)s; the event is in %(current)s", what=what, stage=stage.id,
                            current=self.record.stage)

    # decide -----------------------------------------------------------------

    def _check_decide(self, act: Decide) -> None:
        stage, gate = self.definition.gate(act.gate)
        self._in_current_stage(stage, f"gate {gate.id}")
        view = self.gate_view(stage, gate)
        if act.decision == "waive":
            if not (act.reason or "").strip():
                raise _invalid("waiving a gate needs a reason")
            if view.status in ("passed", "waived"):
                raise _conflict("gate %(gate)s is already %(status)s", gate=gate.id, status=view.status)
            return
        if gate.approval is None:
            raise _invalid("gate %(gate)s is computed from the record; it takes no decision (it can be waived)", gate=gate.id)
        if act.decision == "reject" and not (act.reason or "").strip():
            raise _invalid("a rejection needs a reason")
        rec = self.record.gates.get(gate.id)
        if rec is not None and rec.decision == {"approve": "approved", "reject": "rejected"}[act.decision]:
            raise _conflict("gate %(gate)s is already %(status)s", gate=gate.id, status=rec.decision)
        if act.decision == "approve":
            blockers = [r for c in gate.checks for r in self._check_reasons(c, stage)]
            if blockers:  # the reasons' messages ride along, for the API to say them in the reader's language
                raise _conflict("cannot approve %(gate)s yet: %(reasons)s", gate=gate.id,
                                reasons="; ".join(r.text for r in blockers),
                                reason_messages=[r.message.model_dump() for r in blockers])

    def _apply_decide(self, act: Decide) -> str:
        decision = {"approve": "approved", "reject": "rejected", "waive": "waived"}[act.decision]
        _, gate = self.definition.gate(act.gate)
        self.record.gates[gate.id] = GateRecord(
            decision=decision, by=act.actor.id, role=act.actor.role, at=self.now, reason=act.reason
        )
        return f"{gate.title}: {decision}"

    # documents (workflows/documents.py) ------------------------------------

    def _check_record_document(self, act: RecordDocument) -> None:
        _documents.check_record_document(self, act)

    def _apply_record_document(self, act: RecordDocument) -> str:
        return _documents.apply_record_document(self, act)

    def _check_acknowledge_papers(self, act: AcknowledgePapers) -> None:
        _documents.check_acknowledge_papers(self, act)

    def _apply_acknowledge_papers(self, act: AcknowledgePapers) -> str:
        return _documents.apply_acknowledge_papers(self, act)

    # risks (workflows/risks.py) --------------------------------------------

    def _check_record_risks(self, act: RecordRisks) -> None:
        _risks.check_record_risks(self, act)

    def _apply_record_risks(self, act: RecordRisks) -> str:
        return _risks.apply_record_risks(self, act)

    # tasks ------------------------------------------------------------------

    def _check_complete_task(self, act: CompleteTask) -> None:
        stage, task = self.definition.task(act.task)
        if not self._is_past(stage.id) and stage.id != self.record.stage:
            raise _conflict("task %(task)s belongs to %(stage)s; the event is in %(current)s", task=task.id, stage=stage.id,
                            current=self.record.stage)
        if task.id in self.record.tasks:
            raise _conflict("task %(task)s is already done", task=task.id)
        if task.activity:
            raise _conflict("task %(task)s is done by the engine (%(activity)s), not by hand", task=task.id, activity=task.activity)

    def _apply_complete_task(self, act: CompleteTask) -> str:
        stage, task = self.definition.task(act.task)
        self.record.tasks[task.id] = TaskRecord(done_at=self.now, by=act.actor.id, note=act.note)
        if task.id == LESSONS_TASK and self.report_after_lessons:
            # The report quotes the lessons: one written before they were recorded is written again.
            for report in stage.tasks:
                if report.activity != "evaluation_report":
                    continue
                if report.id in self.record.tasks:
                    self.effects.append(RunActivity(report.id, report.activity))
                    return f"task done: {task.title}; the evaluation report is written again with the lessons"
                if report.id in self.record.started_activities:  # being written now, from a record without them
                    self.record.report_stale = True
                    return f"task done: {task.title}; the evaluation report is written again once the one under way ends"
        return f"task done: {task.title}"

    # budget -----------------------------------------------------------------

    def _check_record_budget(self, act: RecordBudget) -> None:
        cats = [line.category for line in act.lines]
        if len(set(cats)) != len(cats):
            raise _invalid("each budget category may appear once per act")

    def _apply_record_budget(self, act: RecordBudget) -> str:
        for line in act.lines:
            self.record.budget[line.category] = line
        total = sum((line.planned for line in self.record.budget.values()), Decimal(0))
        return f"budget lines recorded ({', '.join(line.category for line in act.lines)}); planned total {total:,.2f}"

    # speakers ---------------------------------------------------------------

    def _check_invite_speaker(self, act: InviteSpeaker) -> None:
        existing = self.record.speakers.get(act.speaker.id)
        if existing is not None and existing.status != "declined":
            raise _conflict("speaker %(speaker)s is already %(status)s", speaker=act.speaker.id, status=existing.status)

    def _apply_invite_speaker(self, act: InviteSpeaker) -> str:
        self.record.speakers[act.speaker.id] = SpeakerRecord(
            person=act.speaker, slot=act.slot, topic=act.topic, invited_at=self.now
        )
        self._notify_people("invitation", [act.speaker], cause=f"speaker.{act.speaker.id}.{act.key}",
                            extra=self._invitation_context() | {"slot": act.slot, "topic": act.topic or "",
                                                    "audience": "speaker"}, ics=True)
        return f"speaker invited: {act.speaker.name} ({act.slot})"

    def _speaker(self, speaker_id: str) -> SpeakerRecord:
        sp = self.record.speakers.get(speaker_id)
        if sp is None:
            raise _invalid("unknown speaker %(speaker)r", speaker=speaker_id)
        return sp

    def _check_speaker_reply(self, act: SpeakerReply) -> None:
        sp = self._speaker(act.speaker_id)
        if sp.status == act.response or (act.response == "accepted" and sp.status == "confirmed"):
            raise _conflict("speaker %(speaker)s has already %(status)s", speaker=act.speaker_id, status=sp.status)

    def _apply_speaker_reply(self, act: SpeakerReply) -> str:
        sp = self.record.speakers[act.speaker_id]
        sp.status = act.response
        sp.replied_at = self.now
        if act.response == "accepted":
            self._notify_people("confirmation", [sp.person], cause=f"speaker.{sp.person.id}.{act.key}",
                                extra={"slot": sp.slot, "topic": sp.topic or "", "audience": "speaker"})
            return f"speaker {sp.person.name} accepted ({sp.slot})"
        items = [i.id for i in self.record.agenda if i.speaker_id == sp.person.id]
        if sp.slot == "keynote" or items:
            planner = [r for r in ("activity_planner",) if r in self.definition.role_ids()] or [self.definition.owner_role]
            self._notify(Notify(kind="escalation", roles=planner, channels=["email", "log"]),
                         cause=f"speaker-declined.{sp.person.id}.{act.key}",
                         context={"speaker": sp.person.name, "items": ", ".join(items) or sp.slot})
        reopened = f"; reopens {', '.join(items)}" if items else ("; the keynote slot is open again" if sp.slot == "keynote" else "")
        return f"speaker {sp.person.name} declined ({sp.slot}){reopened}"

    def _check_speaker_itinerary(self, act: SpeakerItinerary) -> None:
        sp = self._speaker(act.speaker_id)
        if not sp.on_board:
            raise _conflict("speaker %(speaker)s has %(status)s; an itinerary is for a speaker who accepted",
                            speaker=act.speaker_id, status=sp.status)

    def _apply_speaker_itinerary(self, act: SpeakerItinerary) -> str:
        sp = self.record.speakers[act.speaker_id]
        sp.itinerary = act.itinerary
        sp.status = "confirmed"
        return f"itinerary recorded for {sp.person.name}; confirmed"

    # agenda and time control -------------------------------------------------

    def _check_set_agenda(self, act: SetAgenda) -> None:
        ids = [i.id for i in act.items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise _invalid("agenda item ids must be unique: %(items)s", items=", ".join(dupes))
        unknown = sorted({i.speaker_id for i in act.items if i.speaker_id and i.speaker_id not in self.record.speakers})
        if unknown:
            raise _invalid("agenda names speakers not invited: %(speakers)s", speakers=", ".join(unknown))
        if any(run.started_at for run in self.record.run.values()):
            raise _conflict("the programme has started; the agenda can no longer be replaced")

    def _apply_set_agenda(self, act: SetAgenda) -> str:
        self.record.agenda = sorted(act.items, key=lambda i: (i.start, i.room, i.id))
        return f"agenda set: {len(act.items)} item(s)"

    def _item(self, item_id: str) -> AgendaItem:
        for item in self.record.agenda:
            if item.id == item_id:
                return item
        raise _invalid("unknown agenda item %(item)r", item=item_id)

    def _check_start_item(self, act: StartItem) -> None:
        self._item(act.item_id)
        if not self._on_site():
            raise _conflict("the programme runs on site; the event is in %(current)s", current=self.record.stage)
        run = self.record.run.get(act.item_id)
        if run and run.started_at:
            raise _conflict("%(item)s already started at %(at)s", item=act.item_id, at=run.started_at.isoformat())

    def _apply_start_item(self, act: StartItem) -> str:
        item = self._item(act.item_id)
        self.record.run[item.id] = RunRecord(started_at=self.now)
        late = (self.now - item.start).total_seconds() / 60
        return f"{item.title} started" + (f", {late:.0f} min late" if late >= 1 else "")

    def _check_end_item(self, act: EndItem) -> None:
        self._item(act.item_id)
        run = self.record.run.get(act.item_id)
        if run is None or run.started_at is None:
            raise _conflict("%(item)s has not started", item=act.item_id)
        if run.ended_at is not None:
            raise _conflict("%(item)s already ended", item=act.item_id)

    def _apply_end_item(self, act: EndItem) -> str:
        item = self._item(act.item_id)
        run = self.record.run[item.id]
        run.ended_at = self.now
        took = (self.now - run.started_at).total_seconds() / 60 if run.started_at else 0
        return f"{item.title} ended after {took:.0f} of {item.minutes} min"

    # attendees --------------------------------------------------------------

    def _check_invite_attendees(self, act: InviteAttendees) -> None:
        if self.in_database:
            if len(act.attendees) > INLINE_INVITATIONS:
                raise _invalid("at most %(limit)s attendees travel inside one act; write more to the roster first and "
                               "invite them as a batch (the API and CLI do this)", limit=INLINE_INVITATIONS)
            return  # the roster database skips people already invited
        if act.batch is not None:
            raise _invalid("this event keeps its roster in the workflow (recorded before the roster database); "
                           "list the attendees in the act")
        ids = [a.id for a in act.attendees]
        dupes = sorted({i for i in ids if ids.count(i) > 1} | {i for i in ids if i in self.record.attendees})
        if dupes:
            raise _conflict("already invited: %(people)s", people=", ".join(dupes[:10]))

    def _apply_invite_attendees(self, act: InviteAttendees) -> str:
        if self.in_database:
            count = act.batch.count if act.batch else len(act.attendees)
            self._add_invitation_batch(InvitationBatch(at=self.now, count=count))
            self.effects.append(InvitationSend(
                event_id=self.event.id, batch=act.batch.id if act.batch else act.key, invited_at=self.now,
                attendees=list(act.attendees), cause=f"attendee.{act.key}", locale=self.event.locale,
                context=self._context() | self._invitation_context() | {"audience": "attendee"},
            ))
            return f"{count} attendee(s) invited"
        for a in act.attendees:
            self.record.attendees[a.id] = AttendeeRecord(person=a, invited_at=self.now)
        self._notify_people("invitation", list(act.attendees), cause=f"attendee.{act.key}",
                            extra=self._invitation_context() | {"audience": "attendee"}, ics=True)
        return f"{len(act.attendees)} attendee(s) invited"

    def _add_invitation_batch(self, batch: InvitationBatch) -> None:
        batches = self.record.invitations
        batches.append(batch)
        while len(batches) > INVITATION_BATCHES:  # merge the two oldest: bounded, and late ones stay exact
            first, second = batches.pop(0), batches.pop(0)
            batches.insert(0, InvitationBatch(at=max(first.at, second.at), count=first.count + second.count))

    def _roster_in_memory(self, what: str, route: str) -> None:
        if self.in_database:
            raise _invalid("%(what)s are recorded in the roster database, not by the workflow: use the API (%(route)s) "
                           "or `convene events`", what=what, route=route)

    def _attendee(self, attendee_id: str) -> AttendeeRecord:
        rec = self.record.attendees.get(attendee_id)
        if rec is None:
            raise _invalid("unknown attendee %(attendee)r: not invited to this event", attendee=attendee_id)
        return rec

    def _check_rsvp(self, act: Rsvp) -> None:
        self._roster_in_memory("RSVPs", "POST /events/{id}/attendees/{attendee}/rsvp")
        self._attendee(act.attendee_id)

    def _apply_rsvp(self, act: Rsvp) -> str:
        rec = self._attendee(act.attendee_id)
        rec.rsvp = act.response
        return f"{rec.person.name} answered {act.response}"

    def _check_check_in(self, act: CheckIn) -> None:
        self._roster_in_memory("check-ins", "POST /events/{id}/attendees/{attendee}/check-in")
        rec = self._attendee(act.attendee_id)
        if not self._on_site():
            raise _conflict("check-in opens on site; the event is in %(current)s", current=self.record.stage)
        if rec.checked_in_at is not None:
            raise _conflict("%(attendee)s already checked in at %(at)s", attendee=act.attendee_id, at=rec.checked_in_at.isoformat())

    def _apply_check_in(self, act: CheckIn) -> str:
        rec = self._attendee(act.attendee_id)
        rec.checked_in_at = self.now
        return f"{rec.person.name} checked in"

    def on_site(self) -> bool:
        """Check-in is open: the current stage waits for the event's end."""
        return self.active and self._on_site()

    def _on_site(self) -> bool:
        return any(isinstance(c, EventEnded) for g in self.current_stage().gates for c in g.checks)

    # incidents --------------------------------------------------------------

    def _check_report_incident(self, act: ReportIncident) -> None:
        if act.incident_id in self.record.incidents:
            raise _conflict("incident %(incident)s is already recorded", incident=act.incident_id)

    def _apply_report_incident(self, act: ReportIncident) -> str:
        self.record.incidents[act.incident_id] = IncidentRecord(
            id=act.incident_id, category=act.category, severity=act.severity, summary=act.summary,
            reported_at=self.now, reported_by=act.actor.id, owner=act.owner,
        )
        if act.severity == "high":
            roles = [r for r in ("on_site_command", self.definition.owner_role) if r in self.definition.role_ids()]
            self._notify(Notify(kind="escalation", roles=roles, channels=["email", "log"]),
                         cause=f"incident.{act.incident_id}", context={"incident": act.summary, "severity": "high"})
        return f"incident {act.incident_id} ({act.severity} {act.category}): {act.summary}"

    def _check_acknowledge_incident(self, act: AcknowledgeIncident) -> None:
        inc = self.record.incidents.get(act.incident_id)
        if inc is None:
            raise _invalid("unknown incident %(incident)r", incident=act.incident_id)
        if inc.resolved_at is not None:
            raise _conflict("incident %(incident)s is already resolved", incident=act.incident_id)
        if inc.acknowledged_at is not None and not act.action:
            raise _conflict("incident %(incident)s is already acknowledged", incident=act.incident_id)

    def _apply_acknowledge_incident(self, act: AcknowledgeIncident) -> str:
        inc = self.record.incidents[act.incident_id]
        inc.acknowledged_at = inc.acknowledged_at or self.now
        if act.action:
            inc.actions.append(act.action)
        return f"incident {inc.id} acknowledged" + (f": {act.action}" if act.action else "")

    def _check_resolve_incident(self, act: ResolveIncident) -> None:
        inc = self.record.incidents.get(act.incident_id)
        if inc is None:
            raise _invalid("unknown incident %(incident)r", incident=act.incident_id)
        if inc.resolved_at is not None:
            raise _conflict("incident %(incident)s is already resolved", incident=act.incident_id)

    def _apply_resolve_incident(self, act: ResolveIncident) -> str:
        self.record.incidents[act.incident_id].resolved_at = self.now
        return f"incident {act.incident_id} resolved"

    # survey -----------------------------------------------------------------

    def _check_record_survey(self, act: RecordSurvey) -> None:
        self._roster_in_memory("survey responses", "POST /events/{id}/survey")
        if self.now < self.event.end:
            raise _conflict("survey responses are recorded after the event")

    def _apply_record_survey(self, act: RecordSurvey) -> str:
        for resp in act.responses:
            self.record.survey[resp.respondent] = resp
        return f"{len(act.responses)} survey response(s) recorded"

    # moves ------------------------------------------------------------------

    def _check_send_back(self, act: SendBack) -> None:
        if not (act.reason or "").strip():
            raise _invalid("sending back needs a reason")
        if act.to_stage not in self.definition.stage_ids():
            raise _invalid("unknown stage %(stage)r", stage=act.to_stage)
        if not getattr(self, f"may_send_back_to_{act.to_stage}", lambda: False)():
            path = self.definition.path()
            if act.to_stage in path and path.index(act.to_stage) < path.index(self.record.stage):
                raise _conflict("cannot send back from %(current)s: the event is already under way", current=self.record.stage)
            raise _conflict("cannot send back from %(current)s to %(stage)s: it is not an earlier stage", current=self.record.stage,
                            stage=act.to_stage)

    def _apply_send_back(self, act: SendBack) -> str:
        origin = self.record.stage
        path = self.definition.path()
        reopened = path[path.index(act.to_stage) : path.index(origin) + 1]
        for stage_id in reopened:
            for gate in self.definition.stage(stage_id).gates:
                self.record.gates.pop(gate.id, None)
        getattr(self, f"send_back_to_{act.to_stage}")()
        self._entered(act.to_stage, previous=origin)
        # Held until someone acts in the stage: else gates that still pass would bounce it straight back.
        self.record.hold = act.to_stage
        return f"sent back from {origin} to {act.to_stage}; decisions reopened in {', '.join(reopened)}"

    def _check_postpone(self, act: Postpone) -> None:
        stages = [st.id for st in self.definition.stages]
        if self.record.stage in stages and stages.index(self.record.stage) >= self.definition.first_on_site_index():
            raise _conflict("the doors have opened (the event is in %(current)s); it can no longer be postponed",
                            current=self.record.stage)
        if act.new_start <= self.now:
            raise _invalid("the new start must be in the future")
        if act.new_start <= self.event.start:
            raise _invalid("postponing moves the event later; the new start is not after the current one")

    def _apply_postpone(self, act: Postpone) -> str:
        old = self.event.start
        self._move_dates(act.new_start, act.new_end)
        self._notify(Notify(kind="reminder", roles=[self.definition.owner_role], channels=["email", "log"]),
                     cause=f"postpone.{act.key}", context={"postponed_from": old.isoformat()})
        if self.calendar_updates:
            self._update_calendars("postponement", "REQUEST", {"postponed_from": old.isoformat()})
        return f"postponed from {old.isoformat()} to {act.new_start.isoformat()}"

    def _move_dates(self, start: datetime, end: datetime) -> None:
        """Shift the event; ladder steps already fired stay fired unless their new time is still ahead.

        A step that did the deadline's own work for the old date (the automatic attendee reminder, which
        marks its task done) is re-armed with it: the task is reopened when the step's new time is ahead,
        so the deadline is pending again and the reminder goes out before the new date.
        """
        before = {d.id: self._anchor(d.at) for d in self.definition.deadlines}
        self.event = self.event.model_copy(update={"start": start, "end": end})
        for d in self.definition.deadlines:
            old_at, new_at = before[d.id], self._anchor(d.at)
            if old_at is None or new_at is None or old_at == new_at:
                continue
            for i, step in enumerate(d.ladder):
                if not self._fired(d, i, old_at):
                    continue
                if self._step_at(new_at, step) <= self.now:
                    self.record.fired.append(FiredStep(deadline=d.id, step=i, at=self.now, anchor=new_at))
                elif self.rearm_own_steps and step.action == "send_attendee_reminder" and d.met_when.task:
                    done = self.record.tasks.get(d.met_when.task)
                    if done is not None and done.by == SYSTEM:  # done by this step, for the old date
                        del self.record.tasks[d.met_when.task]

    def _check_cancel(self, act: Cancel) -> None:
        if not self.may_cancel():  # type: ignore[attr-defined]
            raise _conflict("an event in %(current)s has already happened; it can only close", current=self.record.stage)

    def _apply_cancel(self, act: Cancel) -> str:
        self._cancel(act.reason)
        return f"cancelled: {act.reason}"

    def _cancel(self, reason: str) -> None:
        if self.calendar_updates:
            self._update_calendars("cancellation", "CANCEL", {"reason": reason})
        else:  # runs recorded before: a text notice to those who had not declined
            people = [s.person for s in self.record.speakers.values() if s.on_board]
            if self.in_database:
                self._notify_roster("cancellation", "not_declined", cause="cancel", extra={"reason": reason})
            else:
                people += [a.person for a in self.record.attendees.values() if a.rsvp != "no"]
            self._notify_people("cancellation", people, cause="cancel", extra={"reason": reason})
        self._notify(Notify(kind="cancellation", roles=sorted(self.definition.role_ids()), channels=["log"]),
                     cause="cancel.team", context={"reason": reason})
        for booking in self.definition.on_cancel:
            self.effects.append(Compensate(booking))
        self.cancel()  # the machine's trigger
        self.record.status = "cancelled"

    # ------------------------------------------------------------------ effects of being somewhere

    def activity_finished(self, task_id: str, ok: bool, detail: str) -> None:
        """Record an activity task's outcome; success completes the task."""
        self._effect(EffectRecord(name=task_id, ok=ok, detail=detail, at=self.now))
        if self.record.report_stale and self._task_activity(task_id) == "evaluation_report":
            self.record.report_stale = False  # that run read the record before the lessons: once more with them
            self.effects.append(RunActivity(task_id, "evaluation_report"))
        if ok and self._task_activity(task_id) == "send_thanks":  # who was thanked: a rerun skips them
            refused = not_deliverable(detail)
            for sp in self.record.speakers.values():
                if sp.on_board and sp.person.id not in refused:
                    sp.thanked = True
        if ok and task_id not in self.record.tasks:
            self.record.tasks[task_id] = TaskRecord(done_at=self.now, by=SYSTEM, note=detail)
            self._audit("task_done", SYSTEM, "system", None, None, f"task done by the engine: {task_id}")
        elif not ok:
            self._audit("effect_failed", SYSTEM, "system", None, None, f"{task_id} failed: {detail}")
            self._notify(Notify(kind="escalation", roles=[self.definition.owner_role], channels=["email", "log"]),
                         cause=f"failed.{task_id}.{self.audit_count if self.in_database else len(self.record.effects)}", context={"failed": task_id, "detail": detail})
        self._settle()

    def _task_activity(self, task_id: str) -> str | None:
        try:
            return self.definition.task(task_id)[1].activity
        except KeyError:
            return None

    def effect_finished(self, name: str, ok: bool, detail: str) -> None:
        """Record a compensation's or notification's outcome (failures count toward at-risk)."""
        self._effect(EffectRecord(name=name, ok=ok, detail=detail, at=self.now))

    def _effect(self, outcome: EffectRecord) -> None:
        effects = self.record.effects
        if self.in_database:  # the latest outcome per effect is what counts; keep the record bounded
            effects[:] = [e for e in effects if e.name != outcome.name][-(EFFECTS_KEPT - 1):]
        effects.append(outcome)

    def _settle(self) -> None:
        """Advance while the gates allow; entering a stage queues its notifications and tasks."""
        while self.active and self.record.hold != self.record.stage and self.may_advance():  # type: ignore[attr-defined]
            origin = self.record.stage
            self.advance()  # type: ignore[attr-defined]
            if self.record.stage == CLOSED:
                self.record.status = "closed"
                self._audit("close", SYSTEM, "system", None, None, "all stages done; event closed")
                self._stage_notes(self.definition.stage(origin).on_exit, origin, "exit")
                break
            self._entered(self.record.stage, previous=origin)

    def _entered(self, stage_id: str, previous: str | None = None) -> None:
        self.record.stage_entered_at = self.now
        self.record.stages_entered[stage_id] = self.now
        if previous is not None:
            self._audit("advance" if self._path_index(stage_id) > self._path_index(previous) else "move",
                        SYSTEM, "system", None, None, f"{previous} -> {stage_id}")
            self._stage_notes(self.definition.stage(previous).on_exit, previous, "exit")
        self._stage_notes(self.definition.stage(stage_id).on_enter, stage_id, "enter")
        self._start_due_activities()

    def _stage_notes(self, notes: list[Notify], stage_id: str, when: str) -> None:
        for n, note in enumerate(notes):
            self._notify(note, cause=f"{when}.{stage_id}.{self.audit_count}.{n}", context={"stage": stage_id})

    def _start_due_activities(self) -> None:
        stage = self.current_stage() if self.active else None
        if stage is None:
            return
        for task in stage.tasks:
            if not task.activity or task.id in self.record.started_activities or task.id in self.record.tasks:
                continue
            when = self._anchor(task.run_at, stage.id) if task.run_at else self.now
            if when is not None and when <= self.now:
                self.record.started_activities.append(task.id)
                self.effects.append(RunActivity(task.id, task.activity))

    def _context(self) -> dict[str, Any]:
        e = self.event
        return {
            "event_id": e.id, "title": e.title, "kind": self.definition.kind, "kind_title": self.definition.title,
            "start": e.start.isoformat(), "end": e.end.isoformat(), "timezone": e.timezone, "venue": e.venue or "",
            "stage": self.record.stage, "confidential": self.definition.confidential,
        }

    def _invitation_context(self) -> dict[str, Any]:
        """What an invitation states besides the common facts: the agenda as it stands, the fee, the contact.

        ``agenda`` is one line per item (``HH:MM-HH:MM title (room)``, in the event's zone, at most
        :data:`INVITATION_AGENDA_ITEMS` items, then how many more), empty while there is none; ``fee`` and
        ``contact`` come from the event's details, empty when not given.
        """
        zone = ZoneInfo(self.event.timezone)
        items = sorted(self.record.agenda, key=lambda i: (i.start, i.room, i.id))
        lines = [f"{i.start.astimezone(zone):%H:%M}-{i.end.astimezone(zone):%H:%M} {i.title}"
                 + (f" ({i.room})" if i.room != "main" else "") for i in items[:INVITATION_AGENDA_ITEMS]]
        if len(items) > INVITATION_AGENDA_ITEMS:
            lines.append(f"(+{len(items) - INVITATION_AGENDA_ITEMS})")
        return {"agenda": "; ".join(lines), "fee": self.event.fee or "", "contact": self.event.contact or ""}

    def _notify(self, note: Notify | None, cause: str, context: dict[str, Any]) -> None:
        if note is None:
            return
        ctx = self._context() | context
        for role in note.roles:
            people = self._people(role) or [None]
            for person in people:
                recipient = Recipient(
                    role=role,
                    person_id=person.id if person else None,
                    name=person.name if person else None,
                    email=person.email if person else None,
                    webhook_url=person.webhook_url if person else None,
                )
                for channel in note.channels:
                    if channel == "chat":  # a room per role (or team): told once, below, not once a person
                        continue
                    self.effects.append(NotificationRequest(
                        key=f"{self.event.id}:{cause}:{role}:{recipient.person_id or '-'}:{channel}",
                        event_id=self.event.id, kind=note.kind, channel=channel, recipient=recipient,
                        locale=(person.locale if person and person.locale else self.event.locale), context=ctx,
                    ))
            if "chat" in note.channels:
                self.effects.append(NotificationRequest(
                    key=f"{self.event.id}:{cause}:{role}:-:chat", event_id=self.event.id, kind=note.kind,
                    channel="chat", recipient=Recipient(role=role), locale=self.event.locale, context=ctx,
                ))
        for url in self.event.webhooks:
            self.effects.append(NotificationRequest(
                key=f"{self.event.id}:{cause}:webhook:{hashlib.sha256(url.encode()).hexdigest()[:12]}",
                event_id=self.event.id, kind=note.kind, channel="webhook",
                recipient=Recipient(role="subscriber", webhook_url=url), locale=self.event.locale, context=ctx,
            ))

    def _notify_people(self, kind: str, people: list[Person], cause: str, extra: dict[str, Any] | None = None,
                       ics: bool = False) -> None:
        ctx = self._context() | (extra or {})
        for person in people:
            channel = "email" if person.email else "log"
            self.effects.append(NotificationRequest(
                key=f"{self.event.id}:{cause}:{person.id}:{channel}", event_id=self.event.id, kind=kind,
                channel=channel,
                recipient=Recipient(role="guest", person_id=person.id, name=person.name, email=person.email),
                locale=person.locale or self.event.locale, context=ctx, attach_ics=ics,
            ))

    def _notify_roster(self, kind: str, audience: RosterAudience, cause: str,
                       extra: dict[str, Any] | None = None, ics: bool = False) -> None:
        """Tell attendees in the roster database (an activity pages through them)."""
        self.effects.append(RosterNotice(event_id=self.event.id, kind=kind, audience=audience, cause=cause,
                                         locale=self.event.locale, context=self._context() | (extra or {}),
                                         attach_ics=ics))

    def _update_calendars(self, kind: str, method: Literal["REQUEST", "CANCEL"], extra: dict[str, Any]) -> None:
        """Tell everyone holding the invitation (every invited speaker, answered or not, and every attendee
        whose invitation went out, whatever they answered) with an .ics that replaces it in their calendar.

        The calendar entry keeps its UID (the event's); its SEQUENCE goes up by one at each change, and a
        cancellation is ``METHOD:CANCEL`` (RFC 5546 3.2.2, 3.2.5). Each change is its own message: keyed
        ``calendar.<sequence>``, stable across the send's retries.
        """
        self.record.calendar_sequence += 1
        sequence = self.record.calendar_sequence
        extra = extra | {"ics_method": method, "ics_sequence": sequence}
        cause = f"calendar.{sequence}"
        people: list[Person] = [s.person for s in self.record.speakers.values()]
        if self.in_database:
            self._notify_roster(kind, "invited", cause=cause, extra=extra, ics=True)
        else:
            people += [a.person for a in self.record.attendees.values()]
        self._notify_people(kind, people, cause=cause, extra=extra, ics=True)

    def _audit(self, act: str, actor: str, role: str, key: str | None, reason: str | None, summary: str) -> AuditEntry:
        entry = AuditEntry(seq=self.audit_count + 1, at=self.now, act=act, actor=actor, role=role, key=key,
                           reason=reason, summary=summary)
        r = self.record
        r.audit.append(entry)
        if self.in_database:  # the whole audit goes to the database; the record keeps the newest
            r.audit_seq = entry.seq
            r.audit_outbox.append(entry)
            del r.audit[:-AUDIT_TAIL]
        return entry

    def audit_written(self, up_to_seq: int) -> None:
        """The database holds every entry up to `up_to_seq`: they leave the outbox."""
        self.record.audit_outbox = [e for e in self.record.audit_outbox if e.seq > up_to_seq]

    def facts(self) -> EventFacts:
        """What the roster database needs of the event (stage, dates, whether check-in is open)."""
        e = self.event
        return EventFacts(event_id=e.id, kind=self.definition.kind, title=e.title, stage=self.record.stage,
                          status=self.record.status, on_site=self.on_site(), start=e.start, end=e.end,
                          timezone=e.timezone, locale=e.locale, confidential=self.definition.confidential,
                          registration=self.definition.registration, capacity=e.capacity,
                          offer_hours=self.definition.offer_hours, version=self.audit_count)

    def move_roster(self, chunk: int = 500) -> list[LegacyRoster]:
        """Move a record kept before the roster database: returns what to write there (in chunks) and
        leaves a record bounded by the definition. Idempotent writes make a repeated move harmless."""
        r, event_id = self.record, self.event.id
        if self.in_database:
            return []
        people = sorted(r.attendees.values(), key=lambda a: a.invited_at)
        parts = [LegacyRoster(event_id=event_id, attendees=people[i:i + chunk]) for i in range(0, len(people), chunk)]
        survey = list(r.survey.values())
        parts += [LegacyRoster(event_id=event_id, survey=survey[i:i + chunk]) for i in range(0, len(survey), chunk)]
        parts += [LegacyRoster(event_id=event_id, deliveries=r.deliveries[i:i + chunk])
                  for i in range(0, len(r.deliveries), chunk)]
        parts += [LegacyRoster(event_id=event_id, audit=r.audit[i:i + chunk]) for i in range(0, len(r.audit), chunk)]
        for a in people:
            if r.invitations and r.invitations[-1].at == a.invited_at:
                r.invitations[-1].count += 1
            else:
                self._add_invitation_batch(InvitationBatch(at=a.invited_at, count=1))
        r.roster = "database"
        r.audit_seq = len(r.audit)
        r.audit = r.audit[-AUDIT_TAIL:]
        r.attendees, r.survey, r.deliveries = {}, {}, []
        while len(r.applied) > IDEMPOTENCY_WINDOW_DB:
            del r.applied[next(iter(r.applied))]
        return parts

    def take_effects(self) -> list[Effect]:
        effects, self.effects = self.effects, []
        return effects

    # ------------------------------------------------------------------ the view

    def board_summary(
        self, tasks: list[TaskView] | None = None, gates: list[GateView] | None = None
    ) -> tuple[int, int, list[str]]:
        """(items done, items in all, roles awaited): tasks and gates of every stage, and the approver
        roles of the current stage's gates that await a decision."""
        d, r = self.definition, self.record
        if tasks is None:
            done = sum(t.id in r.tasks for s in d.stages for t in s.tasks)
            total = sum(len(s.tasks) for s in d.stages)
        else:
            done, total = sum(t.done for t in tasks), len(tasks)
        views = gates if gates is not None else [self.gate_view(s, g) for s in d.stages for g in s.gates]
        done += sum(g.status in ("passed", "waived") for g in views)
        total += len(views)
        awaiting = sorted({role for g in views if g.stage == r.stage and g.status == "awaiting_decision"
                           for role in g.approvers}) if self.active else []
        return done, total, awaiting

    def _agenda_view(self) -> list[AgendaItemView]:
        """Each item with its projected start: overruns and late starts push later items in the same room."""
        views: list[AgendaItemView] = []
        shift: dict[str, timedelta] = {}
        for item in sorted(self.record.agenda, key=lambda i: (i.start, i.id)):
            run = self.record.run.get(item.id) or RunRecord()
            projected = item.start + shift.get(item.room, timedelta(0))
            if run.started_at:
                projected = run.started_at
            expected_end = projected + timedelta(minutes=item.minutes)
            if run.ended_at:
                actual_end, status = run.ended_at, "done"
            elif run.started_at:
                actual_end = max(expected_end, self.now)
                status = "overrun" if self.now > expected_end else "running"
            else:
                actual_end, status = expected_end, "planned"
            shift[item.room] = max(timedelta(0), actual_end - item.end)
            sp = self.record.speakers.get(item.speaker_id or "")
            views.append(AgendaItemView(
                item=item, projected_start=projected, shift_minutes=(projected - item.start).total_seconds() / 60,
                status=status, started_at=run.started_at, ended_at=run.ended_at,
                speaker_status=sp.status if sp else None,
            ))
        return views

    def attendee_page(self, q: AttendeeQuery) -> AttendeePage:
        """A page of attendees in invitation order, filtered by `q` (a name, RSVP, checked in or not).

        Raises:
            ActRefused: the roster lives in the database (page it through the API instead).
        """
        self._roster_in_memory("attendees", "GET /events/{id}/attendees")
        needle = q.search.strip().casefold()
        found = [
            a for a in self.record.attendees.values()
            if (not needle or any(needle in (v or "").casefold() for v in (a.person.id, a.person.name, a.person.email)))
            and (q.rsvp == "any" or (a.rsvp or "none") == q.rsvp)
            and (q.checked_in is None or (a.checked_in_at is not None) == q.checked_in)
        ]
        return AttendeePage(total=len(self.record.attendees), matched=len(found),
                            items=found[q.offset:q.offset + q.limit])

    def view(self) -> StateView:
        d, e, r = self.definition, self.event, self.record
        tasks: list[TaskView] = []
        gates: list[GateView] = []
        for stage in d.stages:
            for t in stage.tasks:
                done = r.tasks.get(t.id)
                due = self._anchor(t.due, stage.id) if t.due else None
                tasks.append(TaskView(
                    id=t.id, stage=stage.id, title=t.title, owner=t.owner, required=t.required, done=done is not None,
                    done_at=done.done_at if done else None, done_by=done.by if done else None, due=due,
                    overdue=bool(due and done is None and self.now > due and self.active), automatic=bool(t.activity),
                ))
            gates += [self.gate_view(stage, g) for g in stage.gates]
        level, at_risk = self.escalation()
        lines = list(r.budget.values())
        planned = sum((line.planned for line in lines), Decimal(0))
        actual = sum((line.actual or Decimal(0) for line in lines), Decimal(0))
        speakers = list(r.speakers.values())
        attendees = list(r.attendees.values())  # the roster in memory only (events recorded before the database)
        done_items, total_items, _ = self.board_summary(tasks, gates)
        title = d.stage(r.stage).title if r.stage in d.stage_ids() else r.stage.title()
        return StateView(
            event=e, kind=d.kind, definition_hash=self.definition_hash, status=r.status, stage=r.stage,
            stage_title=title, stages=d.path(), stage_entered_at=r.stage_entered_at, now=self.now,
            can_advance=self.active and self.record.hold != r.stage and self.gates_pass(), tasks=tasks, gates=gates,
            deadlines=self.deadline_views(), escalation_level=level, at_risk=at_risk,
            budget=BudgetView(limit=e.budget_limit, currency=e.currency, planned=planned, actual=actual, lines=lines),
            speakers=Counts(
                invited=len(speakers), accepted=sum(s.on_board for s in speakers),
                declined=sum(s.status == "declined" for s in speakers),
                confirmed_keynotes=sum(s.on_board and s.slot == "keynote" for s in speakers),
                keynote_slots=1 if e.keynote_slots is None else e.keynote_slots,
            ),
            attendees=Counts(
                invited=self.invited_count(), rsvp_yes=sum(a.rsvp == "yes" for a in attendees),
                rsvp_no=sum(a.rsvp == "no" for a in attendees), rsvp_maybe=sum(a.rsvp == "maybe" for a in attendees),
                checked_in=sum(a.checked_in_at is not None for a in attendees), expected=e.expected_attendees,
            ),
            speaker_list=speakers,
            agenda=self._agenda_view(),
            special_needs=[
                NeedView(attendee_id=a.person.id, name=a.person.name, needs=list(a.person.needs),
                         note=a.person.needs_note, checked_in=a.checked_in_at is not None)
                for a in attendees if a.person.needs and a.rsvp != "no"
            ],
            incidents=list(r.incidents.values()),
            open_incidents=[i for i in r.incidents.values() if i.resolved_at is None],
            progress=Progress(done=done_items, total=total_items),
            audit=r.audit, audit_total=self.audit_count, deliveries=r.deliveries, effects=r.effects, roster=r.roster,
            calendar_sequence=r.calendar_sequence,
        )
