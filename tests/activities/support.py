"""Builders and the outside systems' stand-ins for the activity tests (their fixtures are in conftest)."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

from definitions import definition_hash, shipped
from workflows.messages import (
    Attendee,
    AttendeeRecord,
    AuditEntry,
    BudgetLine,
    DeliveryRecord,
    DossierRequest,
    EventDetails,
    EventRecord,
    GateRecord,
    IncidentRecord,
    NotificationRequest,
    Person,
    Recipient,
    SpeakerRecord,
    SurveyResponse,
    TaskRecord,
)

WEBHOOK_SECRET = "test-webhook-secret"
REFUSED_DOMAIN = "refused.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------- SMTP


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses addresses at ``refused.example``.

    ``defer`` > 0 answers that many messages with ``451`` (try again later) before accepting again.
    """

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.defer = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.defer > 0:
            self.defer -= 1
            return "451 4.3.0 mailbox busy, try again later"
        message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.messages if address in r.rcpt_tos]


# --------------------------------------------------------------------------------------- webhooks


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A webhook endpoint that answers from a script of status codes (then 200) and dedupes by key."""

    url: str
    script: list[int] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            status = self.script.pop(0) if self.script else 200
            self.hits.append(Hit(headers, body, status))
            key = urllib.parse.unquote(headers.get("idempotency-key", ""))  # sent percent-encoded (ASCII)
            if 200 <= status < 300 and all(a.get("key") != key for a in self.accepted):  # chat bodies have none
                self.accepted.append(json.loads(body))
            return status


# --------------------------------------------------------------------------------------- builders

START = datetime(2026, 5, 5, 1, 0, tzinfo=UTC)
END = START + timedelta(hours=8)


def context(**extra: Any) -> dict[str, Any]:
    """The context the lifecycle sends with every notification (see ``Lifecycle._context``)."""
    base = {
        "event_id": "summit-2026", "title": "Convene Summit", "kind": "conference", "kind_title": "Conference",
        "start": START.isoformat(), "end": END.isoformat(), "timezone": "Asia/Shanghai", "venue": "Hall A",
        "stage": "planning", "confidential": False,
    }
    return base | extra


def notification(
    *, key: str = "summit-2026:speaker.ann.k1:ann:email", kind: str = "invitation", locale: str = "en",
    channel: str = "email", email: str | None = "ann@example.org", name: str = "Ann Lee",
    webhook_url: str | None = None, attach_ics: bool = False, **extra: Any,
) -> NotificationRequest:
    return NotificationRequest(
        key=key, event_id="summit-2026", kind=kind, channel=channel,  # type: ignore[arg-type]
        recipient=Recipient(role="guest", person_id="ann", name=name, email=email, webhook_url=webhook_url),
        locale=locale, context=context(**extra), attach_ics=attach_ics,  # type: ignore[arg-type]
    )


T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def dossier(kind: str = "conference", event_id: str = "summit-2026", title: str = "Convene Summit") -> DossierRequest:
    """A small finished event with hand-countable figures (see ``test_reports``)."""
    definition = shipped().get(kind)
    event = EventDetails(
        id=event_id, title=title, kind=kind, start=START, end=END, timezone="Asia/Shanghai", venue="Hall A",
        expected_attendees=5, budget_limit=Decimal("20000"), currency="EUR", owner="pia",
        team={definition.owner_role: [Person(id="pia", name="Pia Owner", email="pia@example.org")]},
        webhooks=["https://hooks.example.org/convene?token=secret-token"],
    )
    attendees = [
        Attendee(id="a1", name="Ada", email="ada@example.org", category="partner", key_client=True),
        Attendee(id="a2", name="Bo", email="bo@example.org", category="expert"),
        Attendee(id="a3", name="Cy", email="cy@example.org", category="prospect", key_client=True),
        Attendee(id="a4", name="Di", email="di@example.org", category="investor"),
    ]
    rsvp = {"a1": "yes", "a2": "yes", "a3": "no", "a4": None}
    checked = {"a1", "a2"}
    record = EventRecord(
        status="active", stage="post_event", stage_entered_at=END + timedelta(hours=1),
        tasks={
            "lessons_recorded": TaskRecord(done_at=END + timedelta(days=2), by="pia", note="Start check-in earlier."),
            "set_up": TaskRecord(done_at=START - timedelta(hours=2), by="cole"),
        },
        gates={"budget_approved": GateRecord(decision="approved", by="finn", role="finance_approver", at=T0,
                                             reason="within limit")},
        budget={
            "venue": BudgetLine(category="venue", planned=Decimal("10000"), actual=Decimal("11000")),
            "catering": BudgetLine(category="catering", planned=Decimal("4000"), actual=Decimal("3500")),
            "contingency": BudgetLine(category="contingency", planned=Decimal("1000")),
        },
        speakers={
            "li": SpeakerRecord(person=Person(id="li", name="Li Wei", email="li@example.org", locale="zh"),
                                slot="keynote", topic="Durable workflows", status="accepted", invited_at=T0),
            "max": SpeakerRecord(person=Person(id="max", name="Max", email="max@example.org"), slot="session",
                                 status="declined", invited_at=T0),
        },
        attendees={
            a.id: AttendeeRecord(person=a, invited_at=T0, rsvp=rsvp[a.id],  # type: ignore[arg-type]
                                 checked_in_at=START if a.id in checked else None)
            for a in attendees
        },
        incidents={
            "i1": IncidentRecord(id="i1", category="equipment", severity="medium", summary="Projector failed",
                                 reported_at=START + timedelta(hours=1), reported_by="cole",
                                 resolved_at=START + timedelta(hours=2)),
        },
        survey={
            "a1": SurveyResponse(respondent="a1", content=5, organisation=4, service=3, comment="Great talks"),
            "a2": SurveyResponse(respondent="a2", content=4, organisation=4, service=5),
            "a4": SurveyResponse(respondent="a4", content=3, organisation=2, service=4),
        },
        audit=[AuditEntry(seq=1, at=T0, act="decide", actor="finn", role="finance_approver",
                          summary="budget approved")],
        deliveries=[
            DeliveryRecord(key="k1", kind="invitation", channel="email", to="ada@example.org", status="sent", at=T0),
            DeliveryRecord(key="k2", kind="invitation", channel="webhook",
                           to="https://hooks.example.org/convene?token=secret-token", status="failed", at=T0),
        ],
    )
    return DossierRequest(event=event, definition=definition, definition_hash=definition_hash(definition),
                          record=record)


