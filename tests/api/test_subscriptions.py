"""Organisations' webhook subscriptions end to end: made over the API by the organisation's admin, fed by a
real event's notifications through the worker, received by loopback endpoints that verify each delivery
with the ``standardwebhooks`` library; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api.conftest import Api, auth
from tests.subscribers import Subscriber, subscribers

GATES = ("theme_recorded", "budget_approved", "date_venue_confirmed")  # team_ready passes: the team names every role


async def _subscribe(api: Api, who: str, organisation: str, endpoint: Subscriber, kinds: list[str]) -> str:
    r = await api.http.post(f"/organisations/{organisation}/subscriptions", headers=auth(who),
                            json={"url": endpoint.url, "kinds": kinds})
    assert r.status_code == 201, r.text
    endpoint.secret = r.json()["secret"]
    return r.json()["id"]


async def _settled(api: Api, event_id: str, want: int) -> dict[str, Any]:
    """The event's deliveries once `want` of them went to subscriptions (and a moment more for strays)."""
    body: dict[str, Any] = {}
    for _ in range(300):
        body = (await api.http.get(f"/events/{event_id}/deliveries", params={"limit": 500},
                                   headers=auth("viewer"))).json()
        if sum(":sub:" in d["key"] for d in body["items"]) >= want:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    return (await api.http.get(f"/events/{event_id}/deliveries", params={"limit": 500},
                               headers=auth("viewer"))).json()


async def test_an_organisations_subscriptions_receive_its_events_notifications(api_db: Api):
    """Northwind's event leaves preparation: the subscription filtered to ``stage_entered`` receives only
    those, the unfiltered one every team notification, each once and verified; Contoso's receives nothing;
    the deliveries route lists them with the event's others."""
    api = api_db
    with subscribers(3) as (entered_only, everything, contoso):
        a = await _subscribe(api, "org_admin", "Northwind", entered_only, ["stage_entered"])
        b = await _subscribe(api, "org_admin", "Northwind", everything, [])
        await _subscribe(api, "operator", "Contoso", contoso, [])

        event_id = await api.start()  # pia's: Northwind's
        for gate in GATES:
            await api.do("sponsor", f"/events/{event_id}/decisions", {"gate": gate, "decision": "waive", "reason": "ok"})
        body = await _settled(api, event_id, 2)

        team = [d for d in body["items"] if ":sub:" not in d["key"]]
        kinds = {d["kind"] for d in team}
        assert kinds == {"stage_left", "stage_entered"}, kinds
        # one delivery per notification and subscription, whatever the number of its team deliveries
        notifications = {(d["key"].rsplit(":", 3)[0], d["kind"]) for d in team}
        assert sorted(everything.keys()) == sorted(f"{n}:sub:{b}" for n, _ in notifications)
        assert sorted(entered_only.keys()) == sorted(f"{n}:sub:{a}" for n, k in notifications if k == "stage_entered")
        assert entered_only.kinds() == {"stage_entered"} and everything.kinds() == {"stage_left", "stage_entered"}
        assert everything.hits == len(everything.accepted) and entered_only.hits == len(entered_only.accepted)
        assert everything.refused == entered_only.refused == []
        assert contoso.hits == 0, "Contoso's subscription received Northwind's notifications"
        subs = {d["key"]: d for d in body["items"] if ":sub:" in d["key"]}
        assert len(subs) == len(everything.accepted) + len(entered_only.accepted)
        assert {d["status"] for d in subs.values()} == {"sent"}

        # unsubscribed: nothing more reaches it; a subscription made now gets what follows (the cancellation)
        r = await api.http.delete(f"/organisations/Northwind/subscriptions/{b}", headers=auth("org_admin"))
        assert r.status_code == 204
        before, told = everything.hits, entered_only.hits
        with subscribers(1) as (cancellations,):
            d = await _subscribe(api, "org_admin", "Northwind", cancellations, ["cancellation"])
            await api.do("project_manager", f"/events/{event_id}/cancel", {"reason": "sponsor withdrew"})
            after = await _settled(api, event_id, len(subs) + 1)
            (key,) = cancellations.keys()  # one notification, once
            assert key.startswith(f"{event_id}:cancel") and key.endswith(f":sub:{d}"), key
            assert cancellations.accepted[0]["kind"] == "cancellation" and cancellations.refused == []
        assert any(x["kind"] == "cancellation" and ":sub:" not in x["key"] for x in after["items"])
        assert (everything.hits, entered_only.hits, contoso.hits) == (before, told, 0)
