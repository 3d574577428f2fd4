"""Personal links in messages: each email to a person outside the team carries their own page's link.

The link is made (or found: the same person always gets the same link) just before the message is
built, so a retried send carries the same link. It is put in the message's context as
``personal_link``; templates show it. Only emails carry it (a webhook goes to a system, a log line
must never hold a secret).
"""

from __future__ import annotations

from datetime import timedelta

from activities.rendering import parse_time
from store import Links, Roster
from store.links import Purpose
from workflows.messages import NotificationRequest


class PersonalLinks:
    """Adds ``personal_link`` to a person's email.

    Args:
        links: the links store, keyed with the server's link key.
        roster: the roster (an attendee's link is for people it holds).
        public_url: where the API's pages are reached (``CONVENE_PUBLIC_URL``).
        days_after_end: links work until this many days after the event ends (the survey comes after it).
    """

    def __init__(self, links: Links, roster: Roster, public_url: str, days_after_end: float = 30.0) -> None:
        self.links = links
        self.roster = roster
        self.public_url = public_url.rstrip("/")
        self.days_after_end = days_after_end

    async def purpose(self, request: NotificationRequest) -> Purpose | None:
        """``speaker`` for a speaker's messages, ``papers`` for the papers sent to a board member, ``attendee`` for a
        person on the roster, else None."""
        r = request.recipient
        if request.channel != "email" or r.role != "guest" or not r.person_id:
            return None
        if request.context.get("audience") == "speaker":
            return "speaker"
        if request.context.get("audience") == "papers":  # a board member's papers (api/routes/papers.py)
            return "papers"
        if await self.roster.person(request.event_id, r.person_id) is not None:
            return "attendee"
        return None

    async def enrich(self, request: NotificationRequest) -> NotificationRequest:
        """`request` with ``personal_link`` in its context when it goes to someone who has a page."""
        purpose = await self.purpose(request)
        if purpose is None:
            return request
        end = parse_time(request.context.get("end")) or parse_time(request.context.get("start"))
        if end is None:
            return request
        expires = end + timedelta(days=self.days_after_end)
        person = request.recipient.person_id or ""
        token = await self.links.token(request.event_id, person, purpose, expires)
        extra: dict[str, str] = {"personal_link": f"{self.public_url}/p/{token}"}
        if request.kind == "ticket" and purpose == "attendee":  # the ticket itself: its QR code goes in the email
            extra["ticket_code"] = await self.links.token(request.event_id, person, "ticket", expires)
        return request.model_copy(update={"context": request.context | extra})
