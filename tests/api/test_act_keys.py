"""Every act exactly once end to end (issue 19): a key's answer, refusals included, is never contradicted later.

Two API processes share the database and Temporal; one reaches Temporal through a relay the test pauses,
so its request stalls, the client resends the key to the other, the event moves, and the stalled request
arrives. Each on SQLite and PostgreSQL where the database is involved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from api import create_app
from store.schema import idempotency_keys
from tests.api.conftest import Api, api_settings, auth, event_body, roster_activities, serve
from tests.relay import Relay
from worker import build_worker

APPROVE = {"gate": "budget_approved", "decision": "approve"}


async def _up_to_the_budget_draft(api: Api, eid: str) -> None:
    """Preparation done but for the budget draft: approving the budget is refused until finance drafts it."""
    base = f"/events/{eid}"
    for task in ("theme_purpose", "date_checked", "team_assigned"):
        await api.do("project_manager", f"{base}/tasks/{task}/complete")
    for task in ("site_inspection", "venue_booked"):
        await api.do("venue_coordinator", f"{base}/tasks/{task}/complete")
    await api.do("finance", f"{base}/budget", {"lines": [
        {"category": "venue", "planned": "40000"}, {"category": "contingency", "planned": "8000"}]})


def _decisions(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in view["audit"] if a["act"] == "decide"]


async def test_a_refused_key_stays_refused_after_the_event_moves(api_db: Api):
    """Refused (409), then the event moves so the act would pass: the same key is refused again with the same
    reason, even with the API's record of it gone (the event remembers); GET says refused; a new key passes."""
    api = api_db
    eid = await api.start()
    await _up_to_the_budget_draft(api, eid)
    k = {"Idempotency-Key": "approve-budget-1"}
    first = await api.http.post(f"/events/{eid}/decisions", json=APPROVE, headers=auth("finance_approver") | k)
    assert first.status_code == 409 and "budget_draft" in first.json()["detail"], first.text
    await api.do("finance", f"/events/{eid}/tasks/budget_draft/complete")

    again = await api.http.post(f"/events/{eid}/decisions", json=APPROVE, headers=auth("finance_approver") | k)
    assert (again.status_code, again.json()) == (409, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    asked = await api.http.get(f"/events/{eid}/acts/approve-budget-1", headers=auth("finance_approver"))
    assert asked.status_code == 200 and asked.json()["status"] == "refused"
    assert asked.json()["refusal"] == {"status": 409, "type": "/problems/act-conflict",
                                       "detail": first.json()["detail"]}

    assert api.db is not None
    async with api.db.write() as conn:  # the API's record lost (or expired): the event itself still refuses
        await conn.execute(delete(idempotency_keys))
    late = await api.http.post(f"/events/{eid}/decisions", json=APPROVE, headers=auth("finance_approver") | k)
    assert (late.status_code, late.json()["detail"]) == (409, first.json()["detail"])
    view = await api.state(eid)
    assert view["stage"] == "preparation" and _decisions(view) == []

    ok = await api.http.post(f"/events/{eid}/decisions", json=APPROVE,
                             headers=auth("finance_approver") | {"Idempotency-Key": "approve-budget-2"})
    assert ok.status_code == 200 and ok.json()["result"]["stage"] == "planning"


async def test_the_same_key_with_another_request_is_422_and_changes_nothing(api_db: Api):
    """Another body, another route or another sender under a used key: 422; the first answer stands."""
    api = api_db
    eid = await api.start()
    k = {"Idempotency-Key": "k-422"}
    one = await api.do("finance", f"/events/{eid}/budget", {"lines": [{"category": "venue", "planned": "100"}]}, **k)
    for key, path, body in (("finance", "/budget", {"lines": [{"category": "venue", "planned": "200"}]}),
                            ("project_manager", "/tasks/theme_purpose/complete", None),
                            ("multi", "/budget", {"lines": [{"category": "venue", "planned": "100"}]})):
        r = await api.http.post(f"/events/{eid}{path}", json=body, headers=auth(key) | k)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/idempotency-key-reused"
    view = await api.state(eid)
    assert [a["key"] for a in view["audit"] if a["key"] == "k-422"] == ["k-422"]
    assert view["budget"]["lines"][0]["planned"] in ("100", "100.00", 100)
    again = await api.do("finance", f"/events/{eid}/budget", {"lines": [{"category": "venue", "planned": "100"}]}, **k)
    assert again == one


async def test_ask_about_a_key_accepted_unknown_and_who_may_see_it(api_db: Api):
    """GET /events/{id}/acts/{key}: accepted with its seq and result, for the sender and the team; 404 for an
    unknown key and for someone off the team."""
    api = api_db
    eid = await api.start()
    out = await api.do("project_manager", f"/events/{eid}/tasks/theme_purpose/complete",
                       **{"Idempotency-Key": "task-1"})
    r = await api.http.get(f"/events/{eid}/acts/task-1", headers=auth("project_manager"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "accepted" and body["result"] == out["result"] and body["refusal"] is None
    assert body["result"]["seq"] == next(a["seq"] for a in (await api.state(eid))["audit"] if a["key"] == "task-1")
    assert (await api.http.get(f"/events/{eid}/acts/task-1", headers=auth("finance"))).status_code == 200  # team
    assert (await api.http.get(f"/events/{eid}/acts/task-1", headers=auth("viewer"))).status_code == 404
    assert (await api.http.get(f"/events/{eid}/acts/nope", headers=auth("project_manager"))).status_code == 404


@asynccontextmanager
async def _second_api(client: Client, task_queue: str, database_url: str, **overrides: Any) -> AsyncIterator[Any]:
    """Another API process on the same database and task queue (no worker of its own), on `client`."""
    app = create_app(api_settings(task_queue, database_url=database_url, **overrides), client=client)
    async with serve(app) as http:
        yield http


async def test_stalled_replica_the_late_attempt_agrees_with_the_refusal(api_db: Api, database_url: str):
    """API A's request stalls in a relay on its way to Temporal; the client resends the key to API B and is
    refused; finance then drafts the budget; A's request arrives: it is not applied, A answers the same
    refusal, and asking about the key says refused, from either process."""
    b = api_db
    eid = await b.start()
    await _up_to_the_budget_draft(b, eid)
    target = b.env.client.service_client.config.target_host
    async with Relay(target) as relay:
        client_a = await Client.connect(relay.address, namespace=b.env.client.namespace,
                                        data_converter=pydantic_data_converter)
        async with _second_api(client_a, b.task_queue, database_url, temporal_rpc_timeout_seconds=30) as a:
            warm = await a.get(f"/events/{eid}", headers=auth("viewer"))  # A knows the event (its team) already
            assert warm.status_code == 200
            relay.pause()
            k = {"Idempotency-Key": "approve-K"}
            stalled = asyncio.ensure_future(
                a.post(f"/events/{eid}/decisions", json=APPROVE, headers=auth("finance_approver") | k))
            deadline = time.monotonic() + 10
            while relay.held == 0:  # A's update is on its way, held in the relay
                assert time.monotonic() < deadline and not stalled.done(), "A's request never reached the relay"
                await asyncio.sleep(0.02)

            resent = await b.http.post(f"/events/{eid}/decisions", json=APPROVE, headers=auth("finance_approver") | k)
            assert resent.status_code == 409 and "budget_draft" in resent.json()["detail"], resent.text
            await b.do("finance", f"/events/{eid}/tasks/budget_draft/complete")  # the act would pass now
            assert not stalled.done()
            relay.release()
            late = await asyncio.wait_for(stalled, 30)
            assert (late.status_code, late.json()["detail"]) == (409, resent.json()["detail"]), late.text

            for http in (a, b.http):
                asked = await http.get(f"/events/{eid}/acts/approve-K", headers=auth("finance_approver"))
                assert asked.json()["status"] == "refused"
                again = await http.post(f"/events/{eid}/decisions", json=APPROVE, headers=auth("finance_approver") | k)
                assert (again.status_code, again.json()["detail"]) == (409, resent.json()["detail"])
    view = await b.state(eid)
    assert view["stage"] == "preparation" and _decisions(view) == []


async def test_no_worker_answers_503_then_the_key_is_pending_then_applied_once(
    api_db: Api, database_url: str, task_queue: str
):
    """With the worker gone, an act answers 503 with Retry-After within the deadline and its key is pending;
    a repeat meanwhile is 409 "in progress"; once a worker is back the same key is applied once."""
    api = api_db
    assert api.db is not None
    queue = f"{task_queue}-lone"
    settings = api_settings(queue, database_url=database_url)
    k = {"Idempotency-Key": "task-when-down"}
    async with _second_api(api.env.client, queue, database_url, temporal_rpc_timeout_seconds=1.5) as lone:
        async with build_worker(api.env.client, settings,
                                activities=roster_activities(settings, api.stand_ins, api.db)):
            body = event_body(event_id=f"lone-{queue[-12:]}")
            r = await lone.post("/events", json=body, headers=auth("project_manager"))
            assert r.status_code == 201, r.text
            eid = body["id"]
            await lone.post(f"/events/{eid}/tasks/theme_purpose/complete", headers=auth("project_manager"))
        # the worker is gone: the act is sent and nobody takes it
        path = f"/events/{eid}/tasks/date_checked/complete"
        started = time.monotonic()
        r = await lone.post(path, headers=auth("project_manager") | k)
        assert r.status_code == 503 and r.headers["Retry-After"] == "5", r.text
        assert r.json()["type"] == "/problems/act-pending"
        assert time.monotonic() - started < 5
        asked = await lone.get(f"/events/{eid}/acts/task-when-down", headers=auth("project_manager"))
        assert asked.status_code == 200 and asked.json()["status"] == "pending"
        again = await lone.post(path, headers=auth("project_manager") | k)
        assert again.status_code == 409 and again.json()["type"] == "/problems/act-in-progress", again.text
        assert again.headers["Retry-After"] == "5"

        async with build_worker(api.env.client, settings,
                                activities=roster_activities(settings, api.stand_ins, api.db)):
            deadline = time.monotonic() + 40
            while True:
                done = await lone.post(path, headers=auth("project_manager") | k)
                if done.status_code == 200:
                    break
                assert done.status_code in (409, 503) and time.monotonic() < deadline, done.text
                await asyncio.sleep(0.5)
            asked = await lone.get(f"/events/{eid}/acts/task-when-down", headers=auth("project_manager"))
            assert asked.json()["status"] == "accepted" and asked.json()["result"] == done.json()["result"]
            view = await lone.get(f"/events/{eid}", headers=auth("viewer"))
            assert [a["key"] for a in view.json()["audit"]].count("task-when-down") == 1
