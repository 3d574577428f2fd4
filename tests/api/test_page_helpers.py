"""What the event page asks besides the event view: the attendee list, what the caller may do, dev sign-in."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from api import create_app
from tests.api.conftest import TOKENS, Api, api_settings, auth, serve


async def invite(api: Api, event_id: str, n: int) -> None:
    people = [{"id": f"guest-{i:03}", "name": f"Guest {i:03}", "email": f"guest{i}@example.org",
               "webhook_url": "https://user:secret@hooks.example.org/in?token=abc"} for i in range(n)]
    await api.do("pr_communications", f"/events/{event_id}/attendees", {"attendees": people})


async def test_attendees_are_listed_a_page_at_a_time_and_filtered(api: Api):
    """120 attendees come back in invitation order, a page at a time, filtered by RSVP and search."""
    event_id = await api.start()
    await invite(api, event_id, 120)
    for i in (3, 4, 5):
        await api.do("pr_communications", f"/events/{event_id}/attendees/guest-{i:03}/rsvp", {"response": "yes"})
    await api.do("pr_communications", f"/events/{event_id}/attendees/guest-007/rsvp", {"response": "no"})

    first = (await api.http.get(f"/events/{event_id}/attendees", headers=auth("pr_communications"))).json()
    assert (first["total"], first["matched"], len(first["items"])) == (120, 120, 50)
    assert [a["person"]["id"] for a in first["items"][:2]] == ["guest-000", "guest-001"]  # invitation order
    last = (await api.http.get(f"/events/{event_id}/attendees?offset=100&limit=50",
                               headers=auth("pr_communications"))).json()
    assert [a["person"]["id"] for a in last["items"]] == [f"guest-{i:03}" for i in range(100, 120)]

    yes = (await api.http.get(f"/events/{event_id}/attendees?rsvp=yes", headers=auth("viewer"))).json()
    assert [a["person"]["id"] for a in yes["items"]] == ["guest-003", "guest-004", "guest-005"]
    unanswered = (await api.http.get(f"/events/{event_id}/attendees?rsvp=none&limit=1", headers=auth("viewer"))).json()
    assert unanswered["matched"] == 116
    found = (await api.http.get(f"/events/{event_id}/attendees?search=GUEST%20011", headers=auth("viewer"))).json()
    assert [a["person"]["id"] for a in found["items"]] == ["guest-011"]
    by_mail = (await api.http.get(f"/events/{event_id}/attendees?search=guest42@", headers=auth("viewer"))).json()
    assert [a["person"]["id"] for a in by_mail["items"]] == ["guest-042"]

    # a viewer sees webhook URLs without the credentials and query they may carry; the team sees them whole
    assert found["items"][0]["person"]["webhook_url"] == "https://hooks.example.org/in"
    assert first["items"][0]["person"]["webhook_url"].endswith("?token=abc")


async def test_bad_attendee_queries_are_422_and_unknown_events_404(api: Api):
    """Out-of-range paging or unknown filters are 422, an unknown event 404, no token 401."""
    event_id = await api.start()
    for query in ("limit=0", "limit=501", "offset=-1", "rsvp=perhaps", "checked_in=sometimes"):
        r = await api.http.get(f"/events/{event_id}/attendees?{query}", headers=auth("viewer"))
        assert r.status_code == 422, query
    r = await api.http.get("/events/no-such-event/attendees", headers=auth("viewer"))
    assert r.status_code == 404
    r = await api.http.get(f"/events/{event_id}/attendees")
    assert r.status_code == 401


async def test_check_in_before_the_day_is_refused_and_the_desk_shows_nobody_in(api: Api):
    """A check-in before the day is 409 and the desk lists everyone as not checked in."""
    event_id = await api.start()
    await invite(api, event_id, 3)
    r = await api.http.post(f"/events/{event_id}/attendees/guest-001/check-in", headers=auth("project_manager"))
    assert r.status_code == 409 and "check-in opens on site" in r.json()["detail"]
    inside = (await api.http.get(f"/events/{event_id}/attendees?checked_in=true", headers=auth("viewer"))).json()
    outside = (await api.http.get(f"/events/{event_id}/attendees?checked_in=false", headers=auth("viewer"))).json()
    assert (inside["matched"], outside["matched"]) == (0, 3)


async def test_may_says_which_buttons_each_person_gets(api: Api):
    """`may` offers each person the gates, tasks and acts the API would accept from them, and nothing once over."""
    event_id = await api.start()

    async def may(key: str) -> dict:
        r = await api.http.get(f"/ui/api/events/{event_id}/may", headers=auth(key))
        assert r.status_code == 200, r.text
        return r.json()

    pm, finance, approver, viewer, sponsor = [await may(k) for k in (
        "project_manager", "finance", "finance_approver", "viewer", "sponsor")]
    # the gates of the current stage: only the finance approver decides the budget; waiving is the sponsor's
    # and the project manager's
    assert approver["gates"]["budget_approved"] == {"approve": "finance_approver", "reject": "finance_approver",
                                                    "waive": None}
    assert pm["gates"]["budget_approved"]["approve"] is None and pm["gates"]["budget_approved"]["waive"]
    assert set(pm["gates"]) == {"theme_recorded", "budget_approved", "date_venue_confirmed", "team_ready"}
    # tasks of the current stage: the owner of the event may complete any; finance only its own
    assert pm["tasks"]["budget_draft"] == "project_manager"
    assert finance["tasks"]["budget_draft"] == "finance" and finance["tasks"]["theme_purpose"] is None
    # every other act, by update name
    assert pm["acts"]["cancel"] == "project_manager" and sponsor["acts"]["cancel"] == "sponsor"
    assert finance["acts"]["record_budget"] == "finance" and finance["acts"]["cancel"] is None
    assert approver["acts"]["set_agenda"] is None
    assert set(pm["acts"]) >= {"record_budget", "invite_speaker", "speaker_reply", "speaker_itinerary", "set_agenda",
                               "start_item", "end_item", "invite_attendees", "rsvp", "check_in", "report_incident",
                               "acknowledge_incident", "resolve_incident", "record_survey", "send_back", "postpone"}
    assert pm["cancellable"] and pm["send_back_to"] == []  # the first stage: nothing earlier to go back to
    assert viewer == {"gates": {}, "tasks": {}, "acts": {}, "send_back_to": [], "cancellable": False}

    # each role offered is one the API then accepts: finance completes its task as finance
    done = await api.do("finance", f"/events/{event_id}/tasks/budget_draft/complete")
    assert done["result"]["act"] == "complete_task" and done["result"]["seq"] > 0
    assert "budget_draft" not in (await may("finance"))["tasks"]  # done tasks get no button

    await api.do("project_manager", f"/events/{event_id}/cancel", {"reason": "venue lost"})
    nothing = {"gates": {}, "tasks": {}, "acts": {}, "send_back_to": [], "cancellable": False}
    assert await may("project_manager") == nothing  # an ended event takes no acts


async def test_one_click_sign_in_is_only_for_a_dev_stack(api: Api, tmp_path: Path):
    """Dev sign-in offers only tokens the API accepts, and only to a loopback caller naming a loopback host."""
    r = await api.http.get("/ui/api/dev-people")
    assert (r.status_code, r.json()) == (200, [])  # not configured: nobody is offered

    tokens_file = tmp_path / "dev-tokens.json"
    tokens_file.write_text(json.dumps({"pia": TOKENS["project_manager"], "vic": TOKENS["viewer"],
                                       "ghost": "a token nobody holds"}))
    app = create_app(api_settings(api.task_queue, dev_sign_in=tokens_file), client=api.env.client)
    async with serve(app) as http:
        r = await http.get("http://127.0.0.1:8000/ui/api/dev-people")
        people = r.json()
        assert r.headers["cache-control"] == "no-store"
        # the same machine, but a page of another site reaching it (DNS rebinding) names its own host
        rebound = await http.get("http://127.0.0.1:8000/ui/api/dev-people", headers={"Host": "evil.example:8000"})
        assert rebound.json() == []
        # the API reached by a non-loopback name (a shared deployment with the setting left on)
        assert (await http.get("http://convene.test/ui/api/dev-people")).json() == []
        far = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
        async with httpx.AsyncClient(transport=far, base_url="http://localhost") as remote:
            assert (await remote.get("/ui/api/dev-people")).json() == []
    # only tokens the API accepts, with the name and roles it knows them by
    assert sorted((p["id"], p["roles"], p["token"]) for p in people) == [
        ("pia", ["project_manager"], TOKENS["project_manager"]), ("vic", ["viewer"], TOKENS["viewer"])]
