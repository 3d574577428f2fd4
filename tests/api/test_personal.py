"""Personal pages: attendees and speakers answer for themselves through the link in their email.

The links come from the messages the worker sent (the real notifier, its sends recorded): nothing here
makes a link by hand except to show that one made with another key opens nothing.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from store import Links
from store.schema import audit
from tests.api.conftest import Api, auth
from tests.api.test_roster import attendee, invite, on_site
from tests.support import eventually


def link_in(api: Api, person_id: str, kind: str = "invitation") -> str:
    """The path of the personal link in the newest `kind` email to `person_id`."""
    sent = [n for n in api.stand_ins.notifications
            if n.recipient.person_id == person_id and n.kind == kind and n.channel == "email"]
    assert sent, f"no {kind} to {person_id}"
    url = sent[-1].context["personal_link"]
    assert url.startswith("http://127.0.0.1:8000/p/")
    return url.removeprefix("http://127.0.0.1:8000")


async def invited(api: Api, event_id: str, person_id: str) -> str:
    await invite(api, event_id, person_id)
    await eventually(lambda: any(n.recipient.person_id == person_id and "personal_link" in n.context
                                 for n in api.stand_ins.notifications), seconds=20)
    return link_in(api, person_id)


async def answer(api: Api, path: str, **form: str) -> Any:
    return await api.http.post(path, data=form, follow_redirects=False)


async def test_an_attendee_answers_through_their_link_once_per_form_and_gets_a_ticket(api_db: Api):
    """The invitation carries ann's link; her page shows the event; her RSVP (sent twice with the form's key) is
    one answer in the roster and one audit row with ann herself as the actor; then her page shows her ticket, a
    QR code of an opaque ticket link that names nobody."""
    event_id = await api_db.start()
    await api_db.ready(event_id)
    link = await invited(api_db, event_id, "ann")
    page = await api_db.http.get(link)
    assert page.status_code == 200 and "Convene Summit" in page.text and 'id="rsvp-form"' in page.text
    assert page.headers["content-type"].startswith("text/html")
    key = re.search(r'name="key" value="([0-9a-f]+)"', page.text).group(1)

    for _ in range(2):
        r = await answer(api_db, f"{link}/rsvp", key=key, response="yes", needs_note="wheelchair access")
        assert r.status_code == 303 and r.headers["location"].startswith(f"{link}?done=done")
    record = await attendee(api_db, event_id, "ann")
    assert record["rsvp"] == "yes" and record["person"]["needs_note"] == "wheelchair access"
    async with api_db.db.read() as conn:
        rows = list(await conn.execute(select(audit).where(audit.c.event_id == event_id, audit.c.act == "rsvp")))
    assert [(r.actor, r.role, r.key) for r in rows] == [("ann", "guest", f"p:{key}")]

    page = await api_db.http.get(link)
    assert 'id="ticket"' in page.text and "Your answer: yes" in page.text
    svg = await api_db.http.get(f"{link}/ticket.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "ann" not in svg.text.lower() and svg.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    ics = await api_db.http.get(f"{link}/event.ics")
    assert ics.status_code == 200 and f"UID:{event_id}@convene" in ics.text and "METHOD:REQUEST" in ics.text


async def test_links_that_open_nothing_change_nothing(api: Api):
    """A tampered link, one made with another key and one for another person's purpose: each is a page that says
    so (404, no detail), and ann's answer stays unanswered."""
    event_id = await api.start()
    await api.ready(event_id)
    link = await invited(api, event_id, "ann")
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    foreign = "/p/" + await Links(api.db, b"another-server").token(event_id, "ann", "attendee",
                                                                     (await api.roster.facts(event_id)).end)
    for path in (tampered, foreign, "/p/not-a-link"):
        page = await api.http.get(path)
        assert page.status_code == 404 and "does not open anything" in page.text
        r = await answer(api, f"{path}/rsvp", key="k1", response="yes")
        assert r.status_code == 404
    assert (await attendee(api, event_id, "ann"))["rsvp"] is None


