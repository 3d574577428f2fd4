"""Who is told: notifications to the roles of a definition, to people, to the roster, calendar updates.

Nothing is sent here: each message becomes an effect (a :class:`~workflows.messages.NotificationRequest` or
a :class:`~workflows.messages.RosterNotice`) that the workflow runs as an activity, keyed so that a retry
never sends twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal
from zoneinfo import ZoneInfo

from definitions.schema import Notify
from workflows.lifecycle.core import INVITATION_AGENDA_ITEMS, Core
from workflows.messages import NotificationRequest, Person, Recipient, RosterAudience, RosterNotice


class Notifier(Core):
    """The core with the ways of telling people."""

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
            people: list[Person | None] = [*self._people(role)] or [None]
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

    def _notify_people(self, kind: str, people: Sequence[Person], cause: str, extra: dict[str, Any] | None = None,
                       ics: bool = False) -> None:
        ctx = self._context() | (extra or {})
        for person in people:
            channel: Literal["email", "log"] = "email" if person.email else "log"
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
