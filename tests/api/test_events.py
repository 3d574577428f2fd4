"""Starting, reading, acting on and listing events through the HTTP API on the dev server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from tests.api.conftest import Api, auth, event_body
from tests.support import SPONSOR, conference, key, start_conference
from workflows.client import act
from workflows.messages import Cancel, Decide

# team_ready is computed from the team, which names every role: it passes by itself
PREPARATION_GATES = ("theme_recorded", "budget_approved", "date_venue_confirmed")


async def test_start_is_idempotent_by_id(api: Api):
    """The same id and details answer 200 with the existing event; other details answer 409."""
    body = event_body()
    first = await api.http.post("/events", json=body, headers=auth("project_manager"))
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"/events/{body['id']}"
    assert first.json()["stage"] == "preparation" and first.json()["event"]["id"] == body["id"]

    again = await api.http.post("/events", json=body, headers=auth("project_manager"))
    assert again.status_code == 200, again.text
    assert again.json()["event"] == first.json()["event"]

    changed = await api.http.post("/events", json=body | {"title": "Another title"}, headers=auth("project_manager"))
    assert changed.status_code == 409
    assert changed.headers["content-type"] == "application/problem+json"
    assert changed.json()["status"] == 409 and body["id"] in changed.json()["detail"]


async def test_start_without_id_makes_one(api: Api):
    """An event posted without an id gets a fresh one."""
    body = event_body()
    del body["id"]
    r = await api.http.post("/events", json=body, headers=auth("project_manager"))
    assert r.status_code == 201, r.text
    made = r.json()["event"]["id"]
    assert len(made) == 32 and r.headers["location"] == f"/events/{made}"


async def test_unknown_kind_is_422_naming_known_kinds(api: Api):
    """A kind no definition has is refused before anything starts, listing the kinds there are."""
    body = event_body(kind="picnic")
    r = await api.http.post("/events", json=body, headers=auth("project_manager"))
    assert r.status_code == 422
    problem = r.json()
    assert problem["type"] == "/problems/unknown-kind"
    assert "picnic" in problem["detail"] and "conference" in problem["detail"]
    assert set(problem["known_kinds"]) >= {"conference", "board_meeting", "product_launch"}
    assert (await api.http.get(f"/events/{body['id']}", headers=auth("viewer"))).status_code == 404


async def test_finance_approvers_decision_advances_the_budget_gate(api: Api):
    """Preparation done through the API, the finance approver's approval passes the gate and the event moves on."""
    eid = await api.start()
    base = f"/events/{eid}"
    for task in ("theme_purpose", "date_checked", "team_assigned"):
        await api.do("project_manager", f"{base}/tasks/{task}/complete")
    for task in ("site_inspection", "venue_booked"):
        await api.do("venue_coordinator", f"{base}/tasks/{task}/complete")
    await api.do("finance", f"{base}/budget", {"lines": [
        {"category": "venue", "planned": "40000"}, {"category": "contingency", "planned": "8000"}]})
    await api.do("finance", f"{base}/tasks/budget_draft/complete", {"note": "v1"})
    before = await api.state(eid)
    assert before["stage"] == "preparation"
    assert _gate(before, "budget_approved")["status"] == "awaiting_decision"

    denied = await api.http.post(f"{base}/decisions", json={"gate": "budget_approved", "decision": "approve"},
                                 headers=auth("viewer"))
    assert denied.status_code == 403
    assert _stable(await api.state(eid)) == _stable(before)

    out = await api.do("finance_approver", f"{base}/decisions", {"gate": "budget_approved", "decision": "approve",
                                                                 "reason": "within limit"})
    assert out["result"]["act"] == "decide" and out["result"]["stage"] == "planning"
    assert "state" not in out or out["state"] is None  # lean: the outcome, not the whole event
    after = await api.state(eid)
    assert after["stage"] == "planning"
    gate = _gate(after, "budget_approved")
    assert gate["status"] == "passed"
    assert gate["decision"]["by"] == "finn" and gate["decision"]["role"] == "finance_approver"


