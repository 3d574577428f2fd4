"""What crosses the workflow boundary: the event's input, every act, the state view.

These models are shared by the workflow, its clients (API, CLI, tests) and the
activities. They are plain pydantic models, so every payload is plain JSON and
any Temporal client can send one (``temporal workflow update execute --name
decide --input '{...}'``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator,
)

from convene.languages import stored_locale
from definitions.schema import Definition
from workflows.reasons import ReasonMessage

SafeId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]


def _plausible_year(value: datetime) -> datetime:
    if not 1970 <= value.year <= 2200:
        raise ValueError("the date must fall between the years 1970 and 2200")
    return value


EventTime = Annotated[AwareDatetime, AfterValidator(_plausible_year)]
"""An aware date-time in a plausible year: deadlines are computed from it, months either side,
so a date near the ends of the calendar would overflow inside the workflow."""
"""Ids of events and people: no slashes, no leading dot, so they can never escape a folder."""

Locale = Annotated[Literal["en", "zh", "zh-Hans", "zh-Hant"], BeforeValidator(stored_locale)]
"""A reader's language: ``en``, ``zh-Hans``, ``zh-Hant`` (any spelling: ``zh-CN`` → ``zh-Hans``, ``zh_TW`` →
``zh-Hant``, ``en-US`` → ``en``). ``zh``, which events and people stored before there were two Chinese
catalogues, is kept as written and means ``zh-Hans`` (see :mod:`convene.languages`)."""


class _In(BaseModel):
    """Inputs refuse unknown keys: a typo in a payload is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- the event -----------------------------------------------------------------------------


class Person(_In):
    id: SafeId
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    locale: Locale | None = None
    webhook_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")


class EventDetails(_In):
    """What ops give when starting an event."""

    id: SafeId
    title: str = Field(min_length=1, max_length=300)
    kind: str = Field(min_length=1, max_length=64)
    start: EventTime
    end: EventTime
    timezone: str = "UTC"
    venue: str | None = Field(default=None, max_length=300)
    expected_attendees: int = Field(default=0, ge=0, le=1_000_000)
    capacity: int | None = Field(default=None, ge=1, le=1_000_000, description=(
        "Places for attendees (yes answers and places offered from the waiting list); None: no limit. With "
        "open registration, people beyond it join the waiting list."))
    budget_limit: Decimal = Field(default=Decimal(0), ge=0, max_digits=14, decimal_places=2)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    owner: SafeId = Field(description="The person who owns the event (holds the definition's owner role).")
    locale: Locale = "en"
    keynote_slots: int | None = Field(
        default=None, ge=0, le=100, description="Keynote speakers needed when there is no agenda yet; default 1."
    )
    team: dict[str, list[Person]] = Field(
        default_factory=dict,
        description="People per role. A role listed here may only be acted as by these people.",
    )
    webhooks: list[Annotated[str, Field(max_length=2000, pattern=r"^https?://")]] = Field(default_factory=list)
    fee: str | None = Field(default=None, max_length=300, description=(
        "What attending costs, as invitations state it (e.g. \"EUR 120, lunch included\"); None: not stated."))
    contact: str | None = Field(default=None, max_length=300, description=(
        "The named contact for attendees' questions (name, email or phone), as invitations state it."))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds
            raise ValueError(f"unknown time zone {tz!r}") from None
        return tz

    @model_validator(mode="after")
    def _ends_after_start(self) -> EventDetails:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Actor(_In):
    """Who does an act. The API fills this from the authenticated principal."""

    id: SafeId
    role: str = Field(min_length=1, max_length=64)


# --- acts (one update each) ------------------------------------------------------------------


class Act(_In):
    key: str = Field(
        min_length=1,
        max_length=200,
        description="Idempotency key: the same key twice is applied once and answers the same.",
    )
    actor: Actor
    reason: str | None = Field(default=None, max_length=2000)


class Decide(Act):
    gate: str = Field(max_length=64)
    decision: Literal["approve", "reject", "waive"]


