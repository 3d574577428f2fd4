"""Thanks, the evaluation report and the archive of an event whose roster is in the database.

The figures are checked by hand against a 3,000-person event; a small event imported from a record
kept in memory must give the very same dossier as that record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import Archivist, LocalFolderStore, Notifier, Reporter, RosterActivities, verify
from activities.archive import assembled_json, canonical_json, dossier_documents, list_item
from activities.thanks import Thanks
from store import Database, Journal, Roster
from tests.activities.support import END, START, T0, Inbox, dossier
from workflows.messages import (
    Actor,
    Attendee,
    AttendeeRecord,
    AuditEntry,
    DeliveryRecord,
    DossierRequest,
    EventFacts,
    LegacyRoster,
    Rsvp,
    SurveyResponse,
)

EVENT = "summit-2026"
FOLDER = "2026/conference/summit-2026"
N = 3000
KEY_CLIENTS = ["p0001", "p0501", "p1001", "p1501", "p2001", "p2501"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def in_database(request: DossierRequest, **record: object) -> DossierRequest:
    """The same event as the workflow keeps it with its roster in the database: no attendees, survey,
    deliveries or full audit in the record."""
    emptied = {"roster": "database", "attendees": {}, "survey": {}, "deliveries": [], "audit": []} | record
    return request.model_copy(update={"record": request.record.model_copy(update=emptied)})


# --------------------------------------------------------------------------------------- the same event, moved


async def test_a_moved_event_gives_the_very_same_dossier_and_report(
    db: Database, workers: Callable[[], Notifier], tmp_path: Path
) -> None:
    """The small event kept in memory, and the same event imported into the database (import_legacy_record),
    give byte-identical dossiers: the same audit, contact book, deliveries, index, report and manifest."""
    memory = dossier()
    record = memory.record
    await ActivityEnvironment().run(RosterActivities(Roster(db), Journal(db), workers()).import_legacy_record,
                                    LegacyRoster(event_id=EVENT, attendees=list(record.attendees.values()),
                                                 survey=list(record.survey.values()), deliveries=record.deliveries,
                                                 audit=record.audit))
    moved = in_database(memory, audit=record.audit[-1:], audit_seq=1)

    kept, stored = LocalFolderStore(tmp_path / "memory"), LocalFolderStore(tmp_path / "database")
    env = ActivityEnvironment()
    await env.run(Archivist(kept).archive, memory)
    await env.run(Reporter(kept).evaluation_report, memory)
    await env.run(Archivist(stored, Roster(db), Journal(db)).archive, moved)
    summary = await env.run(Reporter(stored, Roster(db), Journal(db)).evaluation_report, moved)

    assert snapshot(stored.root / FOLDER) == snapshot(kept.root / FOLDER)
    assert summary.startswith("evaluation written: satisfaction 3.78/5 (3 responses); 2 of 5 expected checked in")
    people = json.loads((stored.root / FOLDER / "04-people.json").read_text())
    assert [e["id"] for e in people["contact_book"]] == ["a1", "a3", "a2", "a4"] and people["key_clients"] == [
        "a1", "a3"]


def test_documents_assembled_entry_by_entry_match_the_canonical_layout() -> None:
    """A document whose long lists were rendered an entry at a time has exactly the bytes canonical_json gives,
    for each such document of the small event and for empty lists and nested values."""
    docs = dossier_documents(dossier())
    for name, keys in (("02-audit-log.json", ["entries"]), ("04-people.json", ["contact_book", "key_clients"]),
                       ("06-deliveries.json", ["deliveries"])):
        doc = json.loads(docs[name])
        lists = {k: [list_item(item) for item in doc.pop(k)] for k in keys}
        assert all(lists.values())
        assert assembled_json(doc, lists) == docs[name], name
    assert assembled_json({"b": {"x": [1, {"y": None}]}, "a": "é"}, {"c": [list_item({"k": [1, 2]})], "d": []}) == (
        canonical_json({"a": "é", "b": {"x": [1, {"y": None}]}, "c": [{"k": [1, 2]}], "d": []}))


# --------------------------------------------------------------------------------------- 3,000 people


def person(i: int) -> AttendeeRecord:
    """Person i of 3,000: RSVP yes for i % 10 in 0..5, no for 6..7, maybe for 8, none for 9; checked in
    when yes and i % 10 < 4, and the 30 walk-ins with i % 100 == 9; a key client when i % 500 == 1."""
    rsvp = {0: "yes", 1: "yes", 2: "yes", 3: "yes", 4: "yes", 5: "yes", 6: "no", 7: "no", 8: "maybe"}.get(i % 10)
    checked = (rsvp == "yes" and i % 10 < 4) or i % 100 == 9
    key_client = i % 500 == 1
    return AttendeeRecord(
        person=Attendee(id=f"p{i:04d}", name=f"Person {i}", email=f"p{i:04d}@example.org", key_client=key_client,
                        category="partner" if key_client else "expert"),
        invited_at=T0, rsvp=rsvp,  # type: ignore[arg-type]
        checked_in_at=START + timedelta(seconds=i) if checked else None,
    )


def answer(i: int) -> SurveyResponse:
    """Everyone with i % 10 == 0 answered: content 5 when i % 20 == 0 (150) else 4 (150), organisation 3,
    service 2 when i % 30 == 0 (100) else 5 (200); a comment from 1000, 2000 and 3000."""
    return SurveyResponse(respondent=f"p{i:04d}", content=5 if i % 20 == 0 else 4, organisation=3,
                          service=2 if i % 30 == 0 else 5, comment=f"Comment from {i}" if i % 1000 == 0 else None)


def delivered(i: int) -> DeliveryRecord:
    """Person i's invitation: failed when i % 100 == 7 (30), skipped when i % 100 == 13 (30), else sent (2,940)."""
    status = "failed" if i % 100 == 7 else "skipped" if i % 100 == 13 else "sent"
    return DeliveryRecord(key=f"{EVENT}:attendee.inv-1:p{i:04d}:email", kind="invitation", channel="email",
                          to=f"p{i:04d}@example.org", status=status,  # type: ignore[arg-type]
                          at=T0 + timedelta(seconds=i))


