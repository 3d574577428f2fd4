"""Changing the day's agenda over HTTP: POST /events/{id}/agenda/{item}/change, for the programme roles only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.conftest import Api, auth
from tests.api.test_roster import on_site, problem


def _at(minutes: int, base: datetime) -> str:
    return (base + timedelta(minutes=minutes)).isoformat()


async def test_the_programme_roles_change_an_item_and_the_page_shows_the_projection(api: Api):
    """On site, on-site command shortens the talk and moves the closing: the state shows the new plan, the
    old one and the reason; a refused change (an overlap, an unknown item, a role without the right) changes
    nothing."""
    eid = await api.start()
    base = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
    items = [{"id": "talk", "kind": "session", "title": "Talk", "start": _at(0, base), "minutes": 60},
             {"id": "closing", "kind": "closing", "title": "Closing", "start": _at(70, base), "minutes": 10}]
    r = await api.http.put(f"/events/{eid}/agenda", json={"items": items}, headers=auth("activity_planner"))
    assert r.status_code == 200, r.text
    await on_site(api, eid)

    out = await api.do("on_site_command", f"/events/{eid}/agenda/talk/change",
                       {"change": "shorten", "minutes": 15, "reason": "late start"})
    assert out["result"]["message"] == "Talk (talk) shortened by 15 min: late start"
    before = await api.state(eid)
    problem(await api.http.post(f"/events/{eid}/agenda/closing/change", headers=auth("on_site_command"),
                                json={"change": "move", "new_start": _at(30, base), "reason": "early"}), 409)
    problem(await api.http.post(f"/events/{eid}/agenda/nope/change", headers=auth("on_site_command"),
                                json={"change": "drop", "reason": "x"}), 422)
    problem(await api.http.post(f"/events/{eid}/agenda/closing/change", headers=auth("on_site_command"),
                                json={"change": "shorten", "reason": "no minutes"}), 422)
    problem(await api.http.post(f"/events/{eid}/agenda/closing/change", headers=auth("pr_communications"),
                                json={"change": "drop", "reason": "x"}), 403)
    after = await api.state(eid)
    assert after["agenda"] == before["agenda"] and after["audit_total"] == before["audit_total"]

    await api.do("activity_planner", f"/events/{eid}/agenda/closing/change",
                 {"change": "move", "new_start": _at(50, base), "reason": "finish early"})
    view = {a["item"]["id"]: a for a in (await api.state(eid))["agenda"]}
    assert view["talk"]["item"]["minutes"] == 45 and view["talk"]["planned"]["minutes"] == 60
    assert view["talk"]["change_reason"] == "late start"
    assert datetime.fromisoformat(view["closing"]["projected_start"]) == base + timedelta(minutes=50)
    assert datetime.fromisoformat(view["closing"]["planned"]["start"]) == base + timedelta(minutes=70)