async def test_a_principal_with_several_roles_acts_as_the_one_the_act_needs(api: Api):
    """`max` holds finance and finance_approver: approving is done as finance_approver; as_role can narrow it."""
    team = {"finance": [{"id": "max", "name": "Max"}], "finance_approver": [{"id": "max", "name": "Max"}],
            "project_manager": [{"id": "pia", "name": "Pia"}]}
    eid = await api.start(team=team)
    base = f"/events/{eid}"
    for task in ("theme_purpose", "date_checked", "team_assigned", "site_inspection", "venue_booked"):
        await api.do("project_manager", f"{base}/tasks/{task}/complete")
    out = await api.do("multi", f"{base}/budget", {"lines": [{"category": "contingency", "planned": "10"}]})
    assert (await api.state(eid))["audit"][-1]["role"] == "finance"
    await api.do("multi", f"{base}/tasks/budget_draft/complete")

    wrong = await api.http.post(f"{base}/decisions", json={"gate": "budget_approved", "decision": "approve",
                                                           "as_role": "finance"}, headers=auth("multi"))
    assert wrong.status_code == 403
    not_held = await api.http.post(f"{base}/decisions", json={"gate": "budget_approved", "decision": "approve",
                                                              "as_role": "sponsor"}, headers=auth("multi"))
    assert not_held.status_code == 403 and "does not hold" in not_held.json()["detail"]

    await api.do("multi", f"{base}/decisions", {"gate": "budget_approved", "decision": "approve"})
    after = await api.state(eid)
    assert _gate(after, "budget_approved")["decision"]["role"] == "finance_approver"
    assert _gate(after, "budget_approved")["status"] == "passed"
    # the team names three roles, so the planning team is not ready: the event stays in preparation
    assert after["stage"] == "preparation"
    assert "the team names nobody as venue_coordinator" in _gate(after, "team_ready")["reasons"]


async def test_a_role_held_by_someone_else_on_this_event_is_refused(api: Api):
    """Holding the finance_approver role is not enough when the event names another person for it."""
    team = {"finance_approver": [{"id": "zoe", "name": "Zoe"}]}
    eid = await api.start(team=team)
    r = await api.http.post(f"/events/{eid}/decisions", json={"gate": "budget_approved", "decision": "approve"},
                            headers=auth("finance_approver"))
    assert r.status_code == 403 and "team" in r.json()["detail"]


async def test_idempotency_key_replays_the_answer_and_refuses_reuse(api: Api):
    """The same Idempotency-Key and act answer the same; the key on another request is refused (422)."""
    eid = await api.start()
    path = f"/events/{eid}/budget"
    body = {"lines": [{"category": "venue", "planned": "100"}]}
    k = {"Idempotency-Key": f"budget-{uuid.uuid4().hex}"}
    one = await api.do("finance", path, body, **k)
    two = await api.do("finance", path, body, **k)
    assert one["result"] == two["result"]
    assert sum(a["act"] == "record_budget" for a in (await api.state(eid))["audit"]) == 1
    other = await api.http.post(path, json={"lines": [{"category": "venue", "planned": "200"}]},
                                headers=auth("finance") | k)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]


async def test_incident_report_and_resolve(api: Api):
    """An incident reported without an id gets one, shows as open, and resolving it closes it."""
    eid = await api.start()
    out = await api.do("on_site_command", f"/events/{eid}/incidents",
                       {"category": "equipment", "severity": "low", "summary": "projector flickers"})
    [incident] = (await api.state(eid))["open_incidents"]
    assert incident["id"] in out["result"]["message"]
    await api.do("technical_support", f"/events/{eid}/incidents/{incident['id']}/resolve")
    assert (await api.state(eid))["open_incidents"] == []


async def test_a_retried_incident_report_is_the_same_incident(api: Api):
    """Same Idempotency-Key, no incident id: the retry is answered as the first report, not a second incident."""
    eid = await api.start()
    body = {"category": "safety", "severity": "low", "summary": "cable across the aisle"}
    first = await api.do("on_site_command", f"/events/{eid}/incidents", body, **{"Idempotency-Key": "inc-retry-1"})
    again = await api.do("on_site_command", f"/events/{eid}/incidents", body, **{"Idempotency-Key": "inc-retry-1"})
    assert again["result"] == first["result"]
    assert len((await api.state(eid))["open_incidents"]) == 1
    await api.do("on_site_command", f"/events/{eid}/incidents", body, **{"Idempotency-Key": "inc-retry-2"})
    assert len((await api.state(eid))["open_incidents"]) == 2


