"""Attendee acts as database transactions over HTTP: RSVP, check-in and survey, on SQLite and PostgreSQL.

The event's workflow keeps no attendees (its roster is in the database): the API checks who
may act from the event's cached details, then the roster database decides and records the act,
idempotent by its key, refused with the same problems as the workflow's refusals.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.conftest import Api, auth
from workflows.client import state


def people(*ids: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": i, "name": i.title(), "email": f"{i}@example.org", **extra} for i in ids]


async def invite(api: Api, event_id: str, *ids: str) -> dict[str, Any]:
    return await api.do("pr_communications", f"/events/{event_id}/attendees", {"attendees": people(*ids)})


async def on_site(api: Api, event_id: str) -> None:
    """Waive every open gate up to the day (as the sponsor) and wait until the database says check-in is open."""
    for _ in range(3):  # preparation, planning, promotion
        view = await api.state(event_id)
        for gate in view["gates"]:
            if gate["stage"] == view["stage"] and gate["status"] not in ("passed", "waived"):
                await api.do("sponsor", f"/events/{event_id}/decisions",
                             {"gate": gate["id"], "decision": "waive", "reason": "straight to the day"})
    await api.ready(event_id, stage="on_site", on_site=True)


async def attendee(api: Api, event_id: str, attendee_id: str) -> dict[str, Any]:
    r = await api.http.get(f"/events/{event_id}/attendees", params={"search": attendee_id},
                           headers=auth("pr_communications"))
    assert r.status_code == 200, r.text
    return next(a for a in r.json()["items"] if a["person"]["id"] == attendee_id)


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


async def test_rsvp_is_recorded_by_the_database_once_per_key(api_db: Api):
    """An RSVP is accepted, a repeat of its key answers the same, the key on another answer is 409."""
    event_id = await api_db.start()
    await invite(api_db, event_id, "ann", "bob")
    await api_db.ready(event_id)
    path = f"/events/{event_id}/attendees/ann/rsvp"
    key = {"Idempotency-Key": f"rsvp-{uuid.uuid4().hex}"}

    first = await api_db.do("pr_communications", path, {"response": "yes"}, **key)
    assert set(first) == {"result"}  # lean: no state
    assert first["result"]["act"] == "rsvp" and first["result"]["message"] == "Ann answered yes"
    assert first["result"]["stage"] == "preparation" and first["result"]["status"] == "active"
    again = await api_db.do("pr_communications", path, {"response": "yes"}, **key)
    assert again == first
    other = await api_db.http.post(path, json={"response": "no"}, headers=auth("pr_communications") | key)
    assert "idempotency key" in problem(other, 409)["detail"]

    assert (await attendee(api_db, event_id, "ann"))["rsvp"] == "yes"
    view = await api_db.state(event_id)
    assert view["attendees"]["rsvp_yes"] == 1 and view["attendees"]["invited"] == 2
    assert [a["summary"] for a in view["audit"] if a["act"] == "rsvp"] == ["Ann answered yes"]
    # the workflow itself never heard of it
    assert (await state(api_db.env.client, event_id)).attendees.rsvp_yes == 0


async def test_rsvp_refusals_and_who_may(api_db: Api):
    """Someone not invited is 422, a viewer and a role not allowed are 403, and nothing changes."""
    event_id = await api_db.start()
    await invite(api_db, event_id, "ann")
    await api_db.ready(event_id)

    r = await api_db.http.post(f"/events/{event_id}/attendees/zed/rsvp", json={"response": "yes"},
                               headers=auth("pr_communications"))
    body = problem(r, 422)
    assert body["type"] == "/problems/act-invalid" and "zed" in body["detail"] and "not invited" in body["detail"]

    for who in ("viewer", "finance"):
        r = await api_db.http.post(f"/events/{event_id}/attendees/ann/rsvp", json={"response": "no"},
                                   headers=auth(who))
        assert problem(r, 403)["type"] == "/problems/forbidden"
    assert (await attendee(api_db, event_id, "ann"))["rsvp"] is None
    view = await api_db.state(event_id)
    assert view["attendees"]["rsvp_no"] == 0 and not [a for a in view["audit"] if a["act"] == "rsvp"]

    r = await api_db.http.post("/events/no-such-event/attendees/ann/rsvp", json={"response": "yes"},
                               headers=auth("pr_communications"))
    assert problem(r, 404)["detail"] == "no such event"


async def test_attendee_acts_do_not_ask_the_workflow(api_db: Api):
    """Forty RSVPs read the event's details once (cached), not once per act."""
    event_id = await api_db.start()
    ids = [f"g{i:02d}" for i in range(40)]
    await invite(api_db, event_id, *ids)
    await api_db.ready(event_id)
    cache = api_db.app.state.convene.events
    cache.forget(event_id)
    before = cache.reads
    for i in ids:
        await api_db.do("pr_communications", f"/events/{event_id}/attendees/{i}/rsvp", {"response": "maybe"})
    assert cache.reads - before == 1
    assert (await api_db.state(event_id))["attendees"]["rsvp_maybe"] == 40


