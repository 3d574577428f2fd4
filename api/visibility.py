"""What a reader is shown of an event: whether they may see it at all, and which contact details.

The rules are :func:`api.auth.may_read` and :func:`api.auth.sees_contacts`; this module applies them to
what the routes answer (the event view, attendee pages, deliveries). Contact details are people's email
addresses and webhook URLs (the event's, the team's, speakers', attendees', and where deliveries went), and
the phones of the emergency plan.

- Withheld (a confidential kind, for a reader who does not need them): emails become null, webhook
  URLs null (the event's list is emptied), the emergency plan's phones null, a delivery's address becomes
  ``withheld``.
- Redacted (a read-only reader of any other kind): webhook URLs lose credentials, query and fragment.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client

from activities.rendering import redact_url
from api.auth import Principal, check_read, sees_contacts
from api.eventinfo import EventInfo, EventInfoCache
from definitions import Definition, UnknownKind
from definitions import Registry as DefinitionRegistry
from workflows.messages import AttendeePage, DeliveryRecord, EventDetails, Person, StateView

WITHHELD = "withheld"


def definition_of(registry: DefinitionRegistry, kind: str) -> Definition | None:
    try:
        return registry.get(kind)
    except UnknownKind:  # a kind no longer loaded here: the team and the grants still decide
        return None


async def readable(events: EventInfoCache, client: Client, registry: DefinitionRegistry, principal: Principal,
                   event_id: str) -> tuple[EventInfo, Definition | None]:
    """The event's cached details and definition, once `principal` may read it.

    Raises:
        NotVisible: not theirs (404, as an unknown event). RPCError NOT_FOUND: no such event.
    """
    info = await events.get(client, event_id)
    definition = definition_of(registry, info.kind)
    check_read(principal, info.details, definition)
    return info, definition


def _withhold(person: Person) -> Person:
    return person.model_copy(update={"email": None, "webhook_url": None})


def _redact(person: Person) -> Person:
    return person.model_copy(update={"webhook_url": redact_url(person.webhook_url)})


def _delivery(d: DeliveryRecord, withhold: bool) -> DeliveryRecord:
    if withhold and d.channel in ("email", "webhook"):
        return d.model_copy(update={"to": WITHHELD})
    if d.to.startswith(("http://", "https://")):
        return d.model_copy(update={"to": redact_url(d.to)})
    return d


def _mode(principal: Principal, event: EventDetails, definition: Definition | None) -> str:
    """``all``, ``redact`` or ``withhold``."""
    if not sees_contacts(principal, event, definition):
        return "withhold"
    return "redact" if principal.read_only else "all"


def state_for(principal: Principal, view: StateView, definition: Definition | None) -> StateView:
    """The event view as `principal` may see it (they may read the event: checked before)."""
    mode = _mode(principal, view.event, definition)
    if mode == "all":
        return view
    fix = _withhold if mode == "withhold" else _redact
    event = view.event
    team = {role: [fix(p) for p in people] for role, people in event.team.items()}
    hooks = [] if mode == "withhold" else [redact_url(url) or "" for url in event.webhooks]
    speakers = [s.model_copy(update={"person": fix(s.person)}) for s in view.speaker_list]
    deliveries = [_delivery(d, mode == "withhold") for d in view.deliveries]
    plan = [e.model_copy(update={"phone": None}) for e in view.emergency_plan] if mode == "withhold" \
        else view.emergency_plan
    return view.model_copy(update={"event": event.model_copy(update={"webhooks": hooks, "team": team}),
                                   "speaker_list": speakers, "deliveries": deliveries, "emergency_plan": plan})


def attendees_for(principal: Principal, page: AttendeePage, event: EventDetails,
                  definition: Definition | None) -> AttendeePage:
    """A page of attendees as `principal` may see it."""
    mode = _mode(principal, event, definition)
    if mode == "all":
        return page
    fix = _withhold if mode == "withhold" else _redact
    items = [a.model_copy(update={"person": fix(a.person)}) for a in page.items]
    return page.model_copy(update={"items": items})


def deliveries_for(principal: Principal, items: Sequence[DeliveryRecord], event: EventDetails,
                   definition: Definition | None) -> list[DeliveryRecord]:
    """Deliveries as `principal` may see them: webhook URLs never with credentials, addresses withheld
    where contact details are."""
    mode = _mode(principal, event, definition)
    if mode == "all":
        return list(items)
    return [_delivery(d, mode == "withhold") for d in items]