async def test_list_and_board_over_200_events(api: Api):
    """200 events in three stages: the board counts each stage and the list pages through one stage."""
    client = api.env.client
    now = datetime.now(timezone.utc)
    owner = f"own-{uuid.uuid4().hex[:10]}"
    events = [conference(now, event_id=f"lst-{owner}-{i:03d}", owner=owner, days_ahead=100 if i < 100 else 200)
              for i in range(200)]
    for batch in range(0, 200, 50):
        await asyncio.gather(*(start_conference(client, api.task_queue, e) for e in events[batch:batch + 50]))

    async def waive_preparation(event_id: str) -> None:
        await asyncio.gather(*(act(client, event_id, Decide(key=key("w"), actor=SPONSOR, gate=gate, decision="waive",
                                                            reason="fast-tracked")) for gate in PREPARATION_GATES))

    planning = [e.id for e in events[50:70]] + [e.id for e in events[150:170]]  # 20 early, 20 late
    cancelled = [e.id for e in events[0:10]] + [e.id for e in events[100:110]]
    await asyncio.gather(*(waive_preparation(i) for i in planning))
    await asyncio.gather(*(act(client, i, Cancel(key=key("c"), actor=SPONSOR, reason="merged")) for i in cancelled))
    expected = {"preparation": 200 - 40 - 20, "planning": 40, "cancelled": 20}

    board: dict = {}
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:  # visibility is eventually consistent
        r = await api.http.get("/events/board", params={"owner": owner}, headers=auth("viewer"))
        assert r.status_code == 200, r.text
        board = r.json()
        if board["stages"] == expected:
            break
        await asyncio.sleep(0.2)
    assert board == {"total": 200, "stages": expected, "other": 0}

    soon = (now + timedelta(days=150)).isoformat()
    r = await api.http.get("/events/board", params={"owner": owner, "start_to": soon}, headers=auth("viewer"))
    assert r.json() == {"total": 100, "stages": {"preparation": 70, "planning": 20, "cancelled": 10}, "other": 0}

    seen: list[dict] = []
    token: str | None = None
    pages = 0
    while True:
        params = {"owner": owner, "stage": "planning", "page_size": 15} | ({"page_token": token} if token else {})
        r = await api.http.get("/events", params=params, headers=auth("viewer"))
        assert r.status_code == 200, r.text
        page = r.json()
        seen += page["items"]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert pages >= 3
    assert sorted(item["id"] for item in seen) == sorted(planning)
    item = seen[0]
    assert item["kind"] == "conference" and item["stage"] == "planning" and item["owner"] == owner
    assert item["status"] == "running" and item["at_risk"] is False and item["escalation"] == 0

    # A cancelled event shows `cancelled` at once; its workflow completes once its compensations ran.
    for _ in range(100):
        r = await api.http.get("/events", params={"owner": owner, "stage": "cancelled", "start_from": soon},
                               headers=auth("viewer"))
        if {i["status"] for i in r.json()["items"]} == {"completed"}:
            break
        await asyncio.sleep(0.2)
    assert sorted(i["id"] for i in r.json()["items"]) == sorted(events[i].id for i in range(100, 110))
    assert {i["status"] for i in r.json()["items"]} == {"completed"}

    bad = await api.http.get("/events", params={"owner": owner, "page_token": token or "bm90LWEtdG9rZW4"},
                             headers=auth("viewer"))
    assert bad.status_code == 422


def _gate(view: dict, gate_id: str) -> dict:
    return next(g for g in view["gates"] if g["id"] == gate_id)


def _stable(view: dict) -> dict:
    """The parts of a state view that only acts change (not the clock, not deliveries landing later)."""
    return {k: v for k, v in view.items() if k not in ("now", "deadlines", "deliveries", "effects")}
