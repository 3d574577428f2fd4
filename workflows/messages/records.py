"""What the workflow remembers: the record carried through continue-as-new, and the workflow's input."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

from definitions.schema import Definition
from workflows.messages.acts import AgendaItem, Attendee, BudgetLine, Itinerary, SurveyResponse
from workflows.messages.emergency import EmergencyContact
from workflows.messages.base import EventDetails, Person


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


class AgendaChange(BaseModel):
    """The day's changes to one agenda item: its plan as set before the first, and the latest reason."""

    planned: AgendaItem = Field(description="The item as the agenda had it before the day's first change.")
    changes: int = Field(default=0, description="How many changes touched it (each is in the audit with its reason).")
    last_change: str = ""
    reason: str = ""
    dropped: bool = False
    at: datetime


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


class ObjectivesFact(BaseModel):
    """How many objectives and outcomes the database holds (the objectives_recorded check needs no more)."""

    revision: int
    objectives: int
    outcomes: int
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
    emergency_plan: list[EmergencyContact] = Field(
        default_factory=list, description="The emergency plan: an owner, person and phone per incident category.")
    survey: dict[str, SurveyResponse] = Field(default_factory=dict)
    agenda: list[AgendaItem] = Field(default_factory=list)
    run: dict[str, RunRecord] = Field(default_factory=dict, description="Time control, by agenda item.")
    agenda_changes: dict[str, AgendaChange] = Field(
        default_factory=dict, description="The day's changes, by agenda item (at most one per item set).")
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
    objectives: ObjectivesFact | None = Field(
        default=None, description="How many objectives and outcomes are recorded; None: none yet.")


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


