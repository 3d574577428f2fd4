"""The ground floor of an event's lifecycle: what it is made of and the facts every other part reads.

:class:`Core` holds the definition, the event's details and its :class:`~workflows.messages.EventRecord`,
the time it works at (``at(now)``; nothing here reads a clock) and the ``transitions`` machine of its
stages. It answers plain facts (the current stage, what is past, who holds a role, when an offset falls
in the event's zone) and keeps the audit and effect bookkeeping. The floors above add gate checks
(:mod:`.checks`), who is told (:mod:`.notify`), what is due (:mod:`.timers`), stage moves
(:mod:`.moves`), acts (:mod:`.acts`, handlers in :mod:`.handlers_*`) and the views (:mod:`.views`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Self

from transitions import Machine

from definitions.schema import Definition, EventEnded, LadderStep, Offset, Stage, calendar_plus
from workflows.lifecycle.machine import machine_config
from workflows.messages import (
    Act,
    AuditEntry,
    EffectRecord,
    EventDetails,
    EventRecord,
    InvitationBatch,
    InvitationSend,
    NotificationRequest,
    Person,
    RosterNotice,
    SpeakerRecord,
)
from workflows.refusals import conflict as _conflict
from workflows.refusals import invalid as _invalid

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



@dataclass
class Core:
    """An event's definition, details and record, at a time; the facts the other floors read."""

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
    # The programme roles are warned item_end_warning_minutes before a running item's planned end.
    # False only for runs recorded before (patched("item-end-warning")).
    item_end_warnings: bool = True
    # An incident reported without an owner takes the one the emergency plan names (issue 20, item 3).
    owner_from_plan: bool = True


    _now: datetime | None = None

    def __post_init__(self) -> None:
        config = machine_config(self.definition) | {"initial": self.record.stage}
        self._machine = Machine(model=self, **config)
        # The path never changes for a definition: index it once instead of re-walking it per lookup.
        self._path_at = {stage_id: i for i, stage_id in enumerate(self.definition.path())}

    @property
    def state(self) -> str:
        return self.record.stage

    @state.setter
    def state(self, value: str) -> None:
        self.record.stage = value

    def at(self, now: datetime) -> Self:
        """Set the time every following call works with (the workflow passes workflow.now())."""
        self._now = now
        return self

    @property
    def now(self) -> datetime:
        if self._now is None:
            raise RuntimeError("Lifecycle.at(now) must be called first")
        return self._now

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

    def _fired_key(self, name: str, step: int, anchor: datetime) -> bool:
        return any(f.deadline == name and f.step == step and f.anchor == anchor for f in self.record.fired)

    def on_site(self) -> bool:
        """Check-in is open: the current stage waits for the event's end."""
        return self.active and self._on_site()

    def doors_open(self) -> bool:
        """The event has reached its first on-site stage, or ended: no more postponing or sending back."""
        stages = [st.id for st in self.definition.stages]
        return not self.active or (
            self.record.stage in stages and stages.index(self.record.stage) >= self.definition.first_on_site_index())

    def _on_site(self) -> bool:
        return any(isinstance(c, EventEnded) for g in self.current_stage().gates for c in g.checks)

    def _speaker(self, speaker_id: str) -> SpeakerRecord:
        sp = self.record.speakers.get(speaker_id)
        if sp is None:
            raise _invalid("unknown speaker %(speaker)r", speaker=speaker_id)
        return sp

    def _roster_in_memory(self, what: str, route: str) -> None:
        if self.in_database:
            raise _invalid("%(what)s are recorded in the roster database, not by the workflow: use the API (%(route)s) "
                           "or `convene events`", what=what, route=route)

    def _add_invitation_batch(self, batch: InvitationBatch) -> None:
        batches = self.record.invitations
        batches.append(batch)
        while len(batches) > INVITATION_BATCHES:  # merge the two oldest: bounded, and late ones stay exact
            first, second = batches.pop(0), batches.pop(0)
            batches.insert(0, InvitationBatch(at=max(first.at, second.at), count=first.count + second.count))

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

    def effect_finished(self, name: str, ok: bool, detail: str) -> None:
        """Record a compensation's or notification's outcome (failures count toward at-risk)."""
        self._effect(EffectRecord(name=name, ok=ok, detail=detail, at=self.now))

    def _effect(self, outcome: EffectRecord) -> None:
        effects = self.record.effects
        if self.in_database:  # the latest outcome per effect is what counts; keep the record bounded
            effects[:] = [e for e in effects if e.name != outcome.name][-(EFFECTS_KEPT - 1):]
        effects.append(outcome)

    def _task_activity(self, task_id: str) -> str | None:
        try:
            return self.definition.task(task_id)[1].activity
        except KeyError:
            return None

    def take_effects(self) -> list[Effect]:
        effects, self.effects = self.effects, []
        return effects

    def _in_current_stage(self, stage: Stage, what: str) -> None:
        if stage.id != self.record.stage:
            raise _conflict("%(what)s belongs to %(stage)s; the event is in %(current)s", what=what, stage=stage.id,
                            current=self.record.stage)

    # The machine's triggers and conditions (``transitions`` adds them to the model by name).

    def gates_pass(self) -> bool:
        """The condition of ``advance``; :class:`~workflows.lifecycle.checks.Gates` answers it."""
        raise NotImplementedError

    def machine_may(self, trigger: str) -> bool:
        """Whether the machine would take `trigger` now (``advance``, ``cancel``, ``send_back_to_<stage>``)."""
        return bool(self.may_trigger(trigger))  # type: ignore[attr-defined]

    def machine_fire(self, trigger: str) -> None:
        """Take the machine's `trigger` (check :meth:`machine_may` first)."""
        self.trigger(trigger)  # type: ignore[attr-defined]
