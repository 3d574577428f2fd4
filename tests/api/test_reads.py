"""Reading what grows with people from the database: the event view merged, the audit and deliveries paged.

Also: events recorded before the database are read from their workflow, a database that cannot
be reached is a 503, and every new route documents its answers in OpenAPI.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from api import create_app
from api.views import audit_of_state, deliveries_of_state, invitations_of_state
from tests.api.conftest import Api, api_settings, auth, serve
from workflows.client import state
from workflows.messages import AttendeeQuery, AuditEntry, DeliveryRecord

PR = "pr_communications"


async def _invite(api: Api, event_id: str, people: list[dict[str, Any]]) -> None:
    await api.do(PR, f"/events/{event_id}/attendees", {"attendees": people})
    await api.ready(event_id)


async def test_the_event_view_counts_come_from_the_database(api: Api):
    """RSVPs, check-in counts and special needs in the event view are the roster database's, not the workflow's."""
    event_id = await api.start()
    await _invite(api, event_id, [
        {"id": "ann", "name": "Ann", "needs": ["accessibility"], "needs_note": "step-free access"},
        {"id": "bob", "name": "Bob", "needs": ["diet"]},
        {"id": "cyd", "name": "Cyd"},
        {"id": "dee", "name": "Dee"},
    ])
    for who, answer in (("ann", "yes"), ("bob", "no"), ("cyd", "maybe"), ("dee", "yes")):
        await api.do(PR, f"/events/{event_id}/attendees/{who}/rsvp", {"response": answer})

    view = await api.state(event_id)
    counts = {k: view["attendees"][k] for k in ("invited", "rsvp_yes", "rsvp_no", "rsvp_maybe", "checked_in",
                                                 "expected")}
    assert counts == {"invited": 4, "rsvp_yes": 2, "rsvp_no": 1, "rsvp_maybe": 1, "checked_in": 0, "expected": 300}
    # bob declined: reception need not plan for him
    assert view["special_needs"] == [{"attendee_id": "ann", "name": "Ann", "needs": ["accessibility"],
                                      "note": "step-free access", "checked_in": False}]
    rsvps = [a["summary"] for a in view["audit"] if a["act"] == "rsvp"]
    assert rsvps == ["Ann answered yes", "Bob answered no", "Cyd answered maybe", "Dee answered yes"]
    assert view["audit_total"] == len(view["audit"])  # fewer than 50: all of them are here
    assert view["invitations"]["invited"] == 4
    workflow = await state(api.env.client, event_id)
    assert (workflow.attendees.rsvp_yes, workflow.special_needs) == (0, [])
    # a team act answers its outcome only (the page reads the event as the view shows it)
    out = await api.do("project_manager", f"/events/{event_id}/tasks/theme_purpose/complete")
    assert out["result"]["act"] == "complete_task" and out.get("state") is None


async def test_the_audit_is_paged_newest_first_and_the_view_keeps_the_newest_50(api: Api):
    """Seventy entries: the view holds the newest 50 and the total; the audit route pages all of them once."""
    event_id = await api.start()
    await _invite(api, event_id, [{"id": f"g{i:02d}", "name": f"G{i:02d}"} for i in range(60)])
    for task in ("theme_purpose", "date_checked", "team_assigned"):
        await api.do("project_manager", f"/events/{event_id}/tasks/{task}/complete")
    for i in range(60):
        await api.do(PR, f"/events/{event_id}/attendees/g{i:02d}/rsvp", {"response": "yes"})

    view = await api.state(event_id)
    for _ in range(200):  # the workflow writes its entries to the database a moment after recording them
        r = await api.http.get(f"/events/{event_id}/audit", params={"limit": 1}, headers=auth("viewer"))
        if r.json()["total"] == view["audit_total"]:
            break
        await asyncio.sleep(0.05)
        view = await api.state(event_id)
    total = view["audit_total"]
    workflow = await state(api.env.client, event_id)
    assert total == workflow.audit_total + 60 and total >= 64
    assert len(view["audit"]) == 50 and view["audit"][-1]["summary"] == "G59 answered yes"

    newest: list[dict[str, Any]] = []
    for offset in range(0, total, 7):
        r = await api.http.get(f"/events/{event_id}/audit", params={"offset": offset, "limit": 7},
                               headers=auth("viewer"))
        assert r.status_code == 200, r.text
        page = r.json()
        assert (page["total"], page["offset"], page["limit"], page["order"]) == (total, offset, 7, "newest")
        newest += page["items"]
    assert len(newest) == total
    assert newest[0]["summary"] == "G59 answered yes" and newest[-1]["seq"] == 1
    assert [e["at"] for e in newest] == sorted((e["at"] for e in newest), reverse=True)
    assert newest[:50] == list(reversed(view["audit"]))

    r = await api.http.get(f"/events/{event_id}/audit", params={"order": "oldest", "limit": 500},
                           headers=auth("viewer"))
    assert r.json()["items"] == list(reversed(newest))
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"order": "random"}):
        assert (await api.http.get(f"/events/{event_id}/audit", params=bad, headers=auth("viewer"))).status_code == 422
    assert (await api.http.get("/events/no-such-event/audit", headers=auth("viewer"))).status_code == 404
    assert (await api.http.get(f"/events/{event_id}/audit")).status_code == 401


async def test_deliveries_are_paged_with_counts(api: Api):
    """The team's notifications land in the journal; the deliveries route pages them newest first with counts."""
    event_id = await api.start()
    for gate in ("theme_recorded", "budget_approved", "date_venue_confirmed"):  # team_ready: the team is whole
        await api.do("sponsor", f"/events/{event_id}/decisions", {"gate": gate, "decision": "waive", "reason": "ok"})
    body: dict[str, Any] = {}
    for _ in range(200):  # leaving preparation tells the owner, entering planning its roles (log and email each)
        body = (await api.http.get(f"/events/{event_id}/deliveries", params={"limit": 2},
                                   headers=auth("viewer"))).json()
        if body["total"] >= 6:
            break
        await asyncio.sleep(0.05)
    assert (body["total"], body["counts"], len(body["items"])) == (6, {"sent": 6}, 2)
    assert body["items"][0]["at"] >= body["items"][1]["at"]
    rest = (await api.http.get(f"/events/{event_id}/deliveries", params={"offset": 2, "limit": 500},
                               headers=auth("viewer"))).json()
    assert len(rest["items"]) == 4
    kinds = sorted(d["kind"] for d in body["items"] + rest["items"])
    assert kinds == ["stage_entered"] * 4 + ["stage_left"] * 2
    view = await api.state(event_id)
    assert sorted(d["key"] for d in view["deliveries"]) == sorted(d["key"] for d in body["items"] + rest["items"])


