"""Open registration with a capacity and a waiting list, through the public page, with the worker's messages.

The conference's definition here takes open registration (shipped kinds are invite-only); the event has
2 places. Messages are the real notifier's (sends recorded), started as durable workflows by the API.
"""

from __future__ import annotations

from typing import Any

from definitions import Registry, shipped
from tests.api.conftest import Api, auth
from tests.support import eventually


def open_registry() -> Registry:
    conference = shipped().get("conference")
    return Registry({"conference": conference.model_copy(update={"registration": "open", "offer_hours": 24})})


def to(api: Api, email: str, kind: str) -> list[Any]:
    return [n for n in api.stand_ins.notifications if n.recipient.email == email and n.kind == kind]


async def register(api: Api, event_id: str, name: str, email: str) -> Any:
    return await api.http.post(f"/r/{event_id}", data={"name": name, "email": email})


async def test_two_places_then_a_waiting_list_and_a_no_offers_the_place_to_the_next(api: Api):
    """Two register and get a ticket by email (its QR code in it); the third and fourth wait, numbered 1 and 2;
    the page says the same to everyone, also to a repeat; the first says no on their own page, and number 1
    is offered the place by email, with their link; they confirm there and get their ticket."""
    api.app.state.convene.registry = open_registry()
    event_id = await api.start(capacity=2)
    await api.ready(event_id)
    page = await api.http.get(f"/r/{event_id}")
    assert page.status_code == 200 and 'id="register-form"' in page.text

    answers = [await register(api, event_id, n, f"{n.lower()}@example.org") for n in ("Ann", "Bob", "Cai", "Dee")]
    again = await register(api, event_id, "Ann", "ANN@example.org")
    assert {r.status_code for r in answers + [again]} == {200}
    assert len({r.text.split("<main")[1] for r in answers + [again]}) == 1  # the same words for everyone

    await eventually(lambda: to(api, "ann@example.org", "ticket") and to(api, "bob@example.org", "ticket")
                     and to(api, "dee@example.org", "waitlist"), seconds=30)
    [ticket] = to(api, "ann@example.org", "ticket")
    assert ticket.context["ticket_code"] and ticket.context["personal_link"]
    assert [n.context["waitlist_position"] for n in to(api, "cai@example.org", "waitlist")] == [1]
    assert [n.context["waitlist_position"] for n in to(api, "dee@example.org", "waitlist")] == [2]

    ann = ticket.context["personal_link"].removeprefix("http://127.0.0.1:8000")
    r = await api.http.post(f"{ann}/rsvp", data={"key": "ann-no", "response": "no"}, follow_redirects=False)
    assert r.status_code == 303
    await eventually(lambda: [n for n in to(api, "cai@example.org", "waitlist") if "offered_until" in n.context],
                     seconds=30)
    [offer] = [n for n in to(api, "cai@example.org", "waitlist") if "offered_until" in n.context]
    assert not [n for n in to(api, "dee@example.org", "waitlist") if "offered_until" in n.context]
    cai = offer.context["personal_link"].removeprefix("http://127.0.0.1:8000")
    assert 'id="offered"' in (await api.http.get(cai)).text
    r = await api.http.post(f"{cai}/rsvp", data={"key": "cai-yes", "response": "yes"}, follow_redirects=False)
    assert r.status_code == 303
    await eventually(lambda: to(api, "cai@example.org", "ticket"), seconds=30)
    dee = to(api, "dee@example.org", "waitlist")[0].context["personal_link"].removeprefix("http://127.0.0.1:8000")
    assert "number 1" in (await api.http.get(dee)).text
    counts = (await api.http.get(f"/events/{event_id}/check-in/counts", headers=auth("pr_communications"))).json()
    assert counts["rsvp_yes"] == 2


async def test_an_invite_only_event_takes_no_registration_and_bad_forms_change_nothing(api: Api):
    event_id = await api.start()
    await api.ready(event_id)
    assert (await api.http.get(f"/r/{event_id}")).status_code == 404
    assert (await register(api, event_id, "Eve", "eve@example.org")).status_code == 404
    api.app.state.convene.registry = open_registry()
    other = await api.start(capacity=5)
    await api.ready(other)
    for name, email in (("", "x@example.org"), ("Eve", "not-an-address"), ("Eve", "")):
        assert (await register(api, other, name, email)).status_code == 422
    assert (await api.roster.counts(other))["invited"] == 0
