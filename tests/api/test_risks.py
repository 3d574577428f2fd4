"""The risk register over HTTP, on SQLite and PostgreSQL: writes, the preparation gate they feed, the read rules."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import Api, auth
from tests.api.test_documents import board_meeting, reasons


async def test_the_register_feeds_the_preparation_gate_and_shows_open_high_risks(api_db: Api, tmp_path: Path):
    """No register: the gate says so; a high risk without an owner: the gate names it; a retry of a write is the same
    change; an owner off the team, a member and a key reused for another change are refused and change nothing;
    with an owner the gate holds, and the register lists the open high risk for the go / no-go."""
    api = api_db
    event_id = await board_meeting(api, tmp_path)
    url = f"/events/{event_id}/risks"
    assert await reasons(api, event_id, "risks_assessed") == ["no risk register kept yet"]
    flood = {"title": "Room flooded", "likelihood": 4, "impact": 4, "response": "book a second room"}
    first = await api.http.put(f"{url}/flood", json=flood, headers=auth("secretary") | {"Idempotency-Key": "w-1"})
    assert first.status_code == 200, first.text
    again = await api.http.put(f"{url}/flood", json=flood, headers=auth("secretary") | {"Idempotency-Key": "w-1"})
    assert again.status_code == 200 and again.json() == first.json()
    assert await reasons(api, event_id, "risks_assessed") == ["high risk flood has no owner"]

    refused = [
        await api.http.put(f"{url}/flood", json=flood | {"owner": "zed"}, headers=auth("secretary")),
        await api.http.put(f"{url}/flood", json=flood | {"owner": "cal"}, headers=auth("board_member")),
        await api.http.put(f"{url}/flood", json=flood | {"impact": 1}, headers=auth("secretary") | {
            "Idempotency-Key": "w-1"}),
        await api.http.put(f"{url}/flood", json=flood | {"likelihood": 9}, headers=auth("secretary")),
    ]
    assert [r.status_code for r in refused] == [422, 403, 422, 422]
    register = (await api.http.get(url, headers=auth("chair"))).json()
    assert register["revision"] == 1 and register["risks"][0]["owner"] is None

    owned = await api.http.put(f"{url}/flood", json=flood | {"owner": "cal"}, headers=auth("secretary"))
    assert owned.status_code == 200, owned.text
    low = {"title": "Coffee runs out", "likelihood": 3, "impact": 1, "owner": "sue"}
    assert (await api.http.put(f"{url}/coffee", json=low, headers=auth("secretary"))).status_code == 200
    assert await reasons(api, event_id, "risks_assessed") == []
    register = (await api.http.get(url, headers=auth("viewer_of_kind"))).json()
    assert register["revision"] == 3 and register["high_from"] == 12
    assert [(r["risk_id"], r["score"], r["high"], r["version"]) for r in register["risks"]] == [
        ("flood", 16, True, 2), ("coffee", 3, False, 1)]
    assert [r["risk_id"] for r in register["open_high"]] == ["flood"]
    assert (await api.http.get(url, headers=auth("project_manager"))).status_code == 404  # not theirs to read
    view = await api.state(event_id)
    assert any(e["act"] == "record_risks" and "1 high open, 0 high without an owner" in e["summary"]
               for e in view["audit"])