async def test_events_said_to_keep_their_roster_in_memory_go_to_their_workflow(api: Api,
                                                                           monkeypatch: pytest.MonkeyPatch):
    """An event cached as keeping its roster in its workflow is asked there; its refusal (the roster moved to
    the database) makes the API read the event again and do the act in the database."""
    event_id = await api.start()
    await _invite(api, event_id, [{"id": "ann", "name": "Ann"}])
    cache = api.app.state.convene.events
    info = await cache.get(api.env.client, event_id)

    async def no_facts(event_id: str, conn: Any = None) -> None:
        return None  # as if the database had no record of the event yet

    monkeypatch.setattr(api.app.state.convene.roster, "facts", no_facts)
    for call in (lambda: api.http.get(f"/events/{event_id}/attendees", headers=auth("viewer")),
                 lambda: api.http.post(f"/events/{event_id}/attendees/ann/rsvp", json={"response": "yes"},
                                       headers=auth(PR))):
        cache._put(event_id, type(info)(details=info.details, kind=info.kind, roster="memory"))
        reads = cache.reads
        r = await call()
        assert r.status_code == 200, r.text
        assert cache.reads == reads + 1  # the workflow refused: the event was read again
        assert (await cache.get(api.env.client, event_id)).roster == "database"
    assert (await api.roster.page(event_id, AttendeeQuery())).items[0].rsvp == "yes"


