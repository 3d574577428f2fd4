"""The lifecycle definition format: what a YAML file under ``definitions/`` may say.

Every model is frozen and forbids unknown keys, so a typo in a definition is an
error rather than a silently ignored setting. Cross-references (a gate naming a
task, a deadline naming a gate, a role used but never declared) are checked in
:meth:`Definition._check_references`, after each part has validated on its own.

This module is pure: no I/O, no clock. Workflows import it inside the sandbox.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""Ids of stages, tasks, gates, deadlines and roles: lower snake case."""

Channel = Literal["email", "webhook", "log", "chat"]
SlideFormat = Literal["pdf", "pptx", "odp", "key"]
NotificationKind = Literal[
    "invitation",
    "confirmation",
    "reminder",
    "escalation",
    "thanks",
    "cancellation",
    "postponement",
    "ticket",
    "waitlist",
    "stage_entered",
    "stage_left",
    "decision",
    "evaluation_report",
]
Anchor = Literal["start", "end", "stage_entered"]
ActName = Literal[
    "complete_task",
    "record_budget",
    "manage_speakers",
    "manage_attendees",
    "record_incident",
    "record_survey",
    "manage_agenda",
    "manage_documents",
    "manage_risks",
    "manage_objectives",
    "run_programme",
    "send_back",
    "postpone",
    "cancel",
    "waive",
]

# Names of the closing states every lifecycle shares besides its stages.
CLOSED = "closed"
CANCELLED = "cancelled"
TERMINAL_STATES = (CLOSED, CANCELLED)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def calendar_plus(moment: datetime, days: float, hours: float, zone: str) -> datetime:
    """`moment` moved by `days` and `hours`: whole days as calendar days in `zone`, the rest as elapsed time.

    "Start - 7 days" of a 09:00 Paris event on the Monday after the spring clock change is 09:00 the Monday
    before (08:00Z), not 10:00 (07:00Z + 7 x 24 h). A wall-clock time that does not exist on the target day
    (inside a spring-forward gap) is read with the offset before the gap, as RFC 5545 3.3.5 reads it; a time
    that exists twice is the first. Fractions of a day (the time-lapse demo) stay elapsed time.
    Pure: it reads the tz database (ZoneInfo caches each zone), never the clock; the workflow calls it.
    """
    whole = int(days)  # toward zero
    rest = timedelta(days=days - whole, hours=hours)
    if whole:
        tz = ZoneInfo(zone)
        wall = moment.astimezone(tz).replace(tzinfo=None) + timedelta(days=whole)
        moment = wall.replace(tzinfo=tz).astimezone(moment.tzinfo)
    return moment + rest


RESERVED_ROLES = frozenset({"guest", "convene"})
"""Role names a definition may not declare (see ``workflows.lifecycle.GUEST`` and ``SYSTEM``)."""


class Offset(_Frozen):
    """A point in time relative to the event: ``start - 60 days`` is ``{anchor: start, days: -60}``."""

    anchor: Anchor
    days: float = 0
    hours: float = 0
    stage: Ident | None = Field(
        default=None, description="With anchor stage_entered: which stage; default the task's own."
    )

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)

    def describe(self) -> str:
        """``start-60d``, ``end+36h``; a time-lapse definition's fractions of a day in minutes or seconds."""
        total = self.days + self.hours / 24
        base = f"entering {self.stage}" if self.anchor == "stage_entered" else self.anchor
        if total == 0:
            return f"at {base}"
        sign = "+" if total > 0 else "-"
        if abs(total) < 1:
            return f"{base}{sign}{short_span(abs(total) * 86400)}"
        amount = f"{abs(self.days):g}d" if not self.hours else f"{abs(total * 24):g}h"
        return f"{base}{sign}{amount}"


def short_span(seconds: float) -> str:
    """``60d``, ``5h``, ``5m``, ``12.5s``: the largest unit that is at least one."""
    if seconds >= 86400:
        return f"{round(seconds / 86400, 4):g}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{round(seconds / size, 2):g}{unit}"
    return f"{round(seconds, 2):g}s"


IncidentCategory = Literal["equipment", "safety", "injury", "weather", "traffic", "other"]
"""What an incident is about (``report_incident``): the scenarios an emergency plan answers for."""
INCIDENT_CATEGORIES: tuple[str, ...] = get_args(IncidentCategory)


