"""Inviting through the roster database: pages of up to 1,000 people, CSV imports, resends, the CLI.

People are written to the roster first and the event is told in one small act naming them as a
batch; people already invited are left out and named; a resend of a key answers the same.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from console import cli
from convene.settings import get_settings
from tests.api.conftest import Api, auth
from workflows.client import state

PR = "pr_communications"


def guests(start: int, stop: int) -> list[dict[str, Any]]:
    return [{"id": f"p{i:05d}", "name": f"Guest {i:05d}", "email": f"p{i}@example.org"} for i in range(start, stop)]


async def test_2500_people_in_three_pages_are_paged_back(api: Api):
    """2,500 people invited in pages of 1,000, 1,000 and 500 come back in invitation order, a page at a time."""
    event_id = await api.start()
    answers = []
    for n, (lo, hi) in enumerate([(0, 1000), (1000, 2000), (2000, 2500)]):
        answers.append(await api.do(PR, f"/events/{event_id}/attendees", {"attendees": guests(lo, hi)},
                                    **{"Idempotency-Key": f"page-{n}-{event_id}"}))
    assert [a["invited"] for a in answers] == [1000, 1000, 500]
    assert [a["result"]["message"] for a in answers] == ["1000 attendee(s) invited", "1000 attendee(s) invited",
                                                         "500 attendee(s) invited"]
    assert all(a["skipped"] == [] and "state" not in a for a in answers)

    first = (await api.http.get(f"/events/{event_id}/attendees", params={"limit": 500}, headers=auth(PR))).json()
    assert (first["total"], first["matched"], len(first["items"])) == (2500, 2500, 500)
    assert [a["person"]["id"] for a in first["items"][:3]] == ["p00000", "p00001", "p00002"]
    seen = [a["person"]["id"] for a in first["items"]]
    for offset in range(500, 2500, 500):
        page = (await api.http.get(f"/events/{event_id}/attendees", params={"offset": offset, "limit": 500},
                                   headers=auth("viewer"))).json()
        seen += [a["person"]["id"] for a in page["items"]]
    assert seen == [f"p{i:05d}" for i in range(2500)]

    view = await api.state(event_id)
    assert view["roster"] == "database" and view["attendees"]["invited"] == 2500
    progress: dict[str, Any] = {}
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:  # the sends run beside the event, after the acts answered
        progress = (await api.http.get(f"/events/{event_id}/invitations", headers=auth("viewer"))).json()
        if progress["sent"] == 2500:
            break
        await asyncio.sleep(0.1)
    assert progress == {"invited": 2500, "sent": 2500, "failed": 0, "skipped": 0, "pending": 0}
    assert len([n for n in api.stand_ins.notifications if n.kind == "invitation" and n.event_id == event_id]) == 2500
    # the workflow kept three small acts, no people
    record = await state(api.env.client, event_id)
    assert [a.summary for a in record.audit if a.act == "invite_attendees"] == [
        "1000 attendee(s) invited", "1000 attendee(s) invited", "500 attendee(s) invited"]


async def test_resend_skips_and_conflicts(api: Api):
    """A resend answers the same, people already invited are named, nobody new or a used key's other list is 409."""
    event_id = await api.start()
    path = f"/events/{event_id}/attendees"
    key = {"Idempotency-Key": f"inv-{uuid.uuid4().hex}"}
    first = await api.do(PR, path, {"attendees": guests(0, 3)}, **key)
    assert (first["invited"], first["skipped"]) == (3, [])
    again = await api.do(PR, path, {"attendees": guests(0, 3)}, **key)
    assert again == first

    overlap = await api.do(PR, path, {"attendees": guests(2, 5)})
    assert (overlap["invited"], overlap["skipped"]) == (2, ["p00002"])
    assert overlap["result"]["message"] == "2 attendee(s) invited"

    nobody = await api.http.post(path, json={"attendees": guests(0, 2)}, headers=auth(PR))
    assert nobody.status_code == 409, nobody.text
    assert nobody.json()["detail"] == "already invited: p00000, p00001"

    reused = await api.http.post(path, json={"attendees": guests(10, 12)}, headers=auth(PR) | key)
    assert reused.status_code == 409 and "idempotency key" in reused.json()["detail"]
    twice = await api.http.post(path, json={"attendees": guests(20, 21) * 2}, headers=auth(PR))
    assert twice.status_code == 422 and "p00020" in twice.json()["detail"]
    too_many = await api.http.post(path, json={"attendees": guests(100, 1101)}, headers=auth(PR))
    assert too_many.status_code == 422
    denied = await api.http.post(path, json={"attendees": guests(30, 31)}, headers=auth("finance"))
    assert denied.status_code == 403

    page = (await api.http.get(path, headers=auth(PR))).json()
    assert page["total"] == 5 and [a["person"]["id"] for a in page["items"]] == [f"p0000{i}" for i in range(5)]