def wf_entry(seq: int) -> AuditEntry:
    return AuditEntry(seq=seq, at=T0 + timedelta(minutes=seq), act="complete_task", actor="pia",
                      role="project_manager", key=f"k{seq}", summary=f"step {seq}")


async def big_event(db: Database) -> DossierRequest:
    """3,000 people with RSVPs, check-ins, 300 survey answers and 3,000 deliveries in the database; an audit of
    40 entries written, 2 still in the record's outbox, and 3 attendee acts (RSVPs repeated)."""
    roster, journal = Roster(db), Journal(db)
    for start in range(1, N + 1, 500):
        part = [person(i) for i in range(start, start + 500)]
        await roster.import_legacy(LegacyRoster(event_id=EVENT, attendees=part))
    await roster.import_legacy(LegacyRoster(event_id=EVENT, survey=[answer(i) for i in range(10, N + 1, 10)]))
    for i in range(1, N + 1):
        await journal.record_delivery(EVENT, delivered(i))
    await journal.record_audit(EVENT, [wf_entry(n) for n in range(1, 41)])
    await roster.sync_event(EventFacts(event_id=EVENT, kind="conference", title="Convene Summit", stage="post_event",
                                       status="active", on_site=False, start=START, end=END, timezone="Asia/Shanghai",
                                       locale="en", confidential=False, version=42))
    for n, pid in enumerate(("p0001", "p0002", "p0011")):
        await roster.rsvp(EVENT, Rsvp(key=f"rsvp-{pid}", actor=Actor(id=pid, role="attendee"), attendee_id=pid,
                                      response="yes"), END + timedelta(days=1, minutes=n))
    request = in_database(dossier(), audit=[wf_entry(n) for n in range(39, 43)],
                          audit_outbox=[wf_entry(41), wf_entry(42)], audit_seq=42)
    return request.model_copy(update={"event": request.event.model_copy(update={"expected_attendees": 2000})})