class Scale(_Frozen):
    """When a task or check applies, by the event's ``expected_attendees`` (the document's large, medium and
    small events): ``{expected_attendees_at_least: 1000}``. Both bounds given: at least the one, below the other."""

    expected_attendees_at_least: int | None = Field(default=None, ge=0)
    expected_attendees_below: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _a_bound(self) -> Scale:
        if self.expected_attendees_at_least is None and self.expected_attendees_below is None:
            raise ValueError("required_when names expected_attendees_at_least or expected_attendees_below")
        return self

    def holds(self, expected_attendees: int) -> bool:
        """Whether an event expecting this many attendees is in scale."""
        low, high = self.expected_attendees_at_least, self.expected_attendees_below
        return (low is None or expected_attendees >= low) and (high is None or expected_attendees < high)


class Role(_Frozen):
    id: Ident
    title: str
    description: str = ""


class Task(_Frozen):
    """One checklist item of a stage."""

    id: Ident
    title: str
    owner: Ident = Field(description="The role responsible for the task.")
    due: Offset | None = None
    required: bool = True
    activity: Literal["archive", "evaluation_report", "send_thanks"] | None = Field(
        default=None,
        description="Done by the engine, not a person: this activity runs when the stage is entered "
        "(or at run_at) and its success completes the task.",
    )
    run_at: Offset | None = None
    required_when: Scale | None = Field(
        default=None, description="Only events in this scale need the task (others: as if required were false).")
    after: list[Ident] = Field(
        default_factory=list, description="Tasks (this stage or an earlier one) that must be done before this one.")
    note_required: bool = Field(
        default=False, description="Done only with a note saying what (the lessons learned, say): the note is kept "
        "with the task and quoted where it matters (the evaluation report).")


# --- gate checks: one model per kind, discriminated by `check` -------------------------


class _Check(_Frozen):
    required_when: Scale | None = Field(
        default=None, description="Only events in this scale are held by this check (others pass it).")


class TasksDone(_Check):
    check: Literal["tasks_done"]
    tasks: list[Ident] = Field(default_factory=list, description="Empty: every required task of the stage.")


class BudgetWithinLimit(_Check):
    check: Literal["budget_within_limit"]


BUDGET_CATEGORIES = ("venue", "equipment", "catering", "lodging", "transport", "programme", "printing",
                     "contingency")
"""The budget categories the source document names (site and venue, equipment, catering, lodging and
transport, programme, printing and materials, contingency): what forms suggest; any identifier is accepted."""


class BudgetHasLine(_Check):
    check: Literal["budget_has_line"]
    category: Ident = "contingency"


class KeynotesConfirmed(_Check):
    check: Literal["keynotes_confirmed"]


class InvitationsSent(_Check):
    check: Literal["invitations_sent"]
    days_before_start: int | float = Field(
        default=30, ge=0, description="Whole days normally; a fraction in a time-lapse definition.")


class AgendaReady(_Check):
    """The agenda exists, has no overlap in a room or for a speaker, and keeps enough buffer."""

    check: Literal["agenda_ready"]
    min_buffer_share: float = Field(
        default=0.1, ge=0, lt=1, description="Share of each room's day not taken by sessions (breaks count as buffer)."
    )
    opening_and_closing: bool = Field(
        default=False,
        description="The agenda's earliest item is an `opening` and the item ending last a `closing`.")


class ItinerariesRecorded(_Check):
    """Every speaker who accepted has an itinerary recorded (arrival, lodging, pick-up, meals)."""

    check: Literal["itineraries_recorded"]


class NoOpenIncidents(_Check):
    check: Literal["no_open_incidents"]


class EventEnded(_Check):
    check: Literal["event_ended"]


class DocumentsPresent(_Check):
    """A document of each type named has been attached (its newest version counts); types come from the
    definition's ``archive_includes``. On a gate with an approval, a new version of a named type after the
    approval takes the approval back (the chair approves the minutes as they stand)."""

    check: Literal["documents_present"]
    types: list[Ident] = Field(min_length=1)