class CompleteTask(Act):
    task: str = Field(max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class BudgetLine(_In):
    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    planned: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    actual: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    note: str | None = Field(default=None, max_length=500)


class RecordBudget(Act):
    lines: list[BudgetLine] = Field(min_length=1, max_length=100)


class InviteSpeaker(Act):
    speaker: Person
    slot: Literal["keynote", "session", "panel", "special_guest"] = "session"
    topic: str | None = Field(default=None, max_length=300)


class SpeakerReply(Act):
    speaker_id: SafeId
    response: Literal["accepted", "declined"]


class Itinerary(_In):
    arrival: AwareDatetime | None = None
    lodging: str | None = Field(default=None, max_length=300)
    pickup: str | None = Field(default=None, max_length=300)
    meals: str | None = Field(default=None, max_length=300)


class SpeakerItinerary(Act):
    """Record a confirmed speaker's itinerary (arrival, lodging, pick-up): the speaker is then confirmed."""

    speaker_id: SafeId
    itinerary: Itinerary


ItemKind = Literal["opening", "keynote", "session", "breakout", "panel", "qa", "break", "meal", "closing"]


class AgendaItem(_In):
    id: SafeId
    kind: ItemKind
    title: str = Field(min_length=1, max_length=300)
    start: EventTime
    minutes: int = Field(ge=1, le=24 * 60)
    room: str = Field(default="main", min_length=1, max_length=100)
    speaker_id: SafeId | None = None
    importance: int = Field(default=3, ge=1, le=5)

    @property
    def end(self) -> datetime:
        from datetime import timedelta

        return self.start + timedelta(minutes=self.minutes)


class SetAgenda(Act):
    """Replace the agenda (the timetable from opening to close)."""

    items: list[AgendaItem] = Field(min_length=1, max_length=500)


class StartItem(Act):
    """On the day: an agenda item starts now (time control)."""

    item_id: SafeId


class EndItem(Act):
    item_id: SafeId


Need = Literal["accessibility", "translation", "diet", "elderly", "other"]


class Attendee(Person):
    category: Literal["expert", "partner", "prospect", "investor", "internal", "media", "other"] = "other"
    key_client: bool = False
    needs: list[Need] = Field(default_factory=list, max_length=5)
    needs_note: str | None = Field(default=None, max_length=500)


class InvitationBatchRef(_In):
    """A batch of attendees already written to the roster database (by the API or the CLI)."""

    id: str = Field(min_length=1, max_length=200, description="The batch id the roster rows carry.")
    count: int = Field(ge=1, le=1_000_000, description="How many people the batch added.")


INLINE_INVITATIONS = 200
"""At most this many attendees travel inside one act to an event whose roster is in the database;
more go through the roster first (``batch``), so no payload grows with the roster."""


class InviteAttendees(Act):
    """Invite attendees: either listed here (any Temporal client; at most :data:`INLINE_INVITATIONS` for an
    event whose roster lives in the database) or as a ``batch`` already in the roster database (the API
    and CLI write the rows first, so 50,000 people cost one small act)."""

    attendees: list[Attendee] = Field(default_factory=list, max_length=1000)
    batch: InvitationBatchRef | None = None

    @model_validator(mode="after")
    def _one_of(self) -> InviteAttendees:
        if bool(self.attendees) == (self.batch is not None):
            raise ValueError("give either attendees or a batch, not both and not neither")
        return self


class Rsvp(Act):
    attendee_id: SafeId
    response: Literal["yes", "no", "maybe"]


class CheckIn(Act):
    attendee_id: SafeId
    desk: str | None = Field(default=None, max_length=64, description="Which desk or lane checked them in.")


class ReportIncident(Act):
    incident_id: SafeId
    category: Literal["equipment", "safety", "injury", "weather", "traffic", "other"]
    severity: Literal["low", "medium", "high"]
    summary: str = Field(min_length=1, max_length=2000)
    owner: str | None = Field(default=None, max_length=64, description="The role that handles it.")


class AcknowledgeIncident(Act):
    incident_id: SafeId
    action: str | None = Field(default=None, max_length=2000, description="What is being done.")


class ResolveIncident(Act):
    incident_id: SafeId


class SurveyResponse(_In):
    respondent: SafeId
    content: int = Field(ge=1, le=5)
    organisation: int = Field(ge=1, le=5)
    service: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class RecordSurvey(Act):
    responses: list[SurveyResponse] = Field(min_length=1, max_length=1000)


class SendBack(Act):
    to_stage: str = Field(max_length=64)


class Postpone(Act):
    new_start: EventTime
    new_end: EventTime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Postpone:
        if self.new_end <= self.new_start:
            raise ValueError("new_end must be after new_start")
        return self


class Cancel(Act):
    reason: str = Field(min_length=1, max_length=2000)  # a cancellation always says why


# Meeting documents (workflows/documents.py decides these): the file and its record are in the database and the
# archive store; the workflow learns only which version of each type is there (bounded by archive_includes).
class RecordDocument(Act):
    """A document of `doc_type` (one of the definition's ``archive_includes``) was stored as `version`."""

    doc_type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    version: int = Field(ge=1, le=100_000)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AcknowledgePapers(Act):
    """`person_id` (named by the team in the papers' role) acknowledged the papers."""

    person_id: SafeId


# The risk register (workflows/risks.py decides this): risks live in the database; the workflow learns the summary
# its check needs, bounded by a cap on the ids it names.
RISK_IDS_KEPT = 50
"""At most this many ids of open high risks (and of those without an owner) travel in the fact."""


class RecordRisks(Act):
    """The register's summary after a write: `count` risks, the open high ones and those without an owner.
    `revision` rises with every write to the register, so an older summary arriving late changes nothing."""

    revision: int = Field(ge=1)
    count: int = Field(ge=0, le=100_000)
    high_open: list[SafeId] = Field(default_factory=list, max_length=RISK_IDS_KEPT)
    high_unowned: list[SafeId] = Field(default_factory=list, max_length=RISK_IDS_KEPT)


AnyAct = (
    Decide
    | CompleteTask
    | RecordBudget
    | InviteSpeaker
    | SpeakerReply
    | InviteAttendees
    | Rsvp
    | CheckIn
    | SpeakerItinerary
    | SetAgenda
    | StartItem
    | EndItem
    | ReportIncident
    | AcknowledgeIncident
    | ResolveIncident
    | RecordSurvey
    | SendBack
    | Postpone
    | Cancel
    | RecordDocument  # meeting documents (workflows/documents.py)
    | AcknowledgePapers
    | RecordRisks  # the risk register (workflows/risks.py)
)

ACT_NAMES: dict[type[Act], str] = {
    Decide: "decide",
    CompleteTask: "complete_task",
    RecordBudget: "record_budget",
    InviteSpeaker: "invite_speaker",
    SpeakerReply: "speaker_reply",
    InviteAttendees: "invite_attendees",
    Rsvp: "rsvp",
    CheckIn: "check_in",
    SpeakerItinerary: "speaker_itinerary",
    SetAgenda: "set_agenda",
    StartItem: "start_item",
    EndItem: "end_item",
    ReportIncident: "report_incident",
    AcknowledgeIncident: "acknowledge_incident",
    ResolveIncident: "resolve_incident",
    RecordSurvey: "record_survey",
    SendBack: "send_back",
    Postpone: "postpone",
    Cancel: "cancel",
    RecordDocument: "record_document",  # meeting documents (workflows/documents.py)
    AcknowledgePapers: "acknowledge_papers",
    RecordRisks: "record_risks",  # the risk register (workflows/risks.py)
}
"""Each act's update name: the names a Temporal client uses."""

ACT_UPDATE_PREFIX = "act:"
"""Update ids that start with this ask for final refusals: the workflow decides such an act in its handler
and remembers a refusal with the key (see :func:`act_update_id`)."""


def act_update_id(key: str) -> str:
    """The Temporal update id for an act with idempotency key `key`: one key, one update, so the server itself
    answers a resend of the key within a run, and the workflow keeps a refusal of it for good.

    ``act:<key>`` when the key is short and printable, else ``act:sha256:<hex>`` (at most 75 characters).
    """
    if len(key) <= 128 and key.isprintable() and key.isascii():
        return ACT_UPDATE_PREFIX + key
    return f"{ACT_UPDATE_PREFIX}sha256:{hashlib.sha256(key.encode()).hexdigest()}"


class ActResult(BaseModel):
    """The answer to an accepted act."""

    act: str
    key: str
    seq: int = Field(description="The act's place in the audit log.")
    stage: str = Field(description="The event's stage after the act.")
    status: str
    message: str


# --- recorded state ----------------------------------------------------------------------------


class AuditEntry(BaseModel):
    seq: int
    at: datetime
    act: str
    actor: str
    role: str
    key: str | None = None
    reason: str | None = None
    summary: str


class TaskRecord(BaseModel):
    done_at: datetime
    by: str
    note: str | None = None


class GateRecord(BaseModel):
    decision: Literal["approved", "rejected", "waived"]
    by: str
    role: str
    at: datetime
    reason: str | None = None


NOT_DELIVERABLE = "; not deliverable: "
"""Where ``send_thanks``'s summary names the people whose address refused the thanks for good."""


def not_deliverable(summary: str) -> set[str]:
    """The person ids a ``send_thanks`` summary names as not deliverable (pure; empty when none)."""
    _, found, names = summary.partition(NOT_DELIVERABLE)
    return {n.strip() for n in names.split(",") if n.strip()} if found else set()


class SpeakerRecord(BaseModel):
    person: Person
    slot: str
    topic: str | None = None
    status: Literal["invited", "accepted", "declined", "confirmed"] = "invited"
    invited_at: datetime
    replied_at: datetime | None = None
    itinerary: Itinerary | None = None
    thanked: bool = False

    @property
    def on_board(self) -> bool:
        """Accepted, with or without the itinerary recorded yet."""
        return self.status in ("accepted", "confirmed")


class RunRecord(BaseModel):
    """What happened to an agenda item on the day."""

    started_at: datetime | None = None
    ended_at: datetime | None = None


class AttendeeRecord(BaseModel):
    person: Attendee
    invited_at: datetime
    rsvp: Literal["yes", "no", "maybe"] | None = None
    checked_in_at: datetime | None = None
    checked_in_by: str | None = None
    checked_in_desk: str | None = None
    invitation: Literal["pending", "sent", "failed", "skipped"] | None = Field(
        default=None, description="Whether the invitation went out (roster in the database only).")


class IncidentRecord(BaseModel):
    id: str
    category: str
    severity: str
    summary: str
    reported_at: datetime
    reported_by: str
    owner: str | None = None
    acknowledged_at: datetime | None = None
    actions: list[str] = Field(default_factory=list)
    resolved_at: datetime | None = None

    @property
    def status(self) -> str:
        return "resolved" if self.resolved_at else "acknowledged" if self.acknowledged_at else "open"


class DeliveryRecord(BaseModel):
    """One notification sent (or not) by an activity; recorded on the event."""

    key: str
    kind: str
    channel: str
    to: str
    status: Literal["sent", "failed", "skipped", "retrying"] = Field(
        description="`retrying`: a transient failure, to be tried again (roster database only).")
    detail: str = ""
    at: datetime | None = None


class EffectRecord(BaseModel):
    """An activity outcome the workflow recorded (archive, report, compensation...)."""

    name: str
    ok: bool
    detail: str = ""
    at: datetime


class FiredStep(BaseModel):
    deadline: str
    step: int
    at: datetime
    anchor: datetime = Field(description="The deadline time the step was computed from.")


class DocumentFact(BaseModel):
    """The newest version of one document type: what the documents checks need (the file is in the database)."""

    version: int
    sha256: str
    at: datetime
    by: str


class RiskFact(BaseModel):
    """The risk register as the risk_register check needs it (the risks themselves are in the database)."""

    revision: int
    count: int
    high_open: list[str] = Field(default_factory=list)
    high_unowned: list[str] = Field(default_factory=list)
    at: datetime


class InvitationBatch(BaseModel):
    """When invitations went out and how many: what the invitations gate needs of the roster."""

    at: datetime
    count: int


class EventRecord(BaseModel):
    """Everything the workflow remembers; carried whole through continue-as-new.

    With ``roster="database"`` (every event started or continued since the roster moved to the
    database) its size is bounded by the definition: attendees, survey answers, deliveries and the
    full audit live in the database; the record keeps invitation batches (merged past
    :data:`~workflows.lifecycle.INVITATION_BATCHES`), the newest audit entries and those not yet
    written. Events recorded before keep ``roster="memory"`` until their roster is moved.
    """

    roster: Literal["memory", "database"] = Field(
        default="memory", description="Where attendees, survey, deliveries and the full audit are kept.")

    status: Literal["active", "closed", "cancelled"] = "active"
    stage: str
    stage_entered_at: datetime
    stages_entered: dict[str, datetime] = Field(default_factory=dict)
    tasks: dict[str, TaskRecord] = Field(default_factory=dict)
    gates: dict[str, GateRecord] = Field(default_factory=dict)
    budget: dict[str, BudgetLine] = Field(default_factory=dict)
    speakers: dict[str, SpeakerRecord] = Field(default_factory=dict)
    attendees: dict[str, AttendeeRecord] = Field(default_factory=dict)
    incidents: dict[str, IncidentRecord] = Field(default_factory=dict)
    survey: dict[str, SurveyResponse] = Field(default_factory=dict)
    agenda: list[AgendaItem] = Field(default_factory=list)
    run: dict[str, RunRecord] = Field(default_factory=dict, description="Time control, by agenda item.")
    fired: list[FiredStep] = Field(default_factory=list)
    audit: list[AuditEntry] = Field(
        default_factory=list, description="The whole audit (memory roster) or its newest entries (database).")
    calendar_sequence: int = Field(
        default=0, description="iCalendar SEQUENCE of the event's invitation: +1 at each postponement and at "
        "the cancellation (RFC 5545 3.8.7.4), so calendars apply the newest.")
    audit_seq: int = Field(default=0, description="Audit entries recorded so far (database roster).")
    audit_outbox: list[AuditEntry] = Field(
        default_factory=list, description="Entries not yet written to the database (database roster).")
    invitations: list[InvitationBatch] = Field(default_factory=list)
    deliveries: list[DeliveryRecord] = Field(default_factory=list)
    effects: list[EffectRecord] = Field(default_factory=list)
    applied: dict[str, tuple[str, ActResult]] = Field(
        default_factory=dict, description="Idempotency keys: key -> (digest of the act, its answer)."
    )
    refused: dict[str, tuple[str, str, str]] = Field(
        default_factory=dict,
        description="Keys refused for good (acts sent with an update id from act_update_id): key -> (digest of "
        "the act, refusal kind, message). Bounded: the newest REFUSALS_KEPT.",
    )
    started_activities: list[str] = Field(default_factory=list, description="Activity tasks already run.")
    report_stale: bool = Field(default=False, description=(
        "The lessons were recorded while the evaluation report was being written from a record without them: "
        "it is written again when that run finishes."))
    hold: str | None = Field(default=None, description="A stage sent back to stays until someone acts in it.")
    documents: dict[str, DocumentFact] = Field(
        default_factory=dict, description="Meeting documents by type (at most the definition's archive_includes).")
    receipts: dict[str, datetime] = Field(
        default_factory=dict, description="When each person in the papers' role first acknowledged them "
        "(at most the team's size).")
    risks: RiskFact | None = Field(default=None, description="The risk register's summary; None: none kept yet.")


class WorkflowInput(BaseModel):
    """The workflow's one argument: the event and the definition it runs by."""

    event: EventDetails
    definition: Definition
    definition_hash: str
    record: EventRecord | None = Field(default=None, description="Set only when continuing as new.")
    history_limit: int | None = Field(
        default=None,
        ge=50,
        description="Continue as new once the history is this long, besides when the server suggests it.",
    )


# --- the state view (query `state`) ------------------------------------------------------------


class TaskView(BaseModel):
    id: str
    stage: str
    title: str
    owner: str
    required: bool
    done: bool
    done_at: datetime | None = None
    done_by: str | None = None
    due: datetime | None = None
    overdue: bool = False
    automatic: bool = False


class GateView(BaseModel):
    id: str
    stage: str
    title: str
    status: Literal["passed", "waived", "open", "rejected", "awaiting_decision"]
    reasons: list[str] = Field(default_factory=list, description=(
        "Why it is still open. The workflow's view holds English; GET /events/{id} says them in the "
        "request's language."))
    reason_messages: list[ReasonMessage] = Field(default_factory=list, description=(
        "The same reasons as catalogue messages (message id, plural id, parameters), one per reason."))
    approvers: list[str] = Field(default_factory=list)
    decision: GateRecord | None = None


class StepView(BaseModel):
    index: int
    at: datetime
    kind: str
    notify: list[str]
    level: int
    fired: bool


class DeadlineView(BaseModel):
    id: str
    title: str
    at: datetime
    status: Literal["pending", "met", "missed", "void"]
    seconds_left: float
    next_step: StepView | None = None
    steps: list[StepView] = Field(default_factory=list)


class Counts(BaseModel):
    invited: int = 0
    accepted: int = 0
    declined: int = 0
    confirmed_keynotes: int = 0
    keynote_slots: int = 0
    rsvp_yes: int = 0
    rsvp_no: int = 0
    rsvp_maybe: int = 0
    checked_in: int = 0
    expected: int = 0


class AgendaItemView(BaseModel):
    item: AgendaItem
    projected_start: datetime = Field(description="Planned start shifted by overruns earlier in the same room.")
    shift_minutes: float = 0
    status: Literal["planned", "running", "overrun", "done"] = "planned"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    speaker_status: str | None = None


class NeedView(BaseModel):
    attendee_id: str
    name: str
    needs: list[str]
    note: str | None = None
    checked_in: bool


class BudgetView(BaseModel):
    limit: Decimal
    currency: str
    planned: Decimal
    actual: Decimal
    lines: list[BudgetLine]


class Progress(BaseModel):
    done: int
    total: int


class AttendeeQuery(BaseModel):
    """A page of an event's attendees (query ``attendees``): the check-in desk and RSVP list read this."""

    search: str = Field(default="", max_length=200, description="Matches id, name or email, ignoring case.")
    rsvp: Literal["yes", "no", "maybe", "none", "any"] = "any"
    checked_in: bool | None = None
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=50, ge=1, le=500)


