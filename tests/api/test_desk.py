"""The check-in desk's scan: green, amber (when, by whom, where), red (why), from the ticket a person holds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from api.routes.desk import next_item
from convene.settings import link_key
from store import Links
from tests.api.conftest import Api, auth
from tests.api.test_personal import answer, invited
from tests.api.test_roster import on_site
from workflows.messages import AgendaItem, AgendaItemView


async def ticket_of(api: Api, event_id: str, person_id: str) -> str:
    """The code in the person's QR ticket: the store gives the same ticket link for a person every time."""
    facts = await api.roster.facts(event_id)
    key = link_key(api.app.state.convene.settings)
    return await Links(api.db, key).token(event_id, person_id, "ticket", facts.end + timedelta(days=31))


async def scan(api: Api, event_id: str, code: str, who: str = "pr_communications", desk: str = "lane 3",
               expect: int = 200) -> dict:
    r = await api.http.post(f"/events/{event_id}/check-in/scan", json={"code": code, "desk": desk}, headers=auth(who))
    assert r.status_code == expect, r.text
    return r.json()


async def test_a_ticket_checks_in_once_then_shows_amber_and_others_red(api_db: Api):
    """Ann said yes through her link: her ticket is green once (counts move), amber after (saying when, by whom,
    at which desk); Bob, who declined, is red; a ticket of another event, a tampered code and a typed name are red
    and change nothing; a viewer may not scan."""
    event_id = await api_db.start()
    await api_db.ready(event_id)
    ann = await invited(api_db, event_id, "ann")
    bob = await invited(api_db, event_id, "bob")
    assert (await answer(api_db, f"{ann}/rsvp", key="a1", response="yes")).status_code == 303
    assert (await answer(api_db, f"{bob}/rsvp", key="b1", response="no")).status_code == 303
    ticket = await ticket_of(api_db, event_id, "ann")

    early = await scan(api_db, event_id, ticket)
    assert (early["verdict"], early["reason"]) == ("red", "not_open")
    await on_site(api_db, event_id)

    first = await scan(api_db, event_id, ticket, desk="lane 3")
    assert (first["verdict"], first["name"], first["desk"], first["counts"]["checked_in"]) == ("green", "Ann", "lane 3", 1)
    again = await scan(api_db, event_id, ticket, who="project_manager", desk="lane 7")
    assert (again["verdict"], again["checked_in_by"], again["desk"]) == ("amber", "prue", "lane 3")
    assert again["checked_in_at"] == first["checked_in_at"] and "already checked in" in again["message"]

    declined = await scan(api_db, event_id, await ticket_of(api_db, event_id, "bob"))
    assert (declined["verdict"], declined["reason"]) == ("red", "declined")
    other = await api_db.start()
    await api_db.ready(other)
    foreign = await Links(api_db.db, link_key(api_db.app.state.convene.settings)).token(
        other, "ann", "ticket", (await api_db.roster.facts(other)).end)
    for code in (foreign, ticket[:-2] + "xx", "Ann", ann.removeprefix("/p/")):  # another event's; tampered; a name; a page link
        verdict = await scan(api_db, event_id, code)
        assert (verdict["verdict"], verdict["reason"]) == ("red", "not_a_ticket"), code
    assert (await api_db.roster.counts(event_id))["checked_in"] == 1
    await scan(api_db, event_id, ticket, who="viewer", expect=403)


async def test_the_desk_page_is_served_in_the_person_language(api: Api):
    """The page is a shell (no data without a token) in the negotiated language, with the decoder from our files."""
    page = await api.http.get("/ui/events/some-event/desk", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and '<html lang="zh-Hans">' in page.text and "签到台" in page.text
    assert "/static/vendor/jsqr/jsQR.js" in page.text and "http" not in page.text.split("<body>")[0].replace(
        'content="width', "")
    decoder = await api.http.get("/static/vendor/jsqr/jsQR.js")
    assert decoder.status_code == 200 and "jsQR" in decoder.text


async def test_a_green_scan_says_where_to_go_next(api_db: Api):
    """Checked in, the guest is told the room and title of the agenda item next to start (from the event's
    state): the opening before the keynote, the keynote's own room; red and amber answers carry none."""
    event_id = await api_db.start()
    await api_db.ready(event_id)
    start = datetime.fromisoformat((await api_db.state(event_id))["event"]["start"])
    items = [{"id": "keynote", "kind": "keynote", "title": "Durable events", "room": "Hall B",
              "start": (start + timedelta(minutes=30)).isoformat(), "minutes": 45},
             {"id": "opening", "kind": "opening", "title": "Welcome", "room": "Hall A",
              "start": start.isoformat(), "minutes": 20}]
    r = await api_db.http.put(f"/events/{event_id}/agenda", json={"items": items}, headers=auth("activity_planner"))
    assert r.status_code == 200, r.text
    ann = await invited(api_db, event_id, "ann")
    assert (await answer(api_db, f"{ann}/rsvp", key="a1", response="yes")).status_code == 303
    ticket = await ticket_of(api_db, event_id, "ann")
    assert (await scan(api_db, event_id, ticket))["next_item"] is None  # red: not open yet
    await on_site(api_db, event_id)

    green = await scan(api_db, event_id, ticket)
    assert green["verdict"] == "green"
    assert (green["next_item"]["room"], green["next_item"]["title"]) == ("Hall A", "Welcome")
    assert datetime.fromisoformat(green["next_item"]["start"]) == start
    assert (await scan(api_db, event_id, ticket))["next_item"] is None  # amber


def test_next_item_is_the_running_or_next_one_and_none_after_the_last() -> None:
    """The item running now comes before the next; items done or over are passed by."""
    t0 = datetime(2030, 5, 1, 9, 0, tzinfo=timezone.utc)
    def view(i: str, minutes_in: int, status: str = "planned") -> AgendaItemView:
        item = AgendaItem(id=i, kind="session", title=i.title(), start=t0 + timedelta(minutes=minutes_in),
                          minutes=30, room=f"room {i}")
        return AgendaItemView(item=item, projected_start=item.start, status=status)  # type: ignore[arg-type]
    agenda = [view("b", 40), view("a", 0, "running"), view("z", -60, "done")]
    assert next_item(agenda, t0 + timedelta(minutes=10)).title == "A"  # type: ignore[union-attr]
    assert next_item(agenda, t0 + timedelta(minutes=35)).room == "room b"  # type: ignore[union-attr]
    assert next_item(agenda, t0 + timedelta(hours=2)) is None
    assert next_item([], t0) is None