class PapersAcknowledged(_Check):
    """Every person the event's team names in `role` acknowledged the papers (the document `types`, on their
    own page) at least `days_before_start` days before the start."""

    check: Literal["papers_acknowledged"]
    role: Ident
    types: list[Ident] = Field(min_length=1, description="The documents sent as the papers.")
    days_before_start: int | float = Field(default=7, ge=0)


class RiskRegister(_Check):
    """A risk register is kept (at least `min_risks` risks) and every high risk (likelihood x impact, each 1-5, at
    least `high_from`) that is not closed has an owner."""

    check: Literal["risk_register"]
    min_risks: int = Field(default=1, ge=0)
    high_from: int = Field(default=12, ge=1, le=25, description="The likelihood x impact from which a risk is high.")


class ObjectivesRecorded(_Check):
    """The event's objectives are recorded in the database (at least `min_objectives`), each with a metric, a
    baseline and a target; the evaluation report compares each target with the outcomes recorded after."""

    check: Literal["objectives_recorded"]
    min_objectives: int = Field(default=1, ge=1, le=100)
class TeamNamed(_Check):
    """The event's team names at least one person for each role listed (empty: every role of the definition)."""

    check: Literal["team_named"]
    roles: list[Ident] = Field(default_factory=list)


class WorkingDay(_Check):
    """The event starts on a working day: not a Saturday or Sunday (in the event's zone), not a date of
    `holidays`. With ``blocks: false`` the gate shows the reason but does not wait for it."""

    check: Literal["working_day"]
    holidays: list[date] = Field(default_factory=list, description="Dates that are not working days.")
    blocks: bool = True


class EmergencyPlanReady(_Check):
    """The event's emergency plan (``record_emergency_plan``) names an owner role for every incident category
    listed (empty: every category), and a person with a phone for each role the plan names; a person the plan
    names for a role the team staffs is one of the team's people in that role."""

    check: Literal["emergency_plan"]
    categories: list[IncidentCategory] = Field(default_factory=list)


Check = Annotated[
    TeamNamed
    | WorkingDay
    | EmergencyPlanReady
    | TasksDone
    | BudgetWithinLimit
    | BudgetHasLine
    | KeynotesConfirmed
    | InvitationsSent
    | AgendaReady
    | NoOpenIncidents
    | EventEnded
    | DocumentsPresent
    | PapersAcknowledged
    | RiskRegister
    | ObjectivesRecorded
    | ItinerariesRecorded,
    Field(discriminator="check"),
]


class Approval(_Frozen):
    roles: list[Ident] = Field(min_length=1, description="Roles that may approve or reject.")
    show_open_risks: bool = Field(
        default=False, description="Show the open high risks of the register beside this decision (go / no-go).")


class Gate(_Frozen):
    """What must hold before the event may leave its stage."""

    id: Ident
    title: str
    checks: list[Check] = Field(default_factory=list)
    approval: Approval | None = None

    @model_validator(mode="after")
    def _something_to_check(self) -> Gate:
        if not self.checks and self.approval is None:
            raise ValueError("a gate needs at least one check or an approval")
        return self


class Notify(_Frozen):
    kind: NotificationKind
    roles: list[Ident] = Field(min_length=1)
    channels: list[Channel] = Field(default_factory=lambda: list[Channel](["email"]))


class Stage(_Frozen):
    id: Ident
    title: str
    description: str = ""
    tasks: list[Task] = Field(default_factory=list)
    gates: list[Gate] = Field(default_factory=list)
    on_enter: list[Notify] = Field(default_factory=list)
    on_exit: list[Notify] = Field(default_factory=list)
    next: Ident | None = Field(
        default=None,
        description="The stage this one advances to; default the next in the list (the last one closes the event).",
    )


class LadderStep(_Frozen):
    """One rung of an escalation ladder, relative to its deadline (negative = before)."""

    offset_days: float = 0
    offset_hours: float = 0
    notify: list[Ident] = Field(default_factory=list)
    kind: Literal["reminder", "escalation"] = "escalation"
    level: int = Field(default=0, ge=0, le=9, description="Escalation level once fired; 0 = on track.")
    at_risk: bool = False
    action: Literal["send_attendee_reminder", "send_survey_reminder", "auto_reject", "postpone", "cancel"] | None = None
    postpone_days: int | float | None = Field(default=None, gt=0)

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.offset_days, hours=self.offset_hours)

    @model_validator(mode="after")
    def _postpone_needs_days(self) -> LadderStep:
        if self.action == "postpone" and not self.postpone_days:
            raise ValueError("action postpone needs postpone_days")
        return self