async def test_check_in_before_the_day_then_once_on_site(api_db: Api):
    """Check-in is 409 before the day; on site it is accepted once, a second is 409 saying when, by whom, where."""
    event_id = await api_db.start()
    await invite(api_db, event_id, "ann", "bob")
    await api_db.ready(event_id)
    early = await api_db.http.post(f"/events/{event_id}/attendees/ann/check-in", headers=auth("project_manager"))
    body = problem(early, 409)
    assert body["type"] == "/problems/act-conflict" and "check-in opens on site" in body["detail"]

    await on_site(api_db, event_id)
    path = f"/events/{event_id}/attendees/ann/check-in"
    key = {"Idempotency-Key": f"ci-{uuid.uuid4().hex}"}
    first = await api_db.do("project_manager", path, {"desk": "north-2"}, **key)
    assert set(first) == {"result"}
    assert first["result"]["message"] == "Ann checked in at north-2" and first["result"]["stage"] == "on_site"
    assert await api_db.do("project_manager", path, {"desk": "north-2"}, **key) == first
    reused = await api_db.http.post(path, json={"desk": "south-1"}, headers=auth("project_manager") | key)
    assert "idempotency key" in problem(reused, 409)["detail"]

    second = await api_db.http.post(path, json={"desk": "south-1"}, headers=auth("pr_communications"))
    detail = problem(second, 409)["detail"]
    record = await attendee(api_db, event_id, "ann")
    assert record["checked_in_by"] == "pia" and record["checked_in_desk"] == "north-2"
    assert detail.startswith("ann already checked in at ") and detail.endswith(" by pia at north-2")
    checked_at = detail.removeprefix("ann already checked in at ").split(" by ")[0]
    assert checked_at[:19] == record["checked_in_at"][:19]

    unknown = await api_db.http.post(f"/events/{event_id}/attendees/zed/check-in", headers=auth("project_manager"))
    assert "not invited" in problem(unknown, 422)["detail"]
    denied = await api_db.http.post(f"/events/{event_id}/attendees/bob/check-in", headers=auth("viewer"))
    problem(denied, 403)
    assert (await attendee(api_db, event_id, "bob"))["checked_in_at"] is None
    without_body = await api_db.do("pr_communications", f"/events/{event_id}/attendees/bob/check-in")
    assert without_body["result"]["message"] == "Bob checked in"
    view = await api_db.state(event_id)
    assert view["attendees"]["checked_in"] == 2


async def test_survey_after_the_end_once_per_key(api_db: Api):
    """Survey answers are 409 before the end; after it they are recorded once per key, a viewer is 403."""
    future = await api_db.start()
    await api_db.ready(future)
    body = {"responses": [{"respondent": "ann", "content": 5, "organisation": 4, "service": 3}]}
    early = await api_db.http.post(f"/events/{future}/survey", json=body, headers=auth("pr_communications"))
    assert "after the event" in problem(early, 409)["detail"]

    event_id = await api_db.start(days_ahead=-3)  # ended yesterday
    await api_db.ready(event_id)
    key = {"Idempotency-Key": f"sv-{uuid.uuid4().hex}"}
    first = await api_db.do("pr_communications", f"/events/{event_id}/survey", body, **key)
    assert set(first) == {"result"} and first["result"]["message"] == "1 survey response(s) recorded"
    assert await api_db.do("pr_communications", f"/events/{event_id}/survey", body, **key) == first
    changed = {"responses": [{"respondent": "ann", "content": 1, "organisation": 1, "service": 1}]}
    r = await api_db.http.post(f"/events/{event_id}/survey", json=changed, headers=auth("pr_communications") | key)
    problem(r, 409)
    r = await api_db.http.post(f"/events/{event_id}/survey", json=changed, headers=auth("viewer"))
    problem(r, 403)
    [answer] = await api_db.roster.survey(event_id)
    assert (answer.respondent, answer.content, answer.organisation, answer.service) == ("ann", 5, 4, 3)
