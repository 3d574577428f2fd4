"""What the state query answers: the event in full, as dashboards show it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

from convene.reason_message import ReasonMessage
from workflows.messages.acts import AgendaItem, BudgetLine
from workflows.messages.base import EventDetails
from workflows.messages.records import (
    AgendaChange,
    AttendeeRecord,
    AuditEntry,
    DeliveryRecord,
    EffectRecord,
    GateRecord,
    IncidentRecord,
    SpeakerRecord,
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
    planned: AgendaItem | None = Field(
        default=None, description="The item as planned before the day's changes; None: not changed on the day.")
    change_reason: str | None = Field(default=None, description="Why it was last changed on the day.")


class NeedView(BaseModel):
    attendee_id: str
    name: str
    needs: list[str]
    note: str | None = None
    checked_in: bool


class QuestionView(BaseModel):
    """An attendee's question for the event's named contact (sent with their RSVP)."""

    attendee_id: str
    name: str
    question: str


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


class EarlierLesson(BaseModel):
    """Lessons an earlier event of the same kind left (kept in the database; the API adds them when it starts an
    event)."""

    event_id: str
    event_title: str
    text: str
    recorded_at: datetime
class EmergencyPlanView(BaseModel):
    """One scenario of the emergency plan as read: `phone` is null where the reader may not see contact details."""

    category: str
    role: str
    person: str
    phone: str | None
    first_steps: list[str] = Field(default_factory=list)


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
    dropped_items: list[AgendaChange] = Field(
        default_factory=list, description="Agenda items dropped on the day, with their plan and the reason.")
    special_needs: list[NeedView] = Field(default_factory=list, description="For the reception team.")
    attendee_questions: list[QuestionView] = Field(
        default_factory=list, description="Attendees' questions for the named contact (events whose roster is in "
        "the database), oldest invitation first.")
    incidents: list[IncidentRecord] = Field(default_factory=list)
    open_incidents: list[IncidentRecord]
    emergency_plan: list[EmergencyPlanView] = Field(
        default_factory=list, description="Who owns each incident category on site (phones withheld where contact "
        "details are).")
    progress: Progress
    audit: list[AuditEntry] = Field(description="The whole audit, or its newest entries when `audit_total` is more.")
    audit_total: int = Field(default=0, description="Entries in the whole audit (page it: GET /events/{id}/audit).")
    deliveries: list[DeliveryRecord] = Field(description="Notifications sent: all of them, or the newest.")
    effects: list[EffectRecord]
    roster: Literal["memory", "database"] = "memory"
    invitations: InvitationProgress | None = None
    calendar_sequence: int = Field(default=0, description="The iCalendar SEQUENCE of the event's calendar entry.")
    on_site: bool = Field(default=False, description="The day is on: check-in is open and the programme runs "
                                                     "(the current stage waits for the event's end).")
    doors_open: bool = Field(default=False, description="The event has reached its on-site stage (or ended): it "
                                                        "can no longer be postponed or sent back.")
    earlier_lessons: list[EarlierLesson] = Field(
        default_factory=list, description="In the answer to starting an event only: the lessons earlier events of "
        "its kind left, newest first (GET /events/{id}/lessons reads them later).")




class MayAsk(BaseModel):
    """Who asks what they may do (query ``may``): a person and the roles they hold."""

    person_id: str
    roles: list[str] = Field(default_factory=list)


class GateMay(BaseModel):
    approve: str | None = None
    reject: str | None = None
    waive: str | None = None


class Allowed(BaseModel):
    """What a person may do on one event now, each as the role they would act as (null: not allowed)."""

    gates: dict[str, GateMay] = Field(default_factory=dict, description="Gates of the current stage.")
    tasks: dict[str, str | None] = Field(default_factory=dict,
                                         description="Open tasks of the current stage a person completes.")
    acts: dict[str, str | None] = Field(default_factory=dict, description="Every other act, by its update name.")
    send_back_to: list[str] = Field(default_factory=list,
                                    description="The earlier stages the event can be sent back to now.")
    cancellable: bool = Field(default=False, description="The event can still be called off (it has not happened).")


class AgendaOverlap(BaseModel):
    """Two agenda items at the same time in one room, or for one speaker in two rooms."""

    first: str
    second: str
    room: str | None = Field(default=None, description="Set when they share the room.")
    speaker: str | None = Field(default=None, description="Set when they share the speaker (in different rooms).")


class RoomBuffer(BaseModel):
    """One room's day: the share of its span (first start to last end) not taken by sessions (breaks and
    meals count as free), and its items in order."""

    room: str
    share: float
    items: list[str]


class AgendaLayout(BaseModel):
    """What the agenda check reads (:func:`workflows.agenda.layout`): overlaps, and each room's buffer."""

    overlaps: list[AgendaOverlap] = Field(default_factory=list)
    rooms: list[RoomBuffer] = Field(default_factory=list)
    min_buffer_share: float | None = Field(
        default=None, description="The least buffer the definition's agenda check asks of a room with two items "
        "or more (null: the definition has no agenda check).")
