"""Follow-up: thanks to the speakers who spoke and the key clients who came.

``send_thanks`` (:class:`~workflows.messages.DossierRequest` in, a one-line
summary out) sends a ``thanks`` notification through the same
:class:`~activities.notifications.Notifier` path as every other message, one
per person under the key ``<event>:thanks:<person>``: a retry skips whoever
this worker already thanked, and every email's Message-ID is derived from that
key.

Speakers come from the record. Key clients come from the record for an event
kept in memory, and from the roster database for an event whose roster is
there (``record.roster == "database"``); there the notifier's journal also tells
a retry on another worker whom it already thanked.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.database import in_database, key_clients, ready, require
from activities.errors import transient
from activities.notifications import Notifier
from convene.logs import get_logger
from store.roster import Roster
from workflows.messages import (
    NOT_DELIVERABLE, AttendeeRecord, DossierRequest, NotificationRequest, Person, Recipient,
)


def event_context(request: DossierRequest) -> dict[str, Any]:
    """The template context of a post-event message: the same keys the lifecycle sends."""
    e, d = request.event, request.definition
    return {
        "event_id": e.id, "title": e.title, "kind": d.kind, "kind_title": d.title,
        "start": e.start.isoformat(), "end": e.end.isoformat(), "timezone": e.timezone, "venue": e.venue or "",
        "stage": request.record.stage, "confidential": d.confidential,
    }


def thanks_requests(request: DossierRequest,
                    clients: list[AttendeeRecord] | None = None) -> list[NotificationRequest]:
    """One ``thanks`` message per speaker on board (accepted or confirmed) not yet thanked, and per key
    client who did not decline (pure).

    Args:
        request: the event; its speakers (and, kept in memory, its attendees) come from the record.
        clients: the key clients read from the roster database, in place of the record's attendees.
    """
    record, event = request.record, request.event
    attendees = list(record.attendees.values()) if clients is None else clients
    base = event_context(request)
    people: list[tuple[Person, dict[str, Any]]] = [
        (s.person, {"audience": "speaker", "slot": s.slot, "topic": s.topic or ""})
        for s in sorted(record.speakers.values(), key=lambda s: s.person.id)
        if s.on_board and not s.thanked
    ]
    people += [
        (a.person, {"audience": "attendee"})
        for a in sorted(attendees, key=lambda a: a.person.id)
        if a.person.key_client and (a.rsvp != "no" or a.checked_in_at is not None)
    ]
    return [
        NotificationRequest(
            key=f"{event.id}:thanks:{person.id}",
            event_id=event.id,
            kind="thanks",
            channel="email" if person.email else "log",
            recipient=Recipient(role="guest", person_id=person.id, name=person.name, email=person.email),
            locale=person.locale or event.locale,
            context=base | extra,
        )
        for person, extra in people
    ]


class Thanks:
    """Sends the thanks; its bound :meth:`send_thanks` is the activity.

    Args:
        notifier: sends each message.
        roster: the roster database, for events whose roster is there (None: memory-roster events only).
            The notifier's journal records the deliveries.
    """

    def __init__(self, notifier: Notifier, roster: Roster | None = None) -> None:
        self.notifier = notifier
        self.roster = roster

    async def requests(self, request: DossierRequest) -> list[NotificationRequest]:
        """Whom to thank: key clients from the roster database when the event keeps its roster there."""
        if not in_database(request):
            return thanks_requests(request)
        require(request.event.id, self.roster)
        assert self.roster is not None
        await ready(self.roster)
        return thanks_requests(request, await key_clients(self.roster, request.event.id))

    @activity.defn(name="send_thanks")
    async def send_thanks(self, request: DossierRequest) -> str:
        """Thank speakers on board (accepted or confirmed) and key clients; summarise who was thanked.

        Returns ``thanks to N recipient(s): S sent, K skipped, F failed``, followed by
        ``; not deliverable: <person ids>`` when F > 0 (the workflow marks every other speaker on board
        as thanked: see :func:`not_deliverable`). A permanently refused address is counted as failed and
        does not stop the others. If any
        send failed for a reason that may pass, the activity raises (retryable) after trying
        everyone; the retry skips those already thanked.
        """
        log = get_logger(__name__, event_id=request.event.id)
        counts = {"sent": 0, "skipped": 0, "failed": 0}
        deferred: list[str] = []
        refused: list[str] = []
        for note in await self.requests(request):
            try:
                record = await self.notifier.deliver(note)
            except ApplicationError as err:
                if err.non_retryable:
                    counts["failed"] += 1
                    refused.append(note.recipient.person_id or "?")
                    log.warning("thanks not deliverable", person_id=note.recipient.person_id, error=err.type)
                    continue
                deferred.append(note.recipient.person_id or "?")
                continue
            counts[record.status] += 1
        if deferred:
            raise transient(f"thanks deferred for {len(deferred)} recipient(s); will retry: {', '.join(deferred)}")
        total = sum(counts.values())
        log.info("thanks sent", **counts)
        return (
            f"thanks to {total} recipient(s): {counts['sent']} sent, {counts['skipped']} skipped, "
            f"{counts['failed']} failed" + (f"{NOT_DELIVERABLE}{', '.join(refused)}" if refused else "")
        )
