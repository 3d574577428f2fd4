"""Meeting documents over HTTP, on SQLite and PostgreSQL: attach, version, list and download within the read
rules; refusals that keep nothing; the papers sent to each board member, acknowledged on their own page."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import Api, auth, event_body
from tests.api.test_personal import link_in
from tests.support import eventually

TEAM = {"secretary": ["sue"], "chair": ["cal"], "board_member": ["bea", "bo"], "finance": ["sue"],
        "finance_approver": ["cal"], "sponsor": ["cal"], "venue_coordinator": ["sue"], "technical_support": ["sue"]}


async def board_meeting(api: Api, tmp_path: Path) -> str:
    """A board meeting 120 days ahead (sue its secretary, cal its chair, bea and bo its members), its archive
    store in `tmp_path`."""
    api.app.state.convene.settings.archive_root = tmp_path / "archive"
    body = event_body(f"bm-{uuid.uuid4().hex[:10]}", kind="board_meeting", owner="sue")
    body["team"] = {role: [{"id": p, "name": p.title(), "email": f"{p}@board.example.org"} for p in ids]
                    for role, ids in TEAM.items()}
    r = await api.http.post("/events", json=body, headers=auth("secretary"))
    assert r.status_code == 201, r.text
    await api.ready(body["id"])
    return body["id"]


async def attach(api: Api, event_id: str, doc_type: str, data: bytes, name: str = "doc.pdf", who: str = "secretary",
                 key: str | None = None, **fields: str) -> httpx.Response:
    headers = auth(who) | ({"Idempotency-Key": key} if key else {})
    return await api.http.post(f"/events/{event_id}/documents", headers=headers, data={"type": doc_type, **fields},
                               files={"file": (name, data, "application/octet-stream")})


def uploads(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "archive").rglob("uploads/*"))


async def reasons(api: Api, event_id: str, gate: str) -> list[str]:
    return next(g for g in (await api.state(event_id))["gates"] if g["id"] == gate)["reasons"]


async def test_attach_version_list_and_download_within_the_read_rules(api_db: Api, tmp_path: Path) -> None:
    """The secretary attaches the minutes (version 1 with its SHA-256; the same key again is the same document; a
    new file is version 2, version 1 kept); the team lists and downloads them, a viewer granted the kind sees that
    two confidential documents exist but not them; the closing gate stops asking for the minutes."""
    api = api_db
    event_id = await board_meeting(api, tmp_path)
    assert "no minutes attached yet" in await reasons(api, event_id, "closing")
    one = b"%PDF-1.7 minutes, first draft"
    r = await attach(api, event_id, "minutes", one, "minutes.pdf", key="up-1")
    assert r.status_code == 200, r.text
    doc = r.json()["document"]
    assert (doc["type"], doc["title"], doc["version"], doc["size"], doc["confidential"], doc["uploaded_by"]) == (
        "minutes", "minutes", 1, len(one), True, "sue")
    assert doc["sha256"] == hashlib.sha256(one).hexdigest() and r.json()["result"]["act"] == "record_document"
    again = await attach(api, event_id, "minutes", one, "minutes.pdf", key="up-1")
    assert again.status_code == 200 and again.json()["document"]["doc_id"] == doc["doc_id"]
    two = await attach(api, event_id, "minutes", b"%PDF-1.7 minutes, as approved", "minutes-v2.pdf", key="up-2")
    assert two.status_code == 200 and two.json()["document"]["version"] == 2

    listed = (await api.http.get(f"/events/{event_id}/documents", headers=auth("chair"))).json()
    assert [(d["type"], d["version"]) for d in listed["documents"]] == [("minutes", 1), ("minutes", 2)]
    assert listed["hidden"] == 0 and listed["papers"]["of"] == 2 and listed["papers"]["acknowledged"] == 0
    file = await api.http.get(doc["download"], headers=auth("chair"))
    assert file.status_code == 200 and file.content == one and file.headers["x-content-sha256"] == doc["sha256"]
    outsider = (await api.http.get(f"/events/{event_id}/documents", headers=auth("viewer_of_kind"))).json()
    assert outsider["documents"] == [] and outsider["hidden"] == 2
    assert (await api.http.get(doc["download"], headers=auth("viewer_of_kind"))).status_code == 404
    assert (await api.http.get(doc["download"], headers=auth("project_manager"))).status_code == 404  # not theirs

    closing = await reasons(api, event_id, "closing")
    assert "no minutes attached yet" not in closing and "no resolutions attached yet" in closing
    view = await api.state(event_id)
    assert any(e["act"] == "record_document" and "minutes v2" in e["summary"] for e in view["audit"])


async def test_refused_uploads_keep_nothing(api_db: Api, tmp_path: Path, monkeypatch: Any) -> None:
    """A member may not attach (403); an unknown type, a format not allowed, bytes that are not what the name says,
    a file over the definition's limit and a key reused for another file are refused: no row, no file, no fact."""
    api = api_db
    event_id = await board_meeting(api, tmp_path)
    assert (await attach(api, event_id, "minutes", b"%PDF-ok", key="k-ok")).status_code == 200
    before = uploads(tmp_path)
    assert (await attach(api, event_id, "minutes", b"%PDF-x", who="board_member")).status_code == 403
    assert (await attach(api, event_id, "holiday_photos", b"%PDF-x")).status_code == 422
    assert (await attach(api, event_id, "minutes", b"MZ\x90\x00", "minutes.pdf")).status_code == 422
    assert (await attach(api, event_id, "minutes", b"MZ\x90\x00", "minutes.exe")).status_code == 422
    assert (await attach(api, event_id, "minutes", b"%PDF-other", key="k-ok")).status_code == 422
    registry = api.app.state.convene.registry
    small = registry.get("board_meeting").model_copy(update={"document_max_mb": 1})
    monkeypatch.setitem(registry._by_kind, "board_meeting", small)
    big = await attach(api, event_id, "resolutions", b"%PDF-" + b"0" * (1024 * 1024))
    assert big.status_code == 413 and "1 MB" in big.json()["detail"]
    listed = (await api.http.get(f"/events/{event_id}/documents", headers=auth("secretary"))).json()
    assert [d["type"] for d in listed["documents"]] == ["minutes"] and uploads(tmp_path) == before
    assert "no resolutions attached yet" in await reasons(api, event_id, "closing")