def csv_text(rows: list[dict[str, Any]], extra: str = "") -> str:
    return "id,name,email,category,needs\n" + "".join(
        f"{r['id']},{r['name']},{r['email']},partner,\n" for r in rows) + extra


async def test_csv_import_invites_in_pages_and_lists_bad_rows(api: Api):
    """A CSV of 2,300 good rows and 2 bad ones is invited in three pages; the bad rows are listed by line."""
    event_id = await api.start()
    path = f"/events/{event_id}/attendees/import"
    body = csv_text(guests(0, 2300), extra="bad id!,Someone,,partner,\nx1,Ex,,royalty,\n")
    headers = auth(PR) | {"Content-Type": "text/csv"}
    r = await api.http.post(path, content=body.encode(), headers=headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert {k: out[k] for k in ("rows", "invited", "skipped", "pages")} == {
        "rows": 2300, "invited": 2300, "skipped": 0, "pages": 3}
    assert [e["line"] for e in out["errors"]] == [2302, 2303]
    assert "category" in out["errors"][1]["message"]

    again = await api.http.post(path, content=body.encode(), headers=headers)
    assert again.status_code == 200 and again.json() == out  # the same file: the same acts, the same answer

    more = csv_text(guests(2290, 2310))
    r = await api.http.post(path, content=more.encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("rows", "invited", "skipped", "pages")} == {
        "rows": 20, "invited": 10, "skipped": 10, "pages": 1}
    assert r.json()["skipped_ids"] == [f"p{i:05d}" for i in range(2290, 2300)]
    view = await api.state(event_id)
    assert view["attendees"]["invited"] == 2310

    r = await api.http.post(path, json={"attendees": []}, headers=auth(PR))
    assert r.status_code == 415
    r = await api.http.post(path, content=b"name\nAnn\n", headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["line"] == 1
    r = await api.http.post(path, content=body.encode(), headers=auth("viewer") | {"Content-Type": "text/csv"})
    assert r.status_code == 403


async def test_the_cli_imports_through_the_roster_in_pages(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`convene events import-attendees` writes the roster first and prints each page of 1,000 as it goes."""
    event_id = await api.start()
    await api.do(PR, f"/events/{event_id}/attendees", {"attendees": guests(0, 5)})
    file = tmp_path / "guests.csv"
    file.write_text(csv_text(guests(0, 1500)), encoding="utf-8")
    monkeypatch.setenv("CONVENE_TEMPORAL_ADDRESS", api.env.client.service_client.config.target_host)
    monkeypatch.setenv("CONVENE_TEMPORAL_NAMESPACE", api.env.client.namespace)
    monkeypatch.setenv("CONVENE_DATABASE_URL", str(api.db.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    try:
        args = ["events", "import-attendees", event_id, str(file), "--actor", "prue", "--role", PR]
        result = await asyncio.to_thread(CliRunner().invoke, cli.app, args)
        denied = await asyncio.to_thread(CliRunner().invoke, cli.app,
                                         [*args[:4], "--actor", "fay", "--role", "finance"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{file}: read as utf-8 (UTF-8), separated by ','",
        "page 1/2: 995 invited, 5 already invited",
        "page 2/2: 500 invited, 0 already invited",
        "invited 1495 attendees; 5 already invited; 0 rows refused",
    ]
    assert denied.exit_code == 3 and "Forbidden" in denied.output
    page = (await api.http.get(f"/events/{event_id}/attendees", params={"limit": 1}, headers=auth(PR))).json()
    assert page["total"] == 1500
    record = await state(api.env.client, event_id)
    assert [a.summary for a in record.audit if a.act == "invite_attendees"] == [
        "5 attendee(s) invited", "995 attendee(s) invited", "500 attendee(s) invited"]


async def test_the_api_imports_files_as_excel_writes_them_and_says_how_it_read_them(api: Api):
    """Issue 17 items 1-3 through the API: GBK, Big5, UTF-16 "Unicode text" with tabs, ';' with and without
    ``sep=;``, cp1252; each answer names the encoding and separator read; a wrong encoding given is a 422."""
    event_id = await api.start()
    path = f"/events/{event_id}/attendees/import"
    headers = auth(PR) | {"Content-Type": "text/csv"}
    files = [
        ("id,name,email\r\nwf,王芳,wf@example.org\r\n".encode("gbk"), ("gb18030", "detected", ","), "王芳"),
        ("id,name,email\nct,陳大文,ct@example.org\n".encode("big5"), ("big5", "detected", ","), "陳大文"),
        ("\ufeffid\tname\temail\r\nlm\t李明\tlm@example.org\r\n".encode("utf-16-le"), ("utf-16", "BOM", "\t"), "李明"),
        (b"id;name;email\nann;Ann Lee;ann@example.org\n", ("utf-8", "UTF-8", ";"), "Ann Lee"),
        (b"sep=;\nid;name;email\nbob;Bob Ray;bob@example.org\n", ("utf-8", "UTF-8", ";"), "Bob Ray"),
        ("id;name;email\njm;José Müller;jm@example.org\n".encode("cp1252"), ("cp1252", "detected", ";"), "José Müller"),
    ]
    for raw, (encoding, how, delimiter), name in files:
        r = await api.http.post(path, content=raw, headers=headers)
        assert r.status_code == 200, r.text
        out = r.json()
        assert (out["encoding"], out["encoding_how"], out["delimiter"], out["invited"], out["errors"]) == (
            encoding, how, delimiter, 1, []), (name, out)
    page = (await api.http.get(f"/events/{event_id}/attendees", params={"limit": 10}, headers=auth(PR))).json()
    assert sorted(a["person"]["name"] for a in page["items"]) == sorted(f[2] for f in files)

    given = await api.http.post(path, params={"encoding": "shift_jis"}, headers=headers,
                                content="id,name\nyt,山田太郎\n".encode("shift_jis"))
    assert given.status_code == 200 and given.json()["encoding_how"] == "given", given.text
    wrong = await api.http.post(path, params={"encoding": "utf-8"}, headers=headers,
                                content="id,name\nwf,王芳\n".encode("gbk"))
    assert wrong.status_code == 422 and "not utf-8" in wrong.json()["detail"]


async def test_the_cli_reads_a_gbk_file_and_takes_an_encoding(api: Api, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    """`convene events import-attendees` on a GBK file from Chinese Excel: detected, said, imported;
    `--encoding big5` on a Big5 file is obeyed; a file not in the encoding given exits 2."""
    event_id = await api.start()
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("id,name,email\r\nwf,王芳,wf@example.org\r\n".encode("gbk"))
    big5 = tmp_path / "big5.csv"
    big5.write_bytes("id;name\nct;陳大文\n".encode("big5"))
    monkeypatch.setenv("CONVENE_TEMPORAL_ADDRESS", api.env.client.service_client.config.target_host)
    monkeypatch.setenv("CONVENE_TEMPORAL_NAMESPACE", api.env.client.namespace)
    monkeypatch.setenv("CONVENE_DATABASE_URL", str(api.db.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    try:
        base = ["events", "import-attendees", event_id]
        who = ["--actor", "prue", "--role", PR]
        first = await asyncio.to_thread(CliRunner().invoke, cli.app, [*base, str(gbk), *who])
        second = await asyncio.to_thread(CliRunner().invoke, cli.app,
                                         [*base, str(big5), *who, "--encoding", "big5"])
        wrong = await asyncio.to_thread(CliRunner().invoke, cli.app,
                                        [*base, str(gbk), *who, "--encoding", "utf-8"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == f"{gbk}: read as gb18030 (detected), separated by ','"
    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[0] == f"{big5}: read as big5 (given), separated by ';'"
    assert wrong.exit_code == 2 and "not utf-8" in wrong.output
    page = (await api.http.get(f"/events/{event_id}/attendees", params={"limit": 10}, headers=auth(PR))).json()
    assert sorted(a["person"]["name"] for a in page["items"]) == ["王芳", "陳大文"]