class AttendeePage(BaseModel):
    total: int = Field(description="Attendees invited to the event.")
    matched: int = Field(description="Attendees matching the query, over all pages.")
    items: list[AttendeeRecord]


class InvitationProgress(BaseModel):
    """How far the invitations have gone out (from the roster database)."""

    invited: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0


class StateView(BaseModel):
    """Everything a dashboard shows for one event (query ``state``)."""

    event: EventDetails
    kind: str
    definition_hash: str
    status: str
    stage: str
    stage_title: str
    stages: list[str]
    stage_entered_at: datetime
    now: datetime
    can_advance: bool
    tasks: list[TaskView]
    gates: list[GateView]
    deadlines: list[DeadlineView]
    escalation_level: int
    at_risk: bool
    budget: BudgetView
    speakers: Counts
    attendees: Counts
    speaker_list: list[SpeakerRecord]
    agenda: list[AgendaItemView] = Field(default_factory=list)
    special_needs: list[NeedView] = Field(default_factory=list, description="For the reception team.")
    incidents: list[IncidentRecord] = Field(default_factory=list)
    open_incidents: list[IncidentRecord]
    progress: Progress
    audit: list[AuditEntry] = Field(description="The whole audit, or its newest entries when `audit_total` is more.")
    audit_total: int = Field(default=0, description="Entries in the whole audit (page it: GET /events/{id}/audit).")
    deliveries: list[DeliveryRecord] = Field(description="Notifications sent: all of them, or the newest.")
    effects: list[EffectRecord]
    roster: Literal["memory", "database"] = "memory"
    invitations: InvitationProgress | None = None
    calendar_sequence: int = Field(default=0, description="The iCalendar SEQUENCE of the event's calendar entry.")