async def test_the_page_speaks_the_person_language(api: Api):
    """Accept-Language with q-values picks the page's language: Traditional for zh-TW, Simplified for zh-CN."""
    event_id = await api.start()
    await api.ready(event_id)
    link = await invited(api, event_id, "ann")
    tw = await api.http.get(link, headers={"Accept-Language": "fr,zh-TW;q=0.9,en;q=0.8"})
    assert '<html lang="zh-Hant">' in tw.text and "您會出席嗎" in tw.text
    cn = await api.http.get(link, headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-Hans">' in cn.text and "您会出席吗" in cn.text


async def test_a_speaker_accepts_through_their_link_and_the_keynote_gate_moves(api: Api):
    """The speaker's invitation carries their link; accepting there is the workflow's own speaker reply, done by
    the speaker (role guest); the keynote gate then counts them; their link cannot answer for someone else."""
    event_id = await api.start()
    await api.ready(event_id)
    await api.do("activity_planner", f"/events/{event_id}/speakers", {
        "speaker": {"id": "kim", "name": "Kim Keynote", "email": "kim@example.org"}, "slot": "keynote",
        "topic": "Durable events"})
    await eventually(lambda: any(n.recipient.person_id == "kim" and "personal_link" in n.context
                                 for n in api.stand_ins.notifications), seconds=20)
    link = link_in(api, "kim")
    page = await api.http.get(link)
    assert page.status_code == 200 and 'id="accept"' in page.text and "not answered yet" in page.text
    r = await answer(api, f"{link}/reply", key="k-accept", response="accepted")
    assert r.status_code == 303
    view = await api.state(event_id)
    [kim] = [s for s in view["speaker_list"] if s["person"]["id"] == "kim"]
    assert kim["status"] == "accepted"
    assert view["speakers"]["confirmed_keynotes"] == 1
    assert any(e["actor"] == "kim" and e["role"] == "guest" for e in view["audit"])
    again = await answer(api, f"{link}/rsvp", key="k2", response="yes")  # a speaker link is not an attendee's
    assert again.status_code == 404


async def test_too_many_requests_from_one_address_are_refused(api: Api):
    """Past the per-address budget the pages answer 429 (and open nothing)."""
    api.app.state.convene.settings.public_requests_per_minute = 5
    codes = [(await api.http.get("/p/not-a-link")).status_code for _ in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]


async def test_an_accepted_speaker_uploads_slides_into_the_archive_folder(api: Api, tmp_path):
    """Slides before accepting are refused; after, a PDF lands in the event's archive folder as slides-kim.pdf, a
    newer .pptx replaces it; a file whose bytes are not what its name says, or a format not allowed, is refused."""
    from activities.archive import dossier_path

    api.app.state.convene.settings.archive_root = tmp_path / "archive"
    event_id = await api.start()
    await api.ready(event_id)
    await api.do("activity_planner", f"/events/{event_id}/speakers", {
        "speaker": {"id": "kim", "name": "Kim Keynote", "email": "kim@example.org"}, "slot": "keynote"})
    await eventually(lambda: any(n.recipient.person_id == "kim" and "personal_link" in n.context
                                 for n in api.stand_ins.notifications), seconds=20)
    link = link_in(api, "kim")
    pdf = {"file": ("talk.pdf", b"%PDF-1.7\n...", "application/pdf")}
    early = await api.http.post(f"{link}/slides", files=pdf)
    assert early.status_code == 409
    assert (await answer(api, f"{link}/reply", key="acc", response="accepted")).status_code == 303
    done = await api.http.post(f"{link}/slides", files=pdf, follow_redirects=False)
    assert done.status_code == 303 and "done=slides_done" in done.headers["location"]
    view = await api.state(event_id)
    from workflows.messages import EventDetails
    folder = tmp_path / "archive" / dossier_path(EventDetails.model_validate(view["event"]), "conference")
    assert (folder / "slides-kim.pdf").read_bytes() == b"%PDF-1.7\n..."
    pptx = {"file": ("talk.pptx", b"PK\x03\x04 zipped", "application/octet-stream")}
    assert (await api.http.post(f"{link}/slides", files=pptx, follow_redirects=False)).status_code == 303
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["slides-kim.pptx"]
    for name, data in (("fake.pdf", b"MZ\x90\x00 not a pdf"), ("talk.exe", b"MZ"), ("noext", b"%PDF-")):
        r = await api.http.post(f"{link}/slides", files={"file": (name, data, "application/octet-stream")})
        assert r.status_code == 422, name
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["slides-kim.pptx"]
    # Each upload is a document record too (type slides, titled by the speaker, version 1 then 2, both kept).
    from store.documents import Documents

    slides = await Documents(api.db).list(event_id)
    assert [(d.doc_type, d.title, d.version, d.ext, d.role) for d in slides] == [
        ("slides", "kim", 1, "pdf", "guest"), ("slides", "kim", 2, "pptx", "guest")]
    assert sorted(p.name for p in (folder / "uploads").iterdir()) == sorted(f"{d.doc_id}.{d.ext}" for d in slides)


async def test_a_survey_answered_through_the_link_is_kept_and_can_be_anonymous(api: Api):
    """After the event's end (the roster's facts say it ended), ann answers the survey on her page: filed under
    her id; bob answers anonymously: filed under an id derived from him that is not his, and answering again
    replaces his answer instead of adding one. Both count in the survey the report reads."""
    from datetime import UTC, datetime, timedelta

    event_id = await api.start()
    await api.ready(event_id)
    ann = await invited(api, event_id, "ann")
    bob = await invited(api, event_id, "bob")
    facts = await api.roster.facts(event_id)
    ended = facts.model_copy(update={"start": datetime.now(UTC) - timedelta(days=2), "stage": "post_event",
                                     "end": datetime.now(UTC) - timedelta(days=1), "version": 10**6})
    await api.roster.sync_event(ended)  # as the workflow writes it once the day is over
    assert (await answer(api, f"{ann}/survey", key="s1", content="5", organisation="4", service="4",
                         comment="great")).status_code == 303
    for n, content in enumerate(("2", "3")):
        r = await answer(api, f"{bob}/survey", key=f"s2-{n}", content=content, organisation="3", service="3",
                         anonymous="1")
        assert r.status_code == 303
    survey = {s.respondent: s for s in await api.roster.survey(event_id)}
    assert len(survey) == 2 and survey["ann"].comment == "great"
    [anonymous] = [s for s in survey.values() if s.respondent != "ann"]
    assert anonymous.respondent.startswith("anon-") and "bob" not in anonymous.respondent and anonymous.content == 3
    bad = await answer(api, f"{ann}/survey", key="s3", content="9", organisation="3", service="3")
    assert bad.status_code == 422
    assert {s.respondent: s.content for s in await api.roster.survey(event_id)}["ann"] == 5  # unchanged


async def test_a_speaker_answers_the_survey_on_their_own_page(api: Api):
    """A speaker is asked for their opinion too: after the end, kim's survey answer through her speaker link is
    filed with kim as respondent, beside the attendees'; before she accepted it is refused and changes nothing."""
    from datetime import UTC, datetime, timedelta

    event_id = await api.start()
    await api.ready(event_id)
    await api.do("activity_planner", f"/events/{event_id}/speakers", {
        "speaker": {"id": "kim", "name": "Kim Keynote", "email": "kim@example.org"}, "slot": "keynote"})
    await eventually(lambda: any(n.recipient.person_id == "kim" and "personal_link" in n.context
                                 for n in api.stand_ins.notifications), seconds=20)
    kim = link_in(api, "kim")
    assert 'id="survey-form"' not in (await api.http.get(kim)).text  # not before the event is over
    facts = await api.roster.facts(event_id)
    ended = facts.model_copy(update={"start": datetime.now(UTC) - timedelta(days=2), "stage": "post_event",
                                     "end": datetime.now(UTC) - timedelta(days=1), "version": 10**6})
    await api.roster.sync_event(ended)
    early = await answer(api, f"{kim}/survey", key="k0", content="5", organisation="5", service="5")
    assert early.status_code == 409 and await api.roster.survey(event_id) == []
    assert (await answer(api, f"{kim}/reply", key="acc", response="accepted")).status_code == 303
    done = await answer(api, f"{kim}/survey", key="k1", content="4", organisation="5", service="3",
                        comment="well run")
    assert done.status_code == 303 and "done=survey_done" in done.headers["location"]
    [mine] = await api.roster.survey(event_id)
    assert (mine.respondent, mine.content, mine.service, mine.comment) == ("kim", 4, 3, "well run")


async def test_an_attendee_question_sent_with_the_rsvp_is_listed_for_the_named_contact(api_db: Api):
    """Ann asks a question with her RSVP: it is kept with her (her page shows it back), the event page's state
    lists it with her name for the team; emptying the field takes it back; Bob, who asked nothing, is not listed."""
    event_id = await api_db.start()
    await api_db.ready(event_id)
    ann = await invited(api_db, event_id, "ann")
    bob = await invited(api_db, event_id, "bob")
    r = await answer(api_db, f"{ann}/rsvp", key="a1", response="yes", question="Is there parking nearby?")
    assert r.status_code == 303
    assert (await answer(api_db, f"{bob}/rsvp", key="b1", response="maybe", question="  ")).status_code == 303
    assert "Is there parking nearby?" in (await api_db.http.get(ann)).text
    view = (await api_db.http.get(f"/events/{event_id}", headers=auth("pr_communications"))).json()
    assert view["attendee_questions"] == [{"attendee_id": "ann", "name": "Ann", "question": "Is there parking nearby?"}]
    assert (await answer(api_db, f"{ann}/rsvp", key="a2", response="yes", question="")).status_code == 303
    assert (await api_db.state(event_id))["attendee_questions"] == []