async def test_each_member_acknowledges_the_papers_on_their_own_page(api_db: Api, tmp_path: Path) -> None:
    """The secretary attaches the papers and sends them: each member's message carries their own link; bea's
    page lists the papers with their checksum, downloads one, and acknowledges once (a form sent twice is one
    receipt); the gate then waits for bo alone, whose receipt on paper the secretary records."""
    api = api_db
    event_id = await board_meeting(api, tmp_path)
    early = await api.http.post(f"/events/{event_id}/papers/send", headers=auth("secretary"))
    assert early.status_code == 409  # nothing to send yet
    paper = b"%PDF-1.7 board pack Q3"
    doc = (await attach(api, event_id, "board_papers", paper, "pack.pdf", title="Board pack")).json()["document"]
    assert (await api.http.post(f"/events/{event_id}/papers/send", headers=auth("board_member"))).status_code == 403
    sent = await api.http.post(f"/events/{event_id}/papers/send", headers=auth("secretary"))
    assert sent.status_code == 200 and sent.json()["sent_to"] == ["bea", "bo"]
    await eventually(lambda: {n.recipient.person_id for n in api.stand_ins.notifications
                              if n.context.get("audience") == "papers" and "personal_link" in n.context}
                     == {"bea", "bo"}, seconds=20)
    link = link_in(api, "bea", kind="reminder")
    page = await api.http.get(link)
    assert page.status_code == 200 and 'id="acknowledge-form"' in page.text and doc["sha256"][:12] in page.text
    assert f"{link}/papers/{doc['doc_id']}" in page.text
    file = await api.http.get(f"{link}/papers/{doc['doc_id']}")
    assert file.status_code == 200 and file.content == paper
    key = re.search(r'name="key" value="([0-9a-f]+)"', page.text).group(1)
    for _ in range(2):
        r = await api.http.post(f"{link}/acknowledge", data={"key": key}, follow_redirects=False)
        assert r.status_code == 303 and "done=papers_done" in r.headers["location"]
    page = await api.http.get(link)
    assert 'id="acknowledged"' in page.text and 'id="acknowledge-form"' not in page.text

    progress = (await api.http.get(f"/events/{event_id}/documents", headers=auth("secretary"))).json()["papers"]
    assert (progress["acknowledged"], progress["in_time"], progress["of"]) == (1, 1, 2)
    [waiting] = await reasons(api, event_id, "papers_acknowledged")
    assert waiting.startswith("1 of 2 board_member acknowledged") and "(missing: bo)" in waiting
    by_hand = await api.http.post(f"/events/{event_id}/papers/bo/acknowledge", headers=auth("secretary"))
    assert by_hand.status_code == 200, by_hand.text
    assert await reasons(api, event_id, "papers_acknowledged") == []
    progress = (await api.http.get(f"/events/{event_id}/documents", headers=auth("secretary"))).json()["papers"]
    assert [(p["person_id"], p["in_time"]) for p in progress["people"]] == [("bea", True), ("bo", True)]
    stranger = await api.http.post(f"/events/{event_id}/papers/zed/acknowledge", headers=auth("secretary"))
    assert stranger.status_code == 422