async def test_pagers_of_a_state_kept_in_memory(api: Api):
    """For an event recorded before the database, audit, deliveries and invitations are paged from its state."""
    event_id = await api.start()
    view = await state(api.env.client, event_id)
    at = view.stage_entered_at
    audit = [AuditEntry(seq=i, at=at, act="complete_task", actor="pia", role="project_manager", summary=f"s{i}")
             for i in range(1, 8)]
    deliveries = [DeliveryRecord(key=f"{event_id}:attendee.k:{p}:email", kind="invitation", channel="email",
                                 to=f"{p}@example.org", status=s) for p, s in
                  (("ann", "failed"), ("ann", "sent"), ("bob", "failed"), ("cyd", "skipped"))]
    old = view.model_copy(update={"roster": "memory", "audit": audit, "deliveries": deliveries,
                                  "attendees": view.attendees.model_copy(update={"invited": 5})})
    total, items = audit_of_state(old, 2, 3, "newest")
    assert (total, [e.seq for e in items]) == (7, [5, 4, 3])
    assert [e.seq for e in audit_of_state(old, 0, 2, "oldest")[1]] == [1, 2]
    counts, newest = deliveries_of_state(old, 0, 2)
    assert counts == {"failed": 2, "sent": 1, "skipped": 1} and [d.to for d in newest] == [
        "cyd@example.org", "bob@example.org"]
    progress = invitations_of_state(old)
    assert progress.model_dump() == {"invited": 5, "sent": 1, "failed": 1, "skipped": 1, "pending": 2}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_503_when_the_database_cannot_be_reached(api: Api):
    """An app whose database is down still starts; its database routes and /readyz answer 503 with Retry-After."""
    event_id = await api.start()
    down = f"postgresql+asyncpg://nobody@127.0.0.1:{_free_port()}/convene"
    app = create_app(api_settings(api.task_queue, database_url=down, retry_after_seconds=4), client=api.env.client)
    async with serve(app) as http:
        r = await http.get(f"/events/{event_id}/attendees", headers=auth("viewer"))
        assert r.status_code == 503 and r.headers["retry-after"] == "4"
        assert r.json()["detail"] == "the database is unavailable; try again shortly"
        r = await http.post(f"/events/{event_id}/attendees/ann/rsvp", json={"response": "yes"}, headers=auth(PR))
        assert r.status_code == 503
        r = await http.get("/readyz")
        assert r.status_code == 503 and r.json()["detail"] == "the database is not reachable"
        r = await http.get("/definitions", headers=auth("viewer"))
        assert r.status_code == 200  # what needs no database still works


def test_new_routes_document_their_answers():
    """Each roster route names its answer model and its problem statuses in OpenAPI (400: a body that cannot be
    parsed, documented on every route with a body by api.contract)."""
    spec = create_app(api_settings("unused")).openapi()
    paths = spec["paths"]
    expected = {
        ("post", "/events/{event_id}/attendees"): {"200", "400", "401", "403", "404", "409", "422", "503"},
        ("post", "/events/{event_id}/attendees/import"): {"200", "400", "401", "403", "404", "409", "413", "415",
                                                          "422", "503"},
        ("post", "/events/{event_id}/attendees/{attendee_id}/rsvp"): {"200", "400", "401", "403", "404", "409", "422",
                                                                      "503"},
        ("post", "/events/{event_id}/attendees/{attendee_id}/check-in"): {"200", "400", "401", "403", "404", "409",
                                                                          "422", "503"},
        ("post", "/events/{event_id}/survey"): {"200", "400", "401", "403", "404", "409", "422", "503"},
        ("get", "/events/{event_id}/attendees"): {"200", "401", "404", "422", "503"},
        ("get", "/events/{event_id}/audit"): {"200", "401", "404", "422", "503"},
        ("get", "/events/{event_id}/deliveries"): {"200", "401", "404", "422", "503"},
        ("get", "/events/{event_id}/invitations"): {"200", "401", "404", "422", "503"},
    }
    for (method, path), statuses in expected.items():
        op = paths[path][method]
        assert set(op["responses"]) == statuses, (method, path)
        assert all(op["responses"][s]["description"] for s in statuses)
    assert "text/csv" in paths["/events/{event_id}/attendees/import"]["post"]["requestBody"]["content"]
    schemas = spec["components"]["schemas"]
    assert "state" not in schemas["ActOutcome"]["required"]
    assert {"invited", "skipped"} <= set(schemas["InviteOutcome"]["properties"])
    assert schemas["CheckInIn"]["properties"]["desk"]["anyOf"][0]["maxLength"] == 64
    assert set(schemas["AuditPageOut"]["properties"]) == {"total", "offset", "limit", "order", "items"}
