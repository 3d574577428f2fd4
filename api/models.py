"""What the HTTP API accepts and answers, kept apart from the workflow's messages.

Request bodies never carry the actor: who acts is the authenticated principal,
and the role they act as is chosen from what they hold (or ``as_role``). The
idempotency key comes from the ``Idempotency-Key`` header (or ``key``), else
one is generated. Shared value types (a person, a budget line, a survey
response) are the workflow's own, so both sides validate them the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field

from api.bodies import AFTER, DateTime, act_body
from workflows.messages import (
    ActResult,
    Attendee,
    AuditEntry,
    CheckIn,
    DeliveryRecord,
    EventDetails,
    InviteAttendees,
    RecordSurvey,
    Rsvp,
    SafeId,
    StateView,
)

Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""Ids of roles, gates, tasks and stages, as definitions spell them."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- events -----------------------------------------------------------------------------------


class NewEvent(EventDetails):
    """The event's details; ``id`` is optional (a fresh one is made). Posting the same id and
    details again answers the existing event; the same id with other details is a conflict.
    ``end`` must be later than ``start``."""

    model_config = ConfigDict(json_schema_extra={AFTER: {"end": "start"}})

    start: DateTime
    end: DateTime
    timezone: str = Field(default="UTC", json_schema_extra={"enum": sorted(available_timezones())},
                          description="An IANA time zone (Europe/Paris).")
    id: Annotated[SafeId, Field(json_schema_extra={"not": {"enum": ["board"]}})] | None = Field(  # type: ignore
        default=None, description="Made up if absent. Not `board` (the path of the board).")


class EventSummary(BaseModel):
    """One line of a list, read from the search attributes (no call to the event itself)."""

    id: str
    kind: str | None = None
    stage: str | None = None
    start: datetime | None = None
    owner: str | None = None
    escalation: int = 0
    at_risk: bool = False
    status: str = Field(description="The workflow's status: running, completed, failed, terminated...")
    title: str | None = None
    progress_done: int | None = Field(default=None, description="Tasks and gates done (absent on older events).")
    progress_total: int | None = None
    awaiting: list[str] = Field(default_factory=list, description="Roles whose decision a gate awaits.")


class EventPage(BaseModel):
    items: list[EventSummary]
    next_page_token: str | None = Field(default=None, description="Pass as page_token for the next page.")


class Board(BaseModel):
    """How many events are in each stage (and in total) for the same filters as the list."""

    total: int
    stages: dict[str, int]
    other: int = Field(default=0, description="Events in a stage no loaded definition names.")


# --- acts -------------------------------------------------------------------------------------


AttendeesInviteIn = act_body(
    InviteAttendees, name="AttendeesInviteIn", exclude={"batch"},
    attendees=(list[Attendee], Field(min_length=1, max_length=1000, description=(
        "At most 1,000 people a request: a longer list is sent in pages (each with its own key), or as a CSV file "
        "to ``POST /events/{id}/attendees/import``."))),
)
RsvpIn = act_body(Rsvp, name="RsvpIn", path={"attendee_id"})
CheckInIn = act_body(
    CheckIn, name="CheckInIn", path={"attendee_id"},
    desk=(str | None, Field(default=None, min_length=1, max_length=64,
                            description="Which desk or lane checks them in (said again if they come twice).")),
)
SurveyIn = act_body(RecordSurvey, name="SurveyIn")


class ActOutcome(BaseModel):
    """The answer to an accepted act: what it did (its audit ``seq``, the ``stage`` and ``status`` after it and
    a ``message`` saying what changed), not the whole event: read ``GET /events/{id}`` for that.

    A repeat of the key is answered with the same body (and ``Idempotent-Replayed: true``).
    """

    result: ActResult
    state: StateView | None = Field(
        default=None, description="Not sent any more (the event after the act was the whole state, hundreds of KB); "
        "kept so older clients that look for it find it absent.")


class ActRefusal(BaseModel):
    """A refused act's answer, as it was given (problem+json)."""

    status: int = Field(description="The HTTP status it was answered with (403, 409 or 422).")
    type: str
    detail: str


class ActKey(BaseModel):
    """What became of an act sent with an idempotency key (``GET /events/{id}/acts/{key}``)."""

    key: str
    status: Literal["pending", "accepted", "refused"] = Field(
        description="pending: sent, no answer yet (ask again, or resend the act with the same key); accepted: "
        "applied once, see result; refused: never applied and never will be under this key, see refusal.")
    result: ActResult | None = Field(default=None, description="The accepted act's answer (its seq in the audit).")
    refusal: ActRefusal | None = None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime = Field(description="When the key is forgotten (a repeat after it is a new request).")


class InviteOutcome(ActOutcome):
    """An accepted invitation: how many people it invited, and who was on the list already."""

    invited: int = Field(description="People this invitation added (the same number again for a resend of its key).")
    skipped: list[str] = Field(default_factory=list, description="Ids of people already invited, left out.")


class RowProblem(BaseModel):
    line: int = Field(description="Line of the CSV file (the header is line 1).")
    message: str


class ImportOutcome(BaseModel):
    """What an attendee import did: good rows invited in pages of 1,000, bad rows listed."""

    rows: int = Field(description="Rows read without error.")
    invited: int = Field(description="People invited (resending the same file invites nobody twice).")
    skipped: int = Field(description="People already invited before, left out.")
    skipped_ids: list[str] = Field(default_factory=list, description="The first 100 of them.")
    pages: int = Field(description="Invitation acts sent (one per 1,000 rows).")
    errors: list[RowProblem] = Field(default_factory=list, description="Rows refused, with why.")
    encoding: str = Field("utf-8", description="How the file's bytes were read: the encoding given, its BOM's "
                                               "(utf-16 for Excel's Unicode text), utf-8, or detected "
                                               "(gb18030, big5, cp1252...).")
    encoding_how: str = Field("UTF-8", description="given, BOM, UTF-8 or detected.")
    delimiter: str = Field(",", description="The separator read: `,`, `;` or a tab (sniffed from the header, or an "
                                            "Excel `sep=` first line).")


class AuditPageOut(BaseModel):
    """A page of an event's whole audit."""

    total: int = Field(description="Entries in the whole audit.")
    offset: int
    limit: int
    order: Literal["newest", "oldest"]
    items: list[AuditEntry] = Field(description="In the order asked for. Attendee acts carry seq 0.")


class DeliveryPageOut(BaseModel):
    """A page of an event's notifications, newest first, with counts by status over all of them."""

    total: int
    counts: dict[str, int]
    offset: int
    limit: int
    items: list[DeliveryRecord]


# --- definitions ------------------------------------------------------------------------------


class StageSummary(BaseModel):
    id: str
    title: str


class DefinitionSummary(BaseModel):
    kind: str
    title: str
    description: str
    version: int
    hash: str
    owner_role: str
    confidential: bool
    public_promotion: bool
    stages: list[StageSummary]


class DefinitionDetail(BaseModel):
    kind: str
    hash: str
    definition: dict[str, Any]
    mermaid: str | None = Field(description="The lifecycle as a mermaid state diagram (null if it cannot be drawn).")
    timeline: list[dict[str, Any]] | None = Field(
        default=None, description="Every deadline step for an event starting at `start` (when available)."
    )
