"""Objectives, outcomes and lessons over HTTP, on SQLite and PostgreSQL: writes, the preparation gate they feed,
target against actual, lessons reaching the next event of the kind, the read rules."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api, auth, event_body
from tests.api.test_documents import reasons

NO_OBJECTIVE = "no objective recorded yet (metric, baseline and target)"


async def seminar(api: Api) -> str:
    """An industry seminar 120 days ahead, run by the conference's team (pia its project manager)."""
    body = event_body(f"sem-{uuid.uuid4().hex[:10]}", kind="industry_seminar", title="Seminar")
    r = await api.http.post("/events", json=body, headers=auth("project_manager"))
    assert r.status_code == 201, r.text
    await api.ready(body["id"])
    return body["id"]


async def test_objectives_feed_the_gate_and_outcomes_give_the_actual(api_db: Api) -> None:
    """No objective: the theme gate says so; one recorded: it holds; a retry is the same change; a key reused, an
    unknown metric, a reach on leads and a role without the permission are refused and change nothing; each
    objective's actual is read from its kind of outcome and compared with its target."""
    api = api_db
    event_id = await seminar(api)
    url = f"/events/{event_id}"
    assert NO_OBJECTIVE in await reasons(api, event_id, "theme_recorded")
    leads = {"title": "Qualified leads", "metric": "leads", "baseline": 40, "target": 60}
    first = await api.http.put(f"{url}/objectives/leads", json=leads,
                               headers=auth("project_manager") | {"Idempotency-Key": "o-1"})
    assert first.status_code == 200, first.text
    again = await api.http.put(f"{url}/objectives/leads", json=leads,
                               headers=auth("project_manager") | {"Idempotency-Key": "o-1"})
    assert again.status_code == 200 and again.json() == first.json()
    assert NO_OBJECTIVE not in await reasons(api, event_id, "theme_recorded")

    refused = [
        await api.http.put(f"{url}/objectives/leads", json=leads | {"target": 99},
                           headers=auth("project_manager") | {"Idempotency-Key": "o-1"}),
        await api.http.put(f"{url}/objectives/likes", json=leads | {"metric": "likes"},
                           headers=auth("project_manager")),
        await api.http.put(f"{url}/objectives/leads", json=leads | {"target": 1}, headers=auth("finance")),
        await api.http.put(f"{url}/outcomes/booth", json={"kind": "lead", "title": "Booth", "value": 5, "reach": 9},
                           headers=auth("pr_communications")),
        await api.http.put(f"{url}/objectives/leads", json=leads | {"target": -1}, headers=auth("project_manager")),
    ]
    assert [r.status_code for r in refused] == [422, 422, 403, 422, 422]

    press = {"title": "Press reach", "metric": "media_reach", "baseline": 0, "target": 100_000}
    assert (await api.http.put(f"{url}/objectives/press", json=press,
                               headers=auth("pr_communications"))).status_code == 200
    outcomes = [("booth", {"kind": "lead", "title": "Booth scans", "value": 25}),
                ("webinar", {"kind": "lead", "title": "Follow-up webinar", "value": 30}),
                ("daily", {"kind": "media", "title": "Daily paper", "reach": 120_000})]
    for outcome_id, body in outcomes:
        r = await api.http.put(f"{url}/outcomes/{outcome_id}", json=body, headers=auth("pr_communications"))
        assert r.status_code == 200, r.text
    read = (await api.http.get(f"{url}/objectives", headers=auth("viewer"))).json()
    assert read["revision"] == 5
    assert [(o["objective_id"], o["baseline"], o["target"], o["actual"], o["of_target"], o["met"])
            for o in read["objectives"]] == [
        ("leads", 40.0, 60.0, 55.0, 91.7, False), ("press", 0.0, 100_000.0, 120_000.0, 120.0, True)]
    assert [(o["outcome_id"], o["value"], o["reach"]) for o in read["outcomes"]] == [
        ("booth", 25.0, None), ("daily", 1.0, 120_000), ("webinar", 30.0, None)]
    assert (await api.http.get(f"{url}/objectives", headers=auth("secretary"))).status_code == 404
    view = await api.state(event_id)
    assert any(e["act"] == "record_objectives" and "2 objective(s), 3 outcome(s)" in e["summary"]
               for e in view["audit"])


async def test_lessons_reach_the_next_event_of_the_kind(api_db: Api) -> None:
    """Lessons kept for one seminar are in the answer to starting the next seminar and on its lessons read; the
    event's own are not among its earlier ones; someone on the next seminar's team who may not read the first gets
    none of them; a conference does not get them; a role without the permission and an empty text are refused."""
    api = api_db
    first = await seminar(api)
    text = "Breakout rooms filled in ten minutes: open registration for them a week earlier."
    kept = await api.http.put(f"/events/{first}/lessons", json={"text": text}, headers=auth("project_manager"))
    assert kept.status_code == 200, kept.text
    assert (await api.http.put(f"/events/{first}/lessons", json={"text": "x"}, headers=auth("finance"))
            ).status_code == 403
    assert (await api.http.put(f"/events/{first}/lessons", json={"text": "  "}, headers=auth("project_manager"))
            ).status_code == 422
    assert (await api.http.get(f"/events/{first}/lessons", headers=auth("viewer"))).json()["lessons"] == []

    body = event_body(f"sem-{uuid.uuid4().hex[:10]}", kind="industry_seminar", title="Seminar, next year")
    body["team"]["venue_coordinator"].append({"id": "sue", "name": "Sue", "email": "sue@example.org"})
    started = await api.http.post("/events", json=body, headers=auth("project_manager"))
    assert started.status_code == 201, started.text
    assert [(x["event_id"], x["text"]) for x in started.json()["earlier_lessons"]] == [(first, text)]
    later = (await api.http.get(f"/events/{body['id']}/lessons", headers=auth("viewer"))).json()
    assert later["kind"] == "industry_seminar" and [x["text"] for x in later["lessons"]] == [text]
    outsider = await api.http.get(f"/events/{body['id']}/lessons", headers=auth("secretary"))
    assert outsider.status_code == 200 and outsider.json()["lessons"] == []  # sue may read this seminar, not the first

    other = event_body(f"conf-{uuid.uuid4().hex[:10]}")
    conf = await api.http.post("/events", json=other, headers=auth("project_manager"))
    assert conf.status_code == 201 and all(x["event_id"] != first for x in conf.json()["earlier_lessons"])