class MetWhen(_Frozen):
    gate: Ident | None = None
    task: Ident | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MetWhen:
        if (self.gate is None) == (self.task is None):
            raise ValueError("met_when names exactly one of gate or task")
        return self


class Deadline(_Frozen):
    id: Ident
    title: str
    at: Offset
    met_when: MetWhen
    ladder: list[LadderStep] = Field(default_factory=list)
    required_when: Scale | None = Field(
        default=None, description="Only events in this scale are watched by this deadline (others: met).")


class Permissions(_Frozen):
    """Which roles may do each act besides deciding gates (gates list their own approvers)."""

    complete_task: list[Ident] = Field(default_factory=list, description="Besides each task's owner role.")
    record_budget: list[Ident] = Field(default_factory=list)
    manage_speakers: list[Ident] = Field(default_factory=list)
    manage_attendees: list[Ident] = Field(default_factory=list)
    record_incident: list[Ident] = Field(default_factory=list)
    record_survey: list[Ident] = Field(default_factory=list)
    manage_agenda: list[Ident] = Field(default_factory=list)
    manage_documents: list[Ident] = Field(
        default_factory=list, description="Attach meeting documents, send the papers, record a receipt.")
    manage_risks: list[Ident] = Field(default_factory=list, description="Keep the risk register.")
    manage_objectives: list[Ident] = Field(
        default_factory=list, description="Record the objectives (metric, baseline, target), the outcomes after the "
        "event and the lessons of its kind.")
    run_programme: list[Ident] = Field(default_factory=list, description="Start and end agenda items on the day.")
    send_back: list[Ident] = Field(default_factory=list)
    postpone: list[Ident] = Field(default_factory=list)
    cancel: list[Ident] = Field(default_factory=list)
    waive: list[Ident] = Field(default_factory=list)

    def roles_for(self, act: ActName) -> list[str]:
        roles: list[str] = getattr(self, act)
        return roles


class EscalateTo(_Frozen):
    """Who the engine tells, by role, when something goes wrong that no deadline names. Each list keeps the
    roles of the definition it names, in order; one naming none of them tells the owner role."""

    speaker_silent: list[Ident] = Field(
        default_factory=list, description="An invited speaker has not answered by a reminder day.")
    speaker_declined: list[Ident] = Field(
        default_factory=list, description="A keynote speaker, or one holding agenda items, declined.")
    overrun: list[Ident] = Field(default_factory=list, description="An agenda item ran past its minutes.")
    incident_high: list[Ident] = Field(default_factory=list, description="A high-severity incident is reported.")
    incident_unacknowledged: list[Ident] = Field(
        default_factory=list, description="A high-severity incident was not acknowledged in incident_ack_minutes.")
    item_ending: list[Ident] = Field(
        default_factory=list, description="A running agenda item ends in item_end_warning_minutes; none named: "
        "the roles of `overrun`.")


def _escalations_before_escalate_to(owner_role: str) -> dict[str, list[str]]:
    """What a definition without ``escalate_to`` means: the roles the engine told before the field existed
    (the conference's names). Events started from such a definition are replayed with it, so this must
    not change; every definition shipped names its own ``escalate_to``."""
    return {
        "speaker_silent": ["activity_planner"], "speaker_declined": ["activity_planner"],
        "overrun": ["chair", "activity_planner"], "incident_high": ["on_site_command", owner_role],
        "incident_unacknowledged": [owner_role, "sponsor"], "item_ending": [],
    }


DocumentFormat = Literal["pdf", "docx", "odt", "xlsx", "ods", "pptx", "odp", "key", "csv", "txt", "mp3", "m4a", "mp4"]
"""Files the team may attach as meeting documents."""