async def test_the_report_and_archive_of_3000_people_state_the_hand_counted_figures(
    db: Database, tmp_path: Path
) -> None:
    """The report of a 3,000-person event read from the database states hand-counted survey, attendance and
    delivery figures; the dossier holds every person, delivery and audit entry, verifies, and archiving and
    reporting again leave every file byte-identical."""
    request = await big_event(db)
    store = LocalFolderStore(tmp_path / "archive")
    archivist, reporter = Archivist(store, Roster(db), Journal(db)), Reporter(store, Roster(db), Journal(db))
    env = ActivityEnvironment()

    detail = await env.run(archivist.archive, request)
    summary = await env.run(reporter.evaluation_report, request)

    assert summary == ("evaluation written: satisfaction 3.83/5 (300 responses); 1230 of 2000 expected checked in; "
                       "budget +3.6% on reported lines; 1 incident(s); tasks 2/25")  # the conference's 25 tasks
    folder = store.root / FOLDER
    report = (folder / "08-evaluation.md").read_text()
    assert "| content | 300 | 4.50 | 0 | 0 | 0 | 150 | 150 |" in report
    assert "| organisation | 300 | 3.00 | 0 | 0 | 300 | 0 | 0 |" in report
    assert "| service | 300 | 4.00 | 0 | 100 | 0 | 0 | 200 |" in report
    assert "| 2,000 | 3,000 | 1,800 | 300 | 600 | 300 | 1,230 | 61.5% | 68.3% |" in report
    assert "- Notifications: 2,940 sent, 30 failed, 30 skipped" in report
    assert report.index("Comment from 1000") < report.index("Comment from 2000") < report.index("Comment from 3000")

    assert detail.startswith(f"dossier archived in {FOLDER} (9 files")
    people = json.loads((folder / "04-people.json").read_text())
    book = people["contact_book"]
    assert len(book) == N and people["key_clients"] == KEY_CLIENTS
    assert [e["id"] for e in book[:7]] == [*KEY_CLIENTS, "p0002"] and book[-1]["id"] == "p3000"
    assert sum(e["checked_in_at"] is not None for e in book) == 1230 and sum(e["rsvp"] == "no" for e in book) == 600
    deliveries = json.loads((folder / "06-deliveries.json").read_text())["deliveries"]
    assert len(deliveries) == N and sum(d["status"] == "failed" for d in deliveries) == 30
    assert deliveries[0]["key"] == f"{EVENT}:attendee.inv-1:p0001:email"
    entries = json.loads((folder / "02-audit-log.json").read_text())["entries"]
    assert [e["seq"] for e in entries] == [*range(1, 43), 0, 0, 0]
    assert [e["summary"] for e in entries[-3:]] == ["Person 1 answered yes", "Person 2 answered yes",
                                                    "Person 11 answered yes"]
    index = (folder / "index.md").read_text()
    assert index.count("- Key client: ") == 6 and "Key client: Person 501 (`p0501`, partner)" in index
    assert verify(folder) == []

    first = snapshot(folder)
    await env.run(archivist.archive, request)
    await env.run(reporter.evaluation_report, request)
    assert snapshot(folder) == first


async def test_a_delivery_still_retrying_does_not_stop_the_archive(db: Database, tmp_path: Path) -> None:
    """A delivery the journal holds as retrying (its activity died on its last attempt) is archived as it stands."""
    await Journal(db).record_delivery(EVENT, DeliveryRecord(
        key=f"{EVENT}:k1", kind="reminder", channel="email", to="ann@example.org", status="retrying",
        detail="451", at=T0))
    store = LocalFolderStore(tmp_path / "archive")
    await ActivityEnvironment().run(Archivist(store, Roster(db), Journal(db)).archive, in_database(dossier()))
    deliveries = json.loads((store.root / FOLDER / "06-deliveries.json").read_text())["deliveries"]
    assert [(d["key"], d["status"]) for d in deliveries] == [(f"{EVENT}:k1", "retrying")]


# --------------------------------------------------------------------------------------- thanks, and no database


async def test_thanks_go_to_key_clients_from_the_roster_once_across_workers(
    db: Database, workers: Callable[[], Notifier], inbox: Inbox
) -> None:
    """Thanks for a database-roster event go to the accepted speaker and the key clients the roster says did not
    decline; a second worker running the activity again sends nothing, the journal answering for it."""
    memory = dossier()
    await Roster(db).import_legacy(LegacyRoster(event_id=EVENT, attendees=list(memory.record.attendees.values())))
    moved = in_database(memory)
    first = await ActivityEnvironment().run(Thanks(workers(), Roster(db)).send_thanks, moved)
    again = await ActivityEnvironment().run(Thanks(workers(), Roster(db)).send_thanks, moved)
    assert first == again == "thanks to 2 recipient(s): 2 sent, 0 skipped, 0 failed"
    assert sorted(r for m in inbox.messages for r in m.rcpt_tos) == ["ada@example.org", "li@example.org"]
    page = await Journal(db).deliveries_page(EVENT)
    assert sorted(d.key for d in page.items) == [f"{EVENT}:thanks:a1", f"{EVENT}:thanks:li"]


@pytest.mark.parametrize("activity", ["archive", "evaluation_report", "send_thanks"])
async def test_a_database_roster_event_on_a_worker_without_a_database_is_refused(
    activity: str, notifier: Notifier, tmp_path: Path
) -> None:
    """Built without a roster database, the post-event activities refuse a database-roster event, not retried,
    and write nothing."""
    store = LocalFolderStore(tmp_path / "archive")
    run = {"archive": Archivist(store).archive, "evaluation_report": Reporter(store).evaluation_report,
           "send_thanks": Thanks(notifier).send_thanks}[activity]
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(run, in_database(dossier()))
    assert err.value.type == "RosterDatabaseMissing" and err.value.non_retryable
    assert not store.root.exists()
