"""The authorisation matrix: every mutating route x every role, each cell asserted.

A cell is *allowed* (the answer is anything but 401/403, and no server error) or
*denied* (403 problem+json from the API's own check, before Temporal is asked, and
the event's state is unchanged; the workflow's check behind it is the second line). The expected
roles come from the conference definition as a person reads it, not from the
API's code, so a wrong check in either shows up as a failing cell.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import FastAPI

from api import create_app
from tests.api.conftest import ROLES, Api, api_settings, auth, event_body
from workflows.messages import ACT_NAMES

PM, FIN, APPROVER, SPONSOR = "project_manager", "finance", "finance_approver", "sponsor"
PLANNER, PR, VENUE, TECH, COMMAND = ("activity_planner", "pr_communications", "venue_coordinator",
                                     "technical_support", "on_site_command")


@dataclass(frozen=True)
class Row:
    """One mutating route with one body, and the roles a conference allows for it."""

    name: str
    route: str
    allowed: frozenset[str]
    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    setup: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    method: str = "POST"
    csv: str | None = None
    """A CSV body (text/csv) instead of JSON."""


def _later(days: int) -> str:
    return (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()


E = "/events/{event_id}"
O = "/organisations/{organisation}/subscriptions"
MATRIX: list[Row] = [
    Row("start", "/events", frozenset({PM})),
    Row("approve budget", f"{E}/decisions", frozenset({APPROVER}), {"gate": "budget_approved", "decision": "approve"}),
    Row("approve go/no-go", f"{E}/decisions", frozenset({PM, SPONSOR}), {"gate": "go_decision", "decision": "approve"}),
    Row("waive a gate", f"{E}/decisions", frozenset({SPONSOR, PM}),
        {"gate": "theme_recorded", "decision": "waive", "reason": "agreed at kick-off"}),
    Row("task owned by the pm", f"{E}/tasks/{{task_id}}/complete", frozenset({PM}), {}, {"task_id": "theme_purpose"}),
    Row("task owned by finance", f"{E}/tasks/{{task_id}}/complete", frozenset({FIN, PM}), {"note": "v1"},
        {"task_id": "budget_draft"}),
    Row("task owned by the venue", f"{E}/tasks/{{task_id}}/complete", frozenset({VENUE, PM}), None,
        {"task_id": "site_inspection"}),
    Row("budget", f"{E}/budget", frozenset({PM, FIN}), {"lines": [{"category": "venue", "planned": "100"}]}),
    Row("remove a budget line", f"{E}/budget/{{category}}", frozenset({PM, FIN}), None, {"category": "venue"},
        setup=((FIN, "/budget", {"lines": [{"category": "venue", "planned": "100"}]}),), method="DELETE"),
    Row("invite speaker", f"{E}/speakers", frozenset({PLANNER, PM}),
        {"speaker": {"id": "kim", "name": "Kim"}, "slot": "keynote"}),
    Row("speaker reply", f"{E}/speakers/{{speaker_id}}/reply", frozenset({PLANNER, PM}), {"response": "accepted"},
        {"speaker_id": "kim"}, setup=((PLANNER, "/speakers", {"speaker": {"id": "kim", "name": "Kim"}}),)),
    Row("speaker itinerary", f"{E}/speakers/{{speaker_id}}/itinerary", frozenset({PLANNER, PM}),
        {"lodging": "Hotel Lumen", "pickup": "Gare de Lyon"}, {"speaker_id": "kim"},
        setup=((PLANNER, "/speakers", {"speaker": {"id": "kim", "name": "Kim"}}),
               (PLANNER, "/speakers/kim/reply", {"response": "accepted"}))),
    Row("set agenda", f"{E}/agenda", frozenset({PLANNER, PM}), {"items": [
        {"id": "opening", "kind": "opening", "title": "Welcome", "start": _later(120), "minutes": 20}]}, method="PUT"),
    Row("start agenda item", f"{E}/agenda/{{item_id}}/start", frozenset({COMMAND, PLANNER, PM}), None,
        {"item_id": "opening"}, setup=(
            (PLANNER, "/agenda", {"items": [{"id": "opening", "kind": "opening", "title": "Welcome",
                                             "start": _later(120), "minutes": 20}]}),)),
    Row("end agenda item", f"{E}/agenda/{{item_id}}/end", frozenset({COMMAND, PLANNER, PM}), {},
        {"item_id": "opening"}, setup=(
            (PLANNER, "/agenda", {"items": [{"id": "opening", "kind": "opening", "title": "Welcome",
                                             "start": _later(120), "minutes": 20}]}),)),
    Row("change agenda item", f"{E}/agenda/{{item_id}}/change", frozenset({COMMAND, PLANNER, PM}),
        {"change": "drop", "reason": "the speaker is ill"}, {"item_id": "opening"}, setup=(
            (PLANNER, "/agenda", {"items": [{"id": "opening", "kind": "opening", "title": "Welcome",
                                             "start": _later(120), "minutes": 20}]}),)),
    Row("invite attendees", f"{E}/attendees", frozenset({PR, PM}), {"attendees": [{"id": "ann", "name": "Ann"}]}),
    Row("import attendees", f"{E}/attendees/import", frozenset({PR, PM}), {},
        csv="id,name,email\nann,Ann Lee,ann@example.org\nbob,Bob Stone,bob@example.org\n"),
    Row("rsvp", f"{E}/attendees/{{attendee_id}}/rsvp", frozenset({PR, PM}), {"response": "yes"},
        {"attendee_id": "ann"}, setup=((PR, "/attendees", {"attendees": [{"id": "ann", "name": "Ann"}]}),)),
    Row("check-in", f"{E}/attendees/{{attendee_id}}/check-in", frozenset({PR, PM}), None,
        {"attendee_id": "ann"}, setup=((PR, "/attendees", {"attendees": [{"id": "ann", "name": "Ann"}]}),)),
    Row("report incident", f"{E}/incidents", frozenset({COMMAND, PM, TECH}),
        {"category": "equipment", "severity": "low", "summary": "a microphone whistles"}),
    Row("resolve incident", f"{E}/incidents/{{incident_id}}/resolve", frozenset({COMMAND, PM, TECH}), {},
        {"incident_id": "inc-1"}, setup=((COMMAND, "/incidents", {"incident_id": "inc-1", "category": "other",
                                                                  "severity": "low", "summary": "spill"}),)),
    Row("acknowledge incident", f"{E}/incidents/{{incident_id}}/acknowledge", frozenset({COMMAND, PM, TECH}),
        {"action": "spare microphone brought"}, {"incident_id": "inc-1"},
        setup=((COMMAND, "/incidents", {"incident_id": "inc-1", "category": "equipment", "severity": "high",
                                        "summary": "sound out"}),)),
    Row("emergency plan", f"{E}/emergency-plan", frozenset({COMMAND, PM, TECH}),
        {"entries": [{"category": "injury", "role": "on_site_command", "person": "Cole", "phone": "+33 1 40 00 00 01",
                      "first_steps": ["call the first-aid post"]}]}, method="PUT"),
    Row("survey", f"{E}/survey", frozenset({PR, PM}),
        {"responses": [{"respondent": "r1", "content": 5, "organisation": 4, "service": 4}]}),
    Row("send back", f"{E}/send-back", frozenset({PM, APPROVER}), {"to_stage": "preparation", "reason": "redo"}),
    Row("postpone", f"{E}/postpone", frozenset({PM, SPONSOR}),
        {"new_start": _later(200), "new_end": _later(201), "reason": "venue works"}),
    Row("cancel", f"{E}/cancel", frozenset({PM, SPONSOR}), {"reason": "sponsor withdrew"}),
    Row("scan a ticket", f"{E}/check-in/scan", frozenset({PR, PM}), {"code": "not-a-ticket", "desk": "lane 1"}),
    # an organisation's webhook subscriptions: no role of an event grants them, only administering the
    # organisation (test_organisation_routes_take_its_admins); one organisation per row, owning no event
    Row("subscribe", O, frozenset(), {"url": "https://hooks.example.org/wingtip", "kinds": ["decision"]},
        {"organisation": "Wingtip"}),
    Row("unsubscribe", f"{O}/{{subscription_id}}", frozenset(), None, {"organisation": "Litware"},
        method="DELETE"),
    Row("rotate a subscription's secret", f"{O}/{{subscription_id}}/rotate", frozenset(), {},
        {"organisation": "Tailspin"}),
    # Meeting documents: a conference names no manage_documents roles, so its owner role (the pm) has them.
    # The pm's cells answer 422 (no file attached) and 409 (a conference sends no papers): allowed, not denied.
    Row("attach a document", f"{E}/documents", frozenset({PM}), {}),
    Row("send the papers", f"{E}/papers/send", frozenset({PM}), {}),
    Row("record a receipt", f"{E}/papers/{{person_id}}/acknowledge", frozenset({PM}), {}, {"person_id": "ann"}),
    Row("record a risk", f"{E}/risks/{{risk_id}}", frozenset({PM}),
        {"title": "Keynote cancels", "likelihood": 2, "impact": 5, "owner": "pia"}, {"risk_id": "r1"}, method="PUT"),
    # Objectives, outcomes, lessons: a conference names no manage_objectives roles, so its owner role (the pm).
    Row("record an objective", f"{E}/objectives/{{objective_id}}", frozenset({PM}),
        {"title": "Leads", "metric": "leads", "baseline": 10, "target": 50}, {"objective_id": "leads"}, method="PUT"),
    Row("record an outcome", f"{E}/outcomes/{{outcome_id}}", frozenset({PM}),
        {"kind": "media", "title": "Daily paper", "reach": 50000}, {"outcome_id": "daily"}, method="PUT"),
    Row("record lessons", f"{E}/lessons", frozenset({PM}), {"text": "Open the doors earlier."}, method="PUT"),
]

PUBLIC_BY_LINK = {
    ("POST", "/p/{token}/rsvp"), ("POST", "/p/{token}/reply"), ("POST", "/p/{token}/itinerary"),
    ("POST", "/p/{token}/survey"), ("POST", "/p/{token}/slides"), ("POST", "/r/{event_id}"),
    ("POST", "/p/{token}/acknowledge"),
}
"""Routes a person outside the team uses with their own link (or an open event's registration): no principal, so
no row; the link is the permission (tests/api/test_personal.py, test_registration.py, tests/db/test_links.py)."""


CHANGES_NOTHING = {("POST", "/definitions/{kind}/agenda-check")}
"""POST routes that only compute (the agenda check of rows being edited): no event, no row (tests/api/test_definitions.py)."""


def mutating_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route that can change something."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI with included-router contexts
    except ImportError:  # pragma: no cover - older FastAPI lists routes flat
        pairs = [(r, getattr(r, "path", "")) for r in app.routes]
    else:
        pairs = [(rc.original_route, rc.path or "") for rc in iter_route_contexts(app.routes)]
    return {(m, path) for route, path in pairs for m in (getattr(route, "methods", None) or set())
            if m in {"POST", "PUT", "PATCH", "DELETE"}}


def test_every_mutating_route_has_a_row_in_the_matrix():
    """A new mutating route fails this test until the matrix says who may use it."""
    app = create_app(api_settings("unused"))
    # the link-authorised routes (PUBLIC_BY_LINK); signing out ends the caller's own session, nobody else's
    # (tests/api/test_signin.py)
    routes = mutating_routes(app) - PUBLIC_BY_LINK - {("POST", "/auth/logout")} - CHANGES_NOTHING
    rows = {(r.method, r.route) for r in MATRIX}
    assert routes - rows == set(), "mutating routes missing from the authorisation matrix"
    assert rows - routes == set(), "matrix rows for routes that do not exist"
    assert PUBLIC_BY_LINK <= mutating_routes(app)
    # starting an event, an act each, importing attendees from CSV, scanning a ticket, sending the papers;
    # subscribing, unsubscribing and rotating a subscription's secret; an outcome (record_objectives' second
    # route) and the lessons
    assert len(routes) == 4 + len(ACT_NAMES) + 3 + 2


def test_every_act_has_a_route():
    """Each of the workflow's acts (its updates) can be done over HTTP: a route is named after it."""
    app = create_app(api_settings("unused"))
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover
        names = {getattr(r, "name", "") for r in app.routes}
    else:
        names = {getattr(rc.original_route, "name", "") for rc in iter_route_contexts(app.routes)}
    assert set(ACT_NAMES.values()) - names == set()


def _stable(view: dict[str, Any]) -> dict[str, Any]:
    """What only an act changes (not the clock, not notification or invitation results landing later)."""
    return {k: v for k, v in view.items() if k not in ("now", "deadlines", "deliveries", "effects", "invitations")}


async def _send(api: Api, row: Row, url: str, role: str) -> Any:
    headers = auth(role) | {"Idempotency-Key": f"m-{uuid.uuid4().hex}"}
    if row.csv is not None:
        return await api.http.request(row.method, url, content=row.csv.encode(),
                                      headers=headers | {"Content-Type": "text/csv"})
    if row.body is None:  # routes whose body is optional are also tried without one
        return await api.http.request(row.method, url, headers=headers)
    return await api.http.request(row.method, url, json=row.body, headers=headers)


async def _subscriptions(api: Api, organisation: str) -> list[dict[str, Any]]:
    r = await api.http.get(f"/organisations/{organisation}/subscriptions", headers=auth("operator"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def _run_organisation_row(api: Api, row: Row) -> dict[str, tuple[int, str]]:
    """Every role's cell of a subscription route: none administers the organisation, so each is a 403
    problem and the organisation's subscriptions are as they were."""
    organisation = row.params["organisation"]
    r = await api.http.post(f"/organisations/{organisation}/subscriptions", headers=auth("operator"),
                            json={"url": "https://hooks.example.org/matrix"})
    assert r.status_code == 201, r.text
    url = row.route.format(**row.params, subscription_id=r.json()["id"])
    cells: dict[str, tuple[int, str]] = {}
    for role in ROLES:
        before = await _subscriptions(api, organisation)
        r = await _send(api, row, url, role)
        problem = r.headers["content-type"] == "application/problem+json" and r.json()["type"] == "/problems/forbidden"
        unchanged = await _subscriptions(api, organisation) == before
        allowed = role in row.allowed
        ok = (r.status_code < 400) if allowed else (r.status_code == 403 and problem and unchanged)
        cells[role] = (r.status_code, "" if ok else "not refused with a 403 problem, or the subscriptions changed")
    return cells


async def _run_row(api: Api, row: Row) -> dict[str, tuple[int, str]]:
    """Every role's cell of one row: role -> (status, what went wrong or '')."""
    if row.route.startswith("/organisations/"):
        return await _run_organisation_row(api, row)
    cells: dict[str, tuple[int, str]] = {}
    if row.route == "/events":
        for role in ROLES:
            body = event_body()
            r = await api.http.post("/events", json=body, headers=auth(role))
            exists = (await api.http.get(f"/events/{body['id']}", headers=auth("viewer"))).status_code == 200
            if role in row.allowed:
                cells[role] = (r.status_code, "" if r.status_code == 201 and exists else "not started")
            else:
                ok = r.status_code == 403 and r.headers["content-type"] == "application/problem+json" and not exists
                cells[role] = (r.status_code, "" if ok else "not refused, or the event exists")
        return cells

    event_id = await api.start()
    for who, rel, body in row.setup:
        method = "PUT" if rel == "/agenda" else "POST"
        r = await api.http.request(method, f"/events/{event_id}{rel}", json=body, headers=auth(who))
        assert r.status_code == 200, f"{row.name} setup {rel}: {r.text}"
    url = row.route.format(event_id=event_id, **row.params)
    before = _stable(await api.state(event_id))
    for role in [r for r in ROLES if r not in row.allowed]:
        r = await _send(api, row, url, role)
        # "/problems/forbidden" is the API's own refusal; the workflow's would be "/problems/act-forbidden".
        problem = r.headers["content-type"] == "application/problem+json" and r.json() == {
            "type": "/problems/forbidden", "title": "Forbidden", "status": 403, "detail": r.json().get("detail")}
        unchanged = _stable(await api.state(event_id)) == before
        cells[role] = (r.status_code, "" if r.status_code == 403 and problem and unchanged else
                       ("state changed" if not unchanged else "not refused with a 403 problem"))
    for role in [r for r in ROLES if r in row.allowed]:
        r = await _send(api, row, url, role)
        ok = r.status_code not in (401, 403) and r.status_code < 500
        cells[role] = (r.status_code, "" if ok else f"refused: {r.text[:200]}")
    return cells


async def test_authorisation_matrix(api: Api):
    """Every mutating route x every role: allowed cells are not refused, denied ones are 403 and change nothing."""
    results = await asyncio.gather(*(_run_row(api, row) for row in MATRIX))
    failures = []
    for row, cells in zip(MATRIX, results, strict=True):
        assert set(cells) == set(ROLES), f"{row.name}: a role was not tried"
        for role, (status, problem) in sorted(cells.items()):
            if problem:
                expected = "allowed" if role in row.allowed else "denied"
                failures.append(f"{row.name} as {role} ({expected}): {status} {problem}")
    assert not failures, "\n".join(failures)
    first_allowed = {row.name: results[i][sorted(row.allowed, key=ROLES.index)[0]][0] for i, row in enumerate(MATRIX)
                     if row.allowed}
    # The first allowed try of each row does what it says (or is refused by the event's stage, not by a role).
    assert first_allowed == {
        "start": 201, "approve budget": 409, "approve go/no-go": 409, "waive a gate": 200,
        "task owned by the pm": 200, "task owned by finance": 200, "task owned by the venue": 200, "budget": 200,
        "remove a budget line": 200,
        "invite speaker": 200, "speaker reply": 200, "speaker itinerary": 200, "set agenda": 200,
        "start agenda item": 409, "end agenda item": 409, "change agenda item": 409, "invite attendees": 200, "import attendees": 200,
        "rsvp": 200, "check-in": 409,
        "report incident": 200, "acknowledge incident": 200, "resolve incident": 200, "survey": 409,
        "emergency plan": 200,
        "send back": 409, "postpone": 200, "cancel": 200, "scan a ticket": 200,
        "attach a document": 422, "send the papers": 409, "record a receipt": 422, "record a risk": 200,
        "record an objective": 200, "record an outcome": 200, "record lessons": 200,
    }


# --- reads: two events of two teams x every route that reads x every principal -------------------------

READ_ROUTES = {
    "/events/{event_id}", "/events/{event_id}/attendees", "/events/{event_id}/audit",
    "/events/{event_id}/deliveries", "/events/{event_id}/invitations", "/events/{event_id}/exports/{kind}.{fmt}",
    "/ui/api/events/{event_id}/may", "/events/{event_id}/check-in/counts",
    "/events/{event_id}/documents", "/events/{event_id}/documents/{doc_id}", "/events/{event_id}/risks",
    "/events/{event_id}/objectives", "/events/{event_id}/lessons",
}
"""Routes that read one event: each principal gets it (200) or the answer an unknown event gets (404)."""
LIST_ROUTES = {"/events", "/events/board", "/ui/api/progress", "/ui/api/inbox"}
ORGANISATION_READS = {"/organisations/{organisation}/subscriptions"}
"""Routes that read an organisation's settings: its admins only (test_organisation_routes_take_its_admins)."""
"""Routes that list or count events: each principal's answer holds only the events they may read."""
NOT_EVENT_DATA = {
    "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/healthz", "/readyz",
    "/definitions", "/definitions/schema", "/definitions/{kind}", "/ui/api/diagram/{kind}",  # kinds, not events
    "/definitions/vocabulary/acts",  # the act forms' choices, read from the act models
    "/", "/ui", "/ui/", "/ui/signin", "/ui/board", "/ui/inbox", "/ui/events/{event_id}",  # empty page shells
    "/ui/api/me", "/ui/api/dev-people",  # the caller themself; the dev stack's own people on loopback
    "/auth/login", "/auth/callback",  # sign-in through the identity provider (tests/api/test_signin.py)
    "/metrics",  # counts by stage for the operators' scraper, no event named (keep it off the public network)
    "/p/{token}", "/p/{token}/event.ics", "/p/{token}/ticket.svg",  # one attendee's own page, by their secret link
    "/p/{token}/papers/{doc_id}",  # one board member's papers, by their secret link (tests/api/test_documents.py)
    "/ui/events/{event_id}/desk",  # the check-in desk's empty page shell
    "/r/{event_id}",  # an open event's public registration form (title and dates only; 404 for the others)
    # one act's answer, to its sender and the event's team only (tests/api/test_act_keys.py)
    "/events/{event_id}/acts/{key}",
}


def get_routes(app: FastAPI) -> set[str]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover
        pairs = [(r, getattr(r, "path", "")) for r in app.routes]
    else:
        pairs = [(rc.original_route, rc.path or "") for rc in iter_route_contexts(app.routes)]
    return {path for route, path in pairs if "GET" in (getattr(route, "methods", None) or set())}


def test_every_route_that_reads_has_a_row():
    """A new GET route fails this test until it is in the read matrix (or said to carry no event's data)."""
    routes = get_routes(create_app(api_settings("unused")))
    known = READ_ROUTES | LIST_ROUTES | ORGANISATION_READS | NOT_EVENT_DATA
    assert routes - known == set(), "GET routes missing from the read matrix"
    assert known - routes == set(), "read matrix rows for routes that do not exist"


SECOND_TEAM_PEOPLE = {  # every role of a board meeting staffed, so no conference person may act (or read) there
    "secretary": ["sue"], "chair": ["cal"], "board_member": ["bea"], "venue_coordinator": ["sue"],
    "technical_support": ["sue"], "finance": ["sue"], "finance_approver": ["cal"], "sponsor": ["cal"],
}
CONF, BOARD = "conference", "board meeting"
VISIBLE: dict[str, set[str]] = {
    **{role: {CONF} for role in ROLES if role != "viewer"},
    "viewer": {CONF, BOARD},  # granted every kind
    "multi": set(),  # holds finance roles, but this conference's team names others for them
    "secretary": {BOARD}, "chair": {BOARD}, "board_member": {BOARD},
    "viewer_of_kind": {BOARD}, "viewer_of_event": {CONF}, "viewer_of_nothing": set(),
    # by organisation (CONVENE_GRANTS): the conference is Northwind's (pia's), the board meeting Contoso's (sue's)
    "viewer_of_org": {BOARD},  # vio is granted Contoso by id
    "member_of_org": {CONF},  # everyone of Northwind is granted Northwind
    "member_of_kind": {BOARD},  # everyone of Fabrikam is granted board meetings, whoever owns them
    "org_admin": set(), "operator": set(),  # administering subscriptions grants no reading
}
CONTACTS = {BOARD: {"secretary"}}
"""Who sees a confidential event's contact details: its owner (and its team's owner role)."""


async def _two_events(api: Api) -> tuple[dict[str, str], datetime]:
    """A conference (team one, the event ``vee`` is granted) and a board meeting (team two, confidential),
    starting at the same instant no other test uses, each with an invited attendee."""
    from tests.api.conftest import GRANTED_EVENT

    at = (datetime.now(timezone.utc) + timedelta(days=500, seconds=uuid.uuid4().int % 10_000_000)).replace(microsecond=0)
    conf = event_body(GRANTED_EVENT, webhooks=["https://hooks.example.org/one?token=s3cret"])
    conf |= {"start": at.isoformat(), "end": (at + timedelta(days=1)).isoformat()}
    board = event_body(f"bm-{uuid.uuid4().hex[:10]}", kind="board_meeting", owner="sue",
                       webhooks=["https://hooks.example.org/two?token=s3cret"])
    board |= {"start": at.isoformat(), "end": (at + timedelta(hours=4)).isoformat(), "title": "Board, Q3",
              "team": {role: [{"id": pid, "name": pid.title(), "email": f"{pid}@board.example.org"} for pid in ids]
                       for role, ids in SECOND_TEAM_PEOPLE.items()}}
    for body, who in ((conf, "project_manager"), (board, "secretary")):
        r = await api.http.post("/events", json=body, headers=auth(who))
        assert r.status_code == 201, r.text
        r = await api.http.post(f"/events/{body['id']}/attendees", headers=auth(who), json={
            "attendees": [{"id": "ann", "name": "Ann Lee", "email": "ann@guests.example.org"}]})
        assert r.status_code == 200, r.text
    return {CONF: conf["id"], BOARD: board["id"]}, at


async def _event_cells(api: Api, key: str, name: str, event_id: str) -> list[str]:
    """What goes wrong for `key` reading `name` through every route that reads one event."""
    visible, contacts = name in VISIBLE[key], key in CONTACTS.get(name, {key})
    unknown = (await api.http.get("/events/no-such-event-here", headers=auth(key))).json()
    wrong: list[str] = []
    for route in sorted(READ_ROUTES):
        url = route.format(event_id=event_id, kind="attendees", fmt="csv", doc_id="0" * 24)
        r = await api.http.get(url, headers=auth(key))
        if not visible:
            if r.status_code != 404 or r.json() != unknown:
                wrong.append(f"{route}: {r.status_code}, not the unknown event's 404")
            continue
        if route.endswith("{doc_id}"):  # no such document on an event they may read (a real one: test_documents.py)
            if r.status_code != 404 or r.json().get("detail") != "no such document":
                wrong.append(f"{route}: {r.status_code} {r.text[:120]}, not 'no such document'")
            continue
        if r.status_code != 200:
            wrong.append(f"{route}: {r.status_code} {r.text[:120]}")
            continue
        text = r.text
        if route == "/events/{event_id}":
            view = r.json()["event"]
            emails = [p["email"] for people in view["team"].values() for p in people]
            if contacts and (None in emails or "?token=" in text and PRINCIPALS_READ_ONLY.get(key)):
                wrong.append(f"{route}: contact details missing, or a viewer sees a webhook's token")
            if not contacts and (any(emails) or view["webhooks"]):
                wrong.append(f"{route}: contact details shown on a confidential event")
        elif route == "/events/{event_id}/attendees":
            email = r.json()["items"][0]["person"]["email"]
            if (email == "ann@guests.example.org") != contacts:
                wrong.append(f"{route}: attendee email {email!r}")
        elif route.endswith(".{fmt}") and ("ann@guests.example.org" in text) != contacts:
            wrong.append(f"{route}: export shows the email: {'ann@guests.example.org' in text}")
        elif route == "/events/{event_id}/deliveries" and not contacts and "@" in text:
            wrong.append(f"{route}: an address is shown on a confidential event")
    return wrong


PRINCIPALS_READ_ONLY = {"viewer": True, "viewer_of_kind": True, "viewer_of_event": True, "viewer_of_nothing": True,
                        "viewer_of_org": True, "member_of_org": True, "member_of_kind": True}


async def _eventually(check: Any, seconds: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        got, ok = await check()
        if ok or asyncio.get_running_loop().time() > deadline:
            return got
        await asyncio.sleep(0.2)


async def _list_cells(api: Api, key: str, ids: dict[str, str], at: datetime) -> list[str]:
    """What goes wrong for `key` in the listing, the board's counts, the cards' progress and the inbox."""
    want = {ids[name] for name in VISIBLE[key]}
    window = {"start_from": (at - timedelta(seconds=1)).isoformat(), "start_to": (at + timedelta(seconds=1)).isoformat()}

    async def listed() -> tuple[set[str], bool]:
        r = await api.http.get("/events", params=window, headers=auth(key))
        got = {i["id"] for i in r.json()["items"]} if r.status_code == 200 else {f"status {r.status_code}"}
        return got, got == want

    wrong = []
    got = await _eventually(listed)
    if got != want:
        wrong.append(f"/events lists {sorted(got)}, not {sorted(want)}")
    r = await api.http.get("/events/board", params=window, headers=auth(key))
    if r.status_code != 200 or r.json()["total"] != len(want):
        wrong.append(f"/events/board: {r.status_code} {r.text[:120]}, not a total of {len(want)}")
    r = await api.http.get("/ui/api/progress", params={"ids": ",".join(ids.values())}, headers=auth(key))
    readable = {i for i, p in r.json().items() if p["error"] is None} if r.status_code == 200 else set()
    if readable != want or any(r.json()[i]["title"] for i in set(ids.values()) - want):
        wrong.append(f"/ui/api/progress: {r.status_code} {r.text[:200]}")
    r = await api.http.get("/ui/api/inbox", headers=auth(key))
    if r.status_code != 200 or {i["event_id"] for i in r.json()["items"]} & (set(ids.values()) - want):
        wrong.append(f"/ui/api/inbox: {r.status_code} {r.text[:200]}")
    return wrong


async def test_read_matrix(api: Api):
    """Every principal x two events of two teams x every route that reads, and the lists and counts."""
    from tests.api.conftest import PRINCIPALS

    assert set(VISIBLE) == set(PRINCIPALS), "a principal without a row in the read matrix"
    ids, at = await _two_events(api)
    failures = []
    for key in PRINCIPALS:
        for name, event_id in ids.items():
            failures += [f"{key} on the {name}: {w}" for w in await _event_cells(api, key, name, event_id)]
        failures += [f"{key}: {w}" for w in await _list_cells(api, key, ids, at)]
    assert not failures, "\n".join(failures)


async def test_an_event_started_without_readers_publishes_them_and_is_listed(api: Api):
    """An event whose starter set no EventReaders (started before this change) publishes them itself
    (patch ``event-readers``), and from then on its team finds it in the listing and others do not."""
    from temporalio.common import TypedSearchAttributes, WorkflowIDReusePolicy

    from definitions import shipped
    from workflows import search
    from workflows.client import start_input, workflow_id
    from workflows.event import WORKFLOW_NAME
    from workflows.messages import EventDetails, StateView

    at = (datetime.now(timezone.utc) + timedelta(days=900, seconds=uuid.uuid4().int % 10_000_000)).replace(microsecond=0)
    body = event_body() | {"start": at.isoformat(), "end": (at + timedelta(days=1)).isoformat()}
    details = EventDetails.model_validate(body)
    definition = shipped().get("conference")
    handle = await api.env.client.start_workflow(
        WORKFLOW_NAME, start_input(details, definition), id=workflow_id(details.id), task_queue=api.task_queue,
        result_type=StateView, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(search.attributes(details, "conference", "preparation", 0, False)))
    window = {"start_from": (at - timedelta(seconds=1)).isoformat(), "start_to": (at + timedelta(seconds=1)).isoformat()}

    async def listed_to_pia() -> tuple[list[str], bool]:
        r = await api.http.get("/events", params=window, headers=auth("project_manager"))
        got = [i["id"] for i in r.json()["items"]]
        return got, got == [details.id]

    assert await _eventually(listed_to_pia) == [details.id]
    readers = (await handle.describe()).typed_search_attributes.get(search.READERS)
    assert readers == search.readers(details, definition)
    r = await api.http.get("/events", params=window, headers=auth("viewer_of_nothing"))
    assert r.status_code == 200 and r.json()["items"] == []


# --- an organisation's subscriptions: its admins, and nobody else ---------------------------------------

ADMINISTERS = {"org_admin": {"Northwind"}, "operator": {"Northwind", "Contoso"}}
"""Who may manage whose subscriptions (the tokens file's ``administers``); every other principal nobody's."""


async def test_organisation_routes_take_its_admins(api: Api):
    """Every principal x two organisations x every subscription route: an admin of the organisation is
    answered, everyone else gets a 403 problem and changes nothing; another organisation's subscription is
    not found, whoever asks under the wrong organisation."""
    from tests.api.conftest import PRINCIPALS

    made = {}
    for org in ("Northwind", "Contoso"):
        r = await api.http.post(f"/organisations/{org}/subscriptions", headers=auth("operator"),
                                json={"url": f"https://hooks.example.org/{org.lower()}?token=s3cret",
                                      "kinds": ["stage_entered", "decision"]})
        assert r.status_code == 201, r.text
        assert r.json()["secret"].startswith("whsec_") and r.headers["location"].endswith(r.json()["id"])
        made[org] = r.json()["id"]
    failures = []
    for key in PRINCIPALS:
        for org, sub_id in made.items():
            admin = org in ADMINISTERS.get(key, set())
            base = f"/organisations/{org}/subscriptions"
            before = await _subscriptions(api, org)
            tries = [("GET", base, None), ("POST", f"{base}/{sub_id}/rotate", {"previous_valid_hours": 1}),
                     ("POST", base, {"url": "https://hooks.example.org/x", "kinds": ["cancellation"]})]
            for method, url, body in tries:
                r = await api.http.request(method, url, json=body, headers=auth(key))
                if admin and r.status_code not in (200, 201):
                    failures.append(f"{key} {method} {url}: {r.status_code} {r.text[:120]}")
                if not admin and (r.status_code != 403 or r.json()["type"] != "/problems/forbidden"):
                    failures.append(f"{key} {method} {url}: {r.status_code}, not a 403 problem")
                if admin and method == "GET" and {s["id"] for s in r.json()["items"]} != {s["id"] for s in before}:
                    failures.append(f"{key} lists other subscriptions than {org}'s")
                if admin and "whsec_" in r.text and method == "GET":
                    failures.append(f"{key}: a list shows a secret")
            if not admin and await _subscriptions(api, org) != before:
                failures.append(f"{key} changed {org}'s subscriptions")
    assert not failures, "\n".join(failures)
    # a subscription is found under its own organisation only, even by the operator
    r = await api.http.delete(f"/organisations/Northwind/subscriptions/{made['Contoso']}", headers=auth("operator"))
    assert r.status_code == 404 and r.json()["detail"] == "no such subscription"
    r = await api.http.delete(f"/organisations/Northwind/subscriptions/{made['Contoso']}", headers=auth("org_admin"))
    assert r.status_code == 404
    assert made["Contoso"] in {s["id"] for s in await _subscriptions(api, "Contoso")}
    r = await api.http.delete(f"/organisations/Northwind/subscriptions/{made['Northwind']}", headers=auth("org_admin"))
    assert r.status_code == 204
    assert made["Northwind"] not in {s["id"] for s in await _subscriptions(api, "Northwind")}
    # bad input: a clear 422 and nothing made
    count = len(await _subscriptions(api, "Northwind"))
    for body in ({"url": "ftp://x"}, {"url": "https://x", "kinds": ["no_such_kind"]}, {"url": "https://x", "y": 1}):
        r = await api.http.post("/organisations/Northwind/subscriptions", json=body, headers=auth("org_admin"))
        assert r.status_code == 422, (body, r.text)
    assert len(await _subscriptions(api, "Northwind")) == count
    assert (await api.http.get("/organisations/Northwind/subscriptions")).status_code == 401


async def test_an_event_belongs_to_its_starters_organisation_or_one_its_admin_names(api: Api):
    """Without ``organisation`` an event is the starter's organisation's; naming another takes an admin of
    it (403, nothing started), and its readers by organisation find it."""
    from store.subscriptions import Subscriptions
    from tests.api.conftest import serve

    assert api.db is not None
    body = event_body()
    r = await api.http.post("/events", json=body, headers=auth("project_manager"))
    assert r.status_code == 201 and r.json()["event"]["organisation"] == "Northwind"
    assert (await api.http.get(f"/events/{body['id']}", headers=auth("member_of_org"))).status_code == 200
    assert (await api.http.get(f"/events/{body['id']}", headers=auth("viewer_of_org"))).status_code == 404

    other = event_body(organisation="Contoso")
    r = await api.http.post("/events", json=other, headers=auth("project_manager"))
    assert r.status_code == 403 and "Contoso" in r.json()["detail"]
    assert (await api.http.get(f"/events/{other['id']}", headers=auth("viewer"))).status_code == 404

    # an operator who may start events (a creator role) and administers every organisation names one
    url = api.db.url.render_as_string(hide_password=False)
    operators = create_app(api_settings(api.task_queue, creator_roles=["operator"], database_url=url),
                           client=api.env.client)
    async with serve(operators) as http:
        r = await http.post("/events", json=other, headers=auth("operator"))
        assert r.status_code == 201, r.text
        assert r.json()["event"]["organisation"] == "Contoso"
    assert (await api.http.get(f"/events/{other['id']}", headers=auth("viewer_of_org"))).status_code == 200
    assert (await api.http.get(f"/events/{other['id']}", headers=auth("member_of_org"))).status_code == 404
    # recorded for the notifier (its organisation's subscriptions); the refused start recorded nothing
    assert await Subscriptions(api.db).owner(other["id"]) == "Contoso"
    assert await Subscriptions(api.db).owner(body["id"]) == "Northwind"