# --- activity inputs ------------------------------------------------------------------------------


class Recipient(BaseModel):
    role: str
    person_id: str | None = None
    name: str | None = None
    email: str | None = None
    webhook_url: str | None = None


class NotificationRequest(BaseModel):
    """One message to one recipient on one channel; `key` makes a retried send a no-op."""

    key: str
    event_id: str
    kind: str
    channel: Literal["email", "webhook", "log", "chat"]
    recipient: Recipient
    locale: Locale = "en"
    context: dict[str, Any] = Field(default_factory=dict)
    attach_ics: bool = False


class ReleaseRequest(BaseModel):
    """Input of a compensation: release one booking of a cancelled event."""

    event_id: str
    booking: str
    reason: str


class EventFacts(BaseModel):
    """What the roster database needs to know of the event to decide attendee acts (``sync_event``)."""

    event_id: str
    kind: str
    title: str
    stage: str
    status: str
    on_site: bool = Field(description="Check-in is open.")
    start: datetime
    end: datetime
    timezone: str
    locale: str
    confidential: bool
    registration: Literal["invite_only", "open"] = "invite_only"
    capacity: int | None = Field(default=None, description="Places; None: no limit.")
    offer_hours: float = Field(default=48.0, description="How long a place offered from the waiting list waits.")
    version: int = Field(description="Rises with every change; an older sync never overwrites a newer one.")


