"""Definitions over HTTP: the kinds, one kind with its diagram and timeline, the JSON Schema."""

from __future__ import annotations

from tests.api.conftest import Api, auth
from definitions import definition_hash, shipped


def _diagram_or_none(kind: str) -> str | None:
    from workflows.lifecycle import mermaid_diagram

    try:
        return mermaid_diagram(shipped().get(kind))
    except Exception:  # noqa: BLE001 - the API answers null when the diagram cannot be drawn
        return None


async def test_lists_the_shipped_kinds(api: Api):
    """Every shipped kind is listed with its hash and stages; reading needs a token."""
    assert (await api.http.get("/definitions")).status_code == 401
    r = await api.http.get("/definitions", headers=auth("viewer"))
    assert r.status_code == 200
    by_kind = {d["kind"]: d for d in r.json()}
    assert set(by_kind) == set(shipped().kinds())
    conf = by_kind["conference"]
    assert conf["hash"] == definition_hash(shipped().get("conference")) and conf["owner_role"] == "project_manager"
    assert [s["id"] for s in conf["stages"]] == ["preparation", "planning", "promotion", "on_site", "post_event"]


async def test_one_kind_with_diagram_and_timeline(api: Api):
    """A kind answers its definition, the diagram drawn from the same machine, and (if available) a timeline."""
    r = await api.http.get("/definitions/conference", params={"start": "2030-06-01T09:00:00+00:00"},
                           headers=auth("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["definition"]["kind"] == "conference" and body["hash"] == definition_hash(shipped().get("conference"))
    assert body["mermaid"] == _diagram_or_none("conference")
    try:
        import workflows.timeline  # noqa: F401
    except ImportError:
        assert body["timeline"] is None
    else:
        first = body["timeline"][0]
        # The earliest step: the venue booking (start - 65 days) is reminded of 7 days before; the budget
        # approval (start - 60 days) 3 days before.
        assert first["deadline"] == "venue_booking" and first["at"].startswith("2030-03-21T09:00")
        budget = next(step for step in body["timeline"] if step["deadline"] == "budget_approval")
        assert budget["at"].startswith("2030-03-30T09:00")


async def test_unknown_kind_is_404_and_schema_is_served(api: Api):
    """An unknown kind is 404 naming the known ones; the JSON Schema of the format is served."""
    r = await api.http.get("/definitions/picnic", headers=auth("viewer"))
    assert r.status_code == 404 and "conference" in r.json()["detail"]
    r = await api.http.get("/definitions/schema", headers=auth("viewer"))
    assert r.status_code == 200
    assert r.json()["title"] == "Convene lifecycle definition" and "$schema" in r.json()


async def test_agenda_check_says_what_the_gate_will_say(api: Api):
    """The editor's check is the gate's: a room overlap, a speaker in two rooms at once, each room's buffer
    against the conference's 10 %; nothing is stored and any signed-in reader may ask."""
    at = "2030-06-01T09:00:00+00:00"
    items = [
        {"id": "opening", "kind": "opening", "start": at, "minutes": 30},
        {"id": "talk", "kind": "session", "start": "2030-06-01T09:20:00+00:00", "minutes": 40, "speaker_id": "kim"},
        {"id": "panel", "kind": "panel", "start": "2030-06-01T09:30:00+00:00", "minutes": 30, "room": "b",
         "speaker_id": "kim"},
    ]
    assert (await api.http.post("/definitions/conference/agenda-check", json={"items": items})).status_code == 401
    r = await api.http.post("/definitions/conference/agenda-check", json={"items": items}, headers=auth("viewer"))
    assert r.status_code == 200, r.text
    shape = r.json()
    assert shape["overlaps"] == [
        {"first": "opening", "second": "talk", "room": "main", "speaker": None},
        {"first": "talk", "second": "panel", "room": None, "speaker": "kim"},
    ]
    # main runs 09:00-10:00 with 70 busy minutes: no buffer at all (-17 %); b has one item: its whole span
    assert [(b["room"], round(b["share"], 3), b["items"]) for b in shape["rooms"]] == [
        ("main", -0.167, ["opening", "talk"]), ("b", 0.0, ["panel"])]
    assert shape["min_buffer_share"] == 0.1


async def test_agenda_check_refuses_rows_it_cannot_read(api: Api):
    r = await api.http.post("/definitions/conference/agenda-check", headers=auth("viewer"),
                            json={"items": [{"id": "x", "kind": "juggling", "start": "tomorrow", "minutes": 0}]})
    assert r.status_code == 422
    r = await api.http.post("/definitions/picnic/agenda-check", json={"items": []}, headers=auth("viewer"))
    assert r.status_code == 404


async def test_the_forms_choices_come_from_the_act_models(api: Api):
    from typing import get_args

    from workflows.messages import InviteSpeaker, ItemKind, ReportIncident

    r = await api.http.get("/definitions/vocabulary/acts", headers=auth("viewer"))
    assert r.status_code == 200
    vocab = r.json()
    assert vocab["slots"] == list(get_args(InviteSpeaker.model_fields["slot"].annotation))
    assert vocab["item_kinds"] == list(get_args(ItemKind))
    assert vocab["incident_categories"] == ["equipment", "safety", "injury", "weather", "traffic", "other"]
    assert vocab["severities"] == list(get_args(ReportIncident.model_fields["severity"].annotation))
    assert vocab["free_item_kinds"] == ["break", "meal"] and "contingency" in vocab["budget_categories"]
