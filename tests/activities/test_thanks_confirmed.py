"""Issue 20, defect 1: confirmed speakers (itinerary recorded) are thanked, counted in the report and named in the
archive index; and the index says which of the definition's archive_includes documents are there (defect 4)."""

from __future__ import annotations

from datetime import datetime, timezone

from temporalio.testing import ActivityEnvironment

from activities import Archivist, LocalFolderStore, Notifier
from activities.archive import archive_coverage
from activities.figures import evaluate
from activities.reports import render_markdown
from activities.thanks import Thanks, thanks_requests
from tests.activities.support import Inbox, dossier
from workflows.messages import DossierRequest, Itinerary, Person, SpeakerRecord, not_deliverable

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def with_speakers() -> DossierRequest:
    """The small finished event with Li Wei confirmed (itinerary recorded), Sam accepted at a refused address,
    Uma confirmed and already thanked, and Max declined."""
    request = dossier()
    speakers = request.record.speakers
    speakers["li"].status = "confirmed"
    speakers["li"].itinerary = Itinerary(lodging="Hotel Lutetia")
    speakers["sam"] = SpeakerRecord(person=Person(id="sam", name="Sam", email="sam@refused.example"), slot="session",
                                    status="accepted", invited_at=T0)
    speakers["uma"] = SpeakerRecord(person=Person(id="uma", name="Uma", email="uma@example.org"), slot="session",
                                    status="confirmed", invited_at=T0, thanked=True)
    return request


def test_confirmed_and_accepted_speakers_are_thanked_once() -> None:
    """Confirmed and accepted speakers are thanked; one already thanked and one who declined are not."""
    people = [(r.recipient.person_id, r.context.get("audience")) for r in thanks_requests(with_speakers())]
    assert people == [("li", "speaker"), ("sam", "speaker"), ("a1", "attendee")]


async def test_send_thanks_names_who_could_not_be_thanked(notifier: Notifier, inbox: Inbox) -> None:
    """The confirmed speaker gets the thanks; the refused address is named in the summary, so the workflow
    leaves that speaker unthanked; a rerun sends nothing twice."""
    thanks = Thanks(notifier)
    summary = await ActivityEnvironment().run(thanks.send_thanks, with_speakers())
    assert summary == "thanks to 3 recipient(s): 2 sent, 0 skipped, 1 failed; not deliverable: sam"
    assert not_deliverable(summary) == {"sam"}
    assert len(inbox.to("li@example.org")) == 1 and inbox.to("uma@example.org") == []
    await ActivityEnvironment().run(thanks.send_thanks, with_speakers())
    assert len(inbox.to("li@example.org")) == 1 and len(inbox.to("ada@example.org")) == 1


def test_the_report_counts_confirmed_and_thanked_speakers() -> None:
    """Of 4 invited: 2 confirmed (li, uma), 1 accepted (sam), 1 declined (max), none silent; 1 thanked (uma)."""
    ev = evaluate(with_speakers())
    sp = ev.speakers
    assert (sp.invited, sp.confirmed, sp.accepted, sp.declined, sp.no_reply, sp.thanked) == (4, 2, 1, 1, 0, 1)
    assert ("Speakers: 2 confirmed, 1 accepted, 1 declined, 0 no reply (of 4 invited); 1 thanked"
            in render_markdown(ev))


async def test_the_archive_index_names_confirmed_speakers(store: LocalFolderStore) -> None:
    """The index's people section lists every speaker on board, confirmed ones included."""
    await ActivityEnvironment().run(Archivist(store).archive, with_speakers())
    index = (store.root / "2026/conference/summit-2026/index.md").read_text(encoding="utf-8")
    assert "Speaker: Li Wei" in index and "Speaker: Uma" in index and "Speaker: Sam" in index
    assert "Speaker: Max" not in index


def test_archive_coverage_matches_documents_by_name() -> None:
    """slides-<speaker>.<ext> holds slides; the engine's own files hold decisions, reports and the contact book."""
    files = ["03-decisions.json", "04-people.json", "slides-kim.pdf", "slides-li.pptx", "board-papers.pdf",
             "minutes.pdf", "slideshow.pdf"]
    present, missing = archive_coverage(
        ["decisions", "contact_book", "slides", "board_papers", "minutes", "resolutions", "reports"], files)
    assert present == {"decisions": ["03-decisions.json"], "contact_book": ["04-people.json"],
                       "slides": ["slides-kim.pdf", "slides-li.pptx"], "board_papers": ["board-papers.pdf"],
                       "minutes": ["minutes.pdf"]}
    assert missing == ["resolutions", "reports"]


async def test_the_archive_reports_which_required_documents_are_missing(store: LocalFolderStore) -> None:
    """A conference dossier with one speaker's slides: the index marks slides present and the rest missing,
    and the activity's summary lists what is missing."""
    folder = store.root / "2026/conference/summit-2026"
    folder.mkdir(parents=True)
    (folder / "slides-li.pdf").write_bytes(b"%PDF-1.7 slides")
    detail = await ActivityEnvironment().run(Archivist(store).archive, with_speakers())
    assert detail.endswith("; missing: reports, minutes, speeches, recordings")
    index = (folder / "index.md").read_text(encoding="utf-8")
    assert "- `slides`: [slides-li.pdf](slides-li.pdf)" in index
    assert "**`minutes`: MISSING**" in index
    assert "- `decisions`: [03-decisions.json](03-decisions.json)" in index