class AuditBatch(BaseModel):
    """Audit entries to write to the database (``record_audit``), idempotent by their sequence numbers."""

    event_id: str
    entries: list[AuditEntry]


RosterAudience = Literal["not_declined", "survey_pending", "invited", "all"]
"""``invited``: everyone whose invitation went out (it is in their calendar, whatever they answered)."""


class RosterNotice(BaseModel):
    """Tell the attendees of the roster something (``notify_roster``): paged through the database,
    each send keyed ``<event>:<cause>:<attendee>:<channel>`` so a retry never sends twice."""

    event_id: str
    kind: str
    audience: RosterAudience
    cause: str
    locale: Locale = "en"
    context: dict[str, Any] = Field(default_factory=dict)
    attach_ics: bool = False


class InvitationSend(BaseModel):
    """Send one invitation batch's invitations (``send_invitations``); `attendees` are added to the roster
    first when the act listed them itself."""

    event_id: str
    batch: str
    invited_at: datetime
    attendees: list[Attendee] = Field(default_factory=list)
    cause: str
    locale: Locale = "en"
    context: dict[str, Any] = Field(default_factory=dict)


class LegacyRoster(BaseModel):
    """Part of a record kept before the roster moved to the database (``import_legacy_record``)."""

    event_id: str
    attendees: list[AttendeeRecord] = Field(default_factory=list)
    survey: list[SurveyResponse] = Field(default_factory=list)
    deliveries: list[DeliveryRecord] = Field(default_factory=list)
    audit: list[AuditEntry] = Field(default_factory=list)


class DossierRequest(BaseModel):
    """Input of the post-event activities (thanks, evaluation report, archive)."""

    event: EventDetails
    definition: Definition
    definition_hash: str
    record: EventRecord


class WaitlistOfferIn(BaseModel):
    """A place offered from the waiting list (``WaitlistOffer``): the message that offers it, and until when."""

    event_id: str
    attendee_id: str
    expires_at: datetime
    notice: NotificationRequest


class PromoteRequest(BaseModel):
    """Offer the event's free places to the next people waiting (``promote_waitlist``)."""

    event_id: str
