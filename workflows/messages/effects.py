"""What the workflow hands its activities: notifications, roster sends, dossiers, compensations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
)

from definitions.schema import Definition
from workflows.messages.acts import Attendee, SurveyResponse
from workflows.messages.base import EventDetails, Locale
from workflows.messages.records import AttendeeRecord, AuditEntry, DeliveryRecord, EventRecord

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
