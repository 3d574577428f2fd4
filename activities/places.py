"""The waiting list's activity: offer free places to the next people waiting (``promote_waitlist``)."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from store import Roster
from store.registration import Offer, Places
from workflows.messages import Attendee, EventFacts, NotificationRequest, PromoteRequest, Recipient, WaitlistOfferIn


def person_notice(facts: EventFacts, person: Attendee, kind: str, cause: str,
                  extra: dict[str, object] | None = None) -> NotificationRequest:
    """A message about the event to one person, keyed ``<event>:<cause>:<person>:<channel>`` as the workflow keys
    its own (so a retry sends it once); by email when they have an address, else to the log."""
    channel = "email" if person.email else "log"
    return NotificationRequest(
        key=f"{facts.event_id}:{cause}:{person.id}:{channel}", event_id=facts.event_id, kind=kind,
        channel=channel,  # type: ignore[arg-type]
        recipient=Recipient(role="guest", person_id=person.id, name=person.name, email=person.email),
        locale=person.locale or facts.locale,  # type: ignore[arg-type]
        context=event_context(facts) | (extra or {}))


def offer_notice(facts: EventFacts, offer: Offer) -> NotificationRequest:
    """The email that offers `offer`'s place (keyed by the offer, so a retry sends it once)."""
    return person_notice(facts, offer.person, "waitlist", f"offer.{int(offer.expires_at.timestamp())}",
                         {"offered_until": offer.expires_at.isoformat()})


def event_context(facts: EventFacts) -> dict[str, object]:
    """What every message about the event says of it (as the workflow's own messages do)."""
    return {"event_id": facts.event_id, "title": facts.title, "kind": facts.kind, "start": facts.start.isoformat(),
            "end": facts.end.isoformat(), "timezone": facts.timezone, "venue": "", "stage": facts.stage,
            "confidential": facts.confidential}


class PlacesActivities:
    def __init__(self, places: Places, roster: Roster) -> None:
        self.places = places
        self.roster = roster

    @activity.defn(name="promote_waitlist")
    async def promote_waitlist(self, req: PromoteRequest) -> list[WaitlistOfferIn]:
        """Offer every free place to the next person waiting; returns the offers made (with their emails)."""
        facts = await self.roster.facts(req.event_id)
        if facts is None:
            return []
        offers = await self.places.promote(req.event_id, datetime.now(UTC))
        return [WaitlistOfferIn(event_id=o.event_id, attendee_id=o.person.id, expires_at=o.expires_at,
                                notice=offer_notice(facts, o)) for o in offers]