class Definition(_Frozen):
    """A whole lifecycle: stages in order, who may do what, and the deadlines."""

    kind: Ident
    title: str
    description: str = ""
    version: int = Field(default=1, ge=1)
    confidential: bool = False
    public_promotion: bool = True
    roles: list[Role] = Field(min_length=1)
    owner_role: Ident = Field(description="The role that owns the event (told first, may do most acts).")
    stages: list[Stage] = Field(min_length=1)
    permissions: Permissions = Field(default_factory=Permissions)
    deadlines: list[Deadline] = Field(default_factory=list)
    archive_includes: list[str] = Field(default_factory=list, description="Documents the archive must hold.")
    report_to: list[Ident] = Field(
        default_factory=list, description="Roles the evaluation report goes to once written (a confidential kind's "
        "copy leaves out contact details); none: it stays in the dossier.")
    registration: Literal["invite_only", "open"] = Field(
        default="invite_only", description="open: anyone may register on the event's public page (up to the "
        "event's capacity, then a waiting list); invite_only: attendees are invited by the team.")
    offer_hours: float = Field(
        default=48, gt=0, le=24 * 60, description="How long a place offered to the next person on the waiting list "
        "waits for their confirmation before it goes to the one after.")
    slide_formats: list[SlideFormat] = Field(
        default_factory=lambda: list[SlideFormat](["pdf", "pptx", "odp", "key"]),
        description="The files a speaker may upload as slides from their own page (stored with the archive).")
    slide_max_mb: int = Field(default=100, ge=1, le=1000, description="The largest slides file, in MB.")
    document_formats: list[DocumentFormat] = Field(
        default_factory=lambda: list[DocumentFormat](get_args(DocumentFormat)),
        description="The files the team may attach as meeting documents (minutes, papers, recordings).")
    document_max_mb: int = Field(default=200, ge=1, le=4000, description="The largest meeting document, in MB.")
    rsvp_closes_hours_before_start: float = Field(
        default=0, ge=0, description="Attendees may answer or change their RSVP through their own link until this "
        "many hours before the start (0: until the start).")
    speaker_reminder_days: list[float] = Field(
        default_factory=lambda: list[float]([7, 14]),
        description="Days after an invitation at which a speaker who has not answered is reminded.",
    )
    incident_ack_minutes: float = Field(
        default=10, gt=0, description="A high-severity incident not acknowledged within this escalates."
    )
    item_end_warning_minutes: float = Field(
        default=5, ge=0, le=120, description="Minutes before a running agenda item's planned end at which the "
        "programme roles (escalate_to.item_ending, else escalate_to.overrun) are warned; 0: no warning.")
    on_cancel: list[Ident] = Field(
        default_factory=list,
        description="Bookings released when the event is cancelled, one compensation activity each "
        "(e.g. venue, lodging, catering).",
    )
    escalate_to: EscalateTo = Field(
        default_factory=EscalateTo,
        description="Who is told of a silent or declining speaker, an overrun, a high-severity incident and its "
        "missed acknowledgement. Absent: the roles the engine told before this field existed.")

    @model_validator(mode="before")
    @classmethod
    def _escalations_of_older_definitions(cls, data: Any) -> Any:
        if isinstance(data, dict) and "escalate_to" not in data and isinstance(data.get("owner_role"), str):
            data = {**data, "escalate_to": _escalations_before_escalate_to(data["owner_role"])}
        return data

    def told(self, roles: list[str]) -> list[str]:
        """Of `roles`, those this definition has, in order; none of them: the owner role."""
        declared = self.role_ids()
        return [r for r in roles if r in declared] or [self.owner_role]

    # --- lookups -------------------------------------------------------------------------

    def stage(self, stage_id: str) -> Stage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]

    def next_stage(self, stage_id: str) -> str:
        """Where `advance` leads from a stage: its `next`, else the following stage, else closed."""
        ids = self.stage_ids()
        stage = self.stage(stage_id)
        if stage.next is not None:
            return stage.next
        i = ids.index(stage_id)
        return ids[i + 1] if i + 1 < len(ids) else CLOSED

    def path(self) -> list[str]:
        """The stages in the order an event walks them (the forward chain from the first)."""
        order: list[str] = []
        current = self.stages[0].id
        while current != CLOSED and current not in order:
            order.append(current)
            current = self.next_stage(current)
        return order

    def task(self, task_id: str) -> tuple[Stage, Task]:
        for s in self.stages:
            for t in s.tasks:
                if t.id == task_id:
                    return s, t
        raise KeyError(task_id)

    def gate(self, gate_id: str) -> tuple[Stage, Gate]:
        for s in self.stages:
            for g in s.gates:
                if g.id == gate_id:
                    return s, g
        raise KeyError(gate_id)

    def role_ids(self) -> set[str]:
        return {r.id for r in self.roles}

    # --- cross-reference checks ----------------------------------------------------------

    @model_validator(mode="after")
    def _check_references(self) -> Definition:
        problems: list[tuple[str, str]] = []
        if not self.public_promotion:  # the domain: a private meeting is not promoted or open to the public
            if "promotion" in self.stage_ids():
                problems.append(("stages", "public_promotion is false: a stage named 'promotion' is not allowed "
                                           "(use an internal readiness step)"))
            if self.registration == "open":
                problems.append(("registration", "public_promotion is false: registration must be invite_only "
                                                 "(open registration publishes the event's page)"))
        roles = self.role_ids()
        stage_ids = self.stage_ids()

        def dupes(kind: str, ids: list[str], where: str) -> None:
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    problems.append((where, f"duplicate {kind} id {i!r}"))
                seen.add(i)

        dupes("role", [r.id for r in self.roles], "roles")
        dupes("stage", stage_ids, "stages")
        for name in TERMINAL_STATES:
            if name in stage_ids:
                problems.append(("stages", f"{name!r} is reserved for the end of every lifecycle"))
        for name in RESERVED_ROLES & roles:
            problems.append(("roles", f"{name!r} is reserved: the engine acts as 'convene', and people outside "
                                      "the team answering through their own link act as 'guest'"))
        all_tasks = [t.id for s in self.stages for t in s.tasks]
        all_gates = [g.id for s in self.stages for g in s.gates]
        dupes("task", all_tasks, "stages")
        dupes("gate", all_gates, "stages")
        dupes("deadline", [d.id for d in self.deadlines], "deadlines")

        def role_ref(role: str, where: str) -> None:
            if role not in roles:
                problems.append((where, f"unknown role {role!r} (declared roles: {', '.join(sorted(roles))})"))

        role_ref(self.owner_role, "owner_role")
        legacy = _escalations_before_escalate_to(self.owner_role)
        for what, named in self.escalate_to:
            if named != legacy[what]:  # a definition's own list must name its roles (an older one is filtered)
                for j, role in enumerate(named):
                    role_ref(role, f"escalate_to.{what}[{j}]")
        for act, allowed in self.permissions:
            for j, role in enumerate(allowed):
                role_ref(role, f"permissions.{act}.{j}")
        for j, role in enumerate(self.report_to):
            role_ref(role, f"report_to.{j}")

        earlier_tasks: set[str] = set()
        for si, stage in enumerate(self.stages):
            here = f"stages.{si}"
            own_tasks = {t.id for t in stage.tasks}
            for ti, task in enumerate(stage.tasks):
                role_ref(task.owner, f"{here}.tasks.{ti}.owner")
                for k, before in enumerate(task.after):
                    if before not in earlier_tasks | own_tasks - {task.id}:
                        problems.append((f"{here}.tasks.{ti}.after.{k}",
                                         f"unknown task {before!r}: a task comes after tasks of its own or an "
                                         f"earlier stage"))
                for field in ("due", "run_at"):
                    off = getattr(task, field)
                    if off is not None and off.stage is not None and off.stage not in stage_ids:
                        problems.append((f"{here}.tasks.{ti}.{field}.stage", f"unknown stage {off.stage!r}"))
            for gi, gate in enumerate(stage.gates):
                if gate.approval:
                    for j, role in enumerate(gate.approval.roles):
                        role_ref(role, f"{here}.gates.{gi}.approval.roles.{j}")
                for ci, check in enumerate(gate.checks):
                    if isinstance(check, (DocumentsPresent, PapersAcknowledged)):
                        for k, doc in enumerate(check.types):
                            if doc not in self.archive_includes:
                                problems.append((f"{here}.gates.{gi}.checks.{ci}.types.{k}",
                                                 f"unknown document type {doc!r}: document types come from "
                                                 f"archive_includes ({', '.join(self.archive_includes) or 'none'})"))
                    if isinstance(check, PapersAcknowledged):
                        role_ref(check.role, f"{here}.gates.{gi}.checks.{ci}.role")
                    if isinstance(check, TeamNamed):
                        for k, role in enumerate(check.roles):
                            role_ref(role, f"{here}.gates.{gi}.checks.{ci}.roles.{k}")
                    if isinstance(check, TasksDone):
                        for k, tid in enumerate(check.tasks):
                            if tid not in own_tasks:
                                problems.append(
                                    (
                                        f"{here}.gates.{gi}.checks.{ci}.tasks.{k}",
                                        f"unknown task {tid!r}: a gate can only name tasks of its own stage "
                                        f"({stage.id}: {', '.join(sorted(own_tasks)) or 'none'})",
                                    )
                                )
            for kind in ("on_enter", "on_exit"):
                for ni, notify in enumerate(getattr(stage, kind)):
                    for j, role in enumerate(notify.roles):
                        role_ref(role, f"{here}.{kind}.{ni}.roles.{j}")
            earlier_tasks |= own_tasks

        for si, stage in enumerate(self.stages):
            if stage.next is not None and stage.next not in stage_ids and stage.next != CLOSED:
                problems.append((f"stages.{si}.next", f"unknown stage {stage.next!r}"))
        if not problems:
            seen: list[str] = []
            current = stage_ids[0]
            while current != CLOSED:
                if current in seen:
                    loop = " -> ".join([*seen[seen.index(current):], current])
                    problems.append(("stages", f"the stages loop forever ({loop}); sending back is a move, not a next"))
                    break
                seen.append(current)
                current = self.next_stage(current)
            else:
                for si, stage in enumerate(self.stages):
                    if stage.id not in seen:
                        problems.append((f"stages.{si}", f"stage {stage.id!r} is unreachable from {stage_ids[0]!r}"))

        for di, deadline in enumerate(self.deadlines):
            here = f"deadlines.{di}"
            if deadline.met_when.gate and deadline.met_when.gate not in all_gates:
                problems.append((f"{here}.met_when.gate", f"unknown gate {deadline.met_when.gate!r}"))
            if deadline.met_when.task and deadline.met_when.task not in all_tasks:
                problems.append((f"{here}.met_when.task", f"unknown task {deadline.met_when.task!r}"))
            if deadline.at.stage is not None and deadline.at.stage not in stage_ids:
                problems.append((f"{here}.at.stage", f"unknown stage {deadline.at.stage!r}"))
            if deadline.at.anchor == "stage_entered" and deadline.at.stage is None:
                problems.append((f"{here}.at.stage", "a deadline anchored to stage_entered names its stage"))
            # A deadline for work that must happen before the event cannot fall after it.
            met_stage = self._stage_of(deadline.met_when)
            if (
                met_stage is not None
                and deadline.at.anchor == "start"
                and deadline.at.delta > timedelta(0)
                and met_stage in stage_ids[: self.first_on_site_index()]
            ):
                problems.append(
                    (
                        f"{here}.at",
                        f"deadline {deadline.id!r} is for stage {met_stage!r}, which ends before the event, "
                        f"but falls after the start ({deadline.at.describe()})",
                    )
                )
            for li, step in enumerate(deadline.ladder):
                for j, role in enumerate(step.notify):
                    role_ref(role, f"{here}.ladder.{li}.notify.{j}")

        if problems:
            raise DefinitionProblems(problems)
        return self

    def _stage_of(self, met: MetWhen) -> str | None:
        try:
            if met.gate:
                return self.gate(met.gate)[0].id
            if met.task:
                return self.task(met.task)[0].id
        except KeyError:
            return None
        return None

    def first_on_site_index(self) -> int:
        """Index of the first stage whose gates wait for the event itself (event_ended), else the last."""
        for i, s in enumerate(self.stages):
            if any(isinstance(c, EventEnded) for g in s.gates for c in g.checks):
                return i
        return len(self.stages) - 1


class DefinitionProblems(ValueError):
    """Raised from the cross-reference validator with every problem found, each with its path."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
