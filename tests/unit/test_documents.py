"""Meeting documents in the pure lifecycle (workflows/documents.py): the facts the API sends, the board meeting's
document checks, the chair's approval of the minutes, and the papers' receipts by start - 7 days."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from definitions import shipped
from workflows.lifecycle import GUEST, ActRefused, Lifecycle
from workflows.messages import AcknowledgePapers, Actor, Decide, EventRecord, Person, RecordDocument
from tests.support import conference, key

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
BOARD = shipped().get("board_meeting")
SECRETARY = Actor(id="sec", role="secretary")
CHAIR = Actor(id="chair-1", role="chair")
MEMBERS = [Person(id="m1", name="M One"), Person(id="m2", name="M Two")]


def board(stage: str, now: datetime = NOW) -> Lifecycle:
    """A board meeting (start NOW + 120 days, UTC) put straight into `stage`, its team with two members."""
    event = conference(NOW, event_id="board-1", kind="board_meeting", owner="sec", timezone="UTC", team={
        "secretary": [Person(id="sec", name="Sec")], "chair": [Person(id="chair-1", name="Chair")],
        "board_member": MEMBERS})
    record = EventRecord(stage=stage, stage_entered_at=now, stages_entered={stage: now}, roster="database")
    return Lifecycle(BOARD, event, record).at(now)


def attach(lc: Lifecycle, doc_type: str, version: int = 1) -> str:
    sha = hashlib.sha256(f"{doc_type}{version}".encode()).hexdigest()
    return lc.apply(RecordDocument(key=key("doc"), actor=SECRETARY, doc_type=doc_type, version=version,
                                   sha256=sha)).message


def status(lc: Lifecycle, gate_id: str) -> tuple[str, list[str]]:
    stage, gate = BOARD.gate(gate_id)
    s, reasons = lc.gate_status(stage, gate)
    return s, [r.text for r in reasons]


def test_closing_waits_for_the_minutes_and_resolutions_and_the_chairs_approval():
    """The closing gate names the missing documents; the chair may approve the minutes only once they are there."""
    lc = board("post_event")
    assert "no minutes attached yet" in status(lc, "closing")[1]
    assert "no resolutions attached yet" in status(lc, "closing")[1]
    with pytest.raises(ActRefused, match="cannot approve minutes_approved yet: no minutes attached yet"):
        lc.apply(Decide(key=key(), actor=CHAIR, gate="minutes_approved", decision="approve"))
    attach(lc, "minutes")
    assert status(lc, "minutes_approved")[0] == "awaiting_decision"
    assert [r for r in status(lc, "closing")[1] if "attached" in r] == ["no resolutions attached yet"]
    attach(lc, "resolutions")
    assert [r for r in status(lc, "closing")[1] if "attached" in r] == []
    with pytest.raises(ActRefused, match="may not decide"):
        lc.apply(Decide(key=key(), actor=SECRETARY, gate="minutes_approved", decision="approve"))
    lc.apply(Decide(key=key(), actor=CHAIR, gate="minutes_approved", decision="approve"))
    assert status(lc, "minutes_approved")[0] == "passed"
    assert lc.record.documents["minutes"].version == 1 and lc.record.documents["minutes"].by == "sec"


def test_a_new_version_of_the_minutes_takes_the_approval_back():
    """The chair approves the minutes as they stand: version 2 after the approval needs a new approval."""
    lc = board("post_event")
    attach(lc, "minutes")
    lc.apply(Decide(key=key(), actor=CHAIR, gate="minutes_approved", decision="approve"))
    message = attach(lc, "minutes", 2)
    assert "approval of minutes_approved is taken back" in message
    assert status(lc, "minutes_approved")[0] == "awaiting_decision"
    assert lc.record.documents["minutes"].version == 2


def test_a_document_type_the_kind_does_not_keep_is_refused_and_changes_nothing():
    lc = board("post_event")
    with pytest.raises(ActRefused, match="unknown document type 'holiday_photos'"):
        attach(lc, "holiday_photos")
    with pytest.raises(ActRefused, match="may not record document"):
        lc.apply(RecordDocument(key=key(), actor=CHAIR, doc_type="minutes", version=1, sha256="0" * 64))
    assert lc.record.documents == {}


def test_every_member_must_acknowledge_the_papers_by_start_minus_7_days():
    """Receipts count from the member themselves (as a guest on their page) and only in time; others are refused."""
    start = NOW + timedelta(days=120)
    lc = board("readiness", now=start - timedelta(days=10))
    assert status(lc, "papers_acknowledged")[1] == ["no board_papers attached yet"]
    attach(lc, "board_papers")
    lc.apply(AcknowledgePapers(key=key(), actor=Actor(id="m1", role=GUEST), person_id="m1"))
    reasons = status(lc, "papers_acknowledged")[1]
    assert len(reasons) == 1 and reasons[0].startswith("1 of 2 board_member acknowledged") and "m2" in reasons[0]
    with pytest.raises(ActRefused, match="may answer only for themselves"):
        lc.apply(AcknowledgePapers(key=key(), actor=Actor(id="m1", role=GUEST), person_id="m2"))
    # someone answering for themselves whom the team does not name: unknown, as an unknown speaker is
    with pytest.raises(ActRefused, match="stranger is not named as board_member for this event") as refused:
        lc.apply(AcknowledgePapers(key=key(), actor=Actor(id="stranger", role=GUEST), person_id="stranger"))
    assert refused.value.kind == "invalid" and "stranger" not in lc.record.receipts
    late = lc.at(start - timedelta(days=6))
    late.apply(AcknowledgePapers(key=key(), actor=Actor(id="m2", role=GUEST), person_id="m2"))
    assert "1 of 2" in status(late, "papers_acknowledged")[1][0]  # too late: the chair may waive it
    lc.record.receipts["m2"] = start - timedelta(days=8)  # had m2 answered in time (the first receipt counts)
    assert status(lc, "papers_acknowledged") == ("passed", [])


def test_the_secretary_records_a_receipt_given_by_hand():
    lc = board("readiness", now=NOW)
    attach(lc, "board_papers")
    for m in MEMBERS:
        lc.apply(AcknowledgePapers(key=key(), actor=SECRETARY, person_id=m.id))
    assert status(lc, "papers_acknowledged") == ("passed", [])
    with pytest.raises(ActRefused, match="not named as board_member"):
        lc.apply(AcknowledgePapers(key=key(), actor=SECRETARY, person_id="nobody"))


def test_a_board_meeting_walks_to_closed_with_its_documents_and_receipts():
    """Every gate of the board meeting passed in order as a real one would: a risk register kept, the papers
    attached and acknowledged
    by both members before start - 7 days, the minutes approved by the chair, minutes and resolutions attached;
    without the resolutions the event stays in post_event."""
    from decimal import Decimal

    from workflows.messages import (BudgetLine, CompleteTask, InvitationBatchRef, InviteAttendees, RecordBudget,
                                    RecordRisks)

    start = NOW + timedelta(days=120)
    finance = Actor(id="fin", role="finance_approver")
    venue = Actor(id="sec", role="venue_coordinator")
    event = conference(NOW, event_id="board-2", kind="board_meeting", owner="sec", timezone="UTC", team={
        "secretary": [Person(id="sec", name="Sec")], "chair": [Person(id="chair-1", name="Chair")],
        "board_member": MEMBERS, "finance_approver": [Person(id="fin", name="Fin")],
        "finance": [Person(id="sec", name="Sec")], "venue_coordinator": [Person(id="sec", name="Sec")],
        "technical_support": [Person(id="sec", name="Sec")]})
    lc = Lifecycle.start(BOARD, event, NOW)

    def done(at: datetime, actor: Actor, *task_ids: str) -> None:
        for t in task_ids:
            note = "noted" if lc.definition.task(t)[1].note_required else None
            lc.at(at).apply(CompleteTask(key=key(t), actor=actor, task=t, note=note))

    done(NOW, SECRETARY, "purpose_recorded", "date_checked", "team_assigned")
    done(NOW, Actor(id="sec", role="finance"), "budget_draft")
    done(NOW, venue, "room_booked")
    lc.apply(RecordBudget(key=key(), actor=SECRETARY, lines=[BudgetLine(category="venue", planned=Decimal("900"))]))
    lc.apply(Decide(key=key(), actor=finance, gate="budget_approved", decision="approve"))
    assert lc.record.stage == "preparation"  # no risk register yet
    lc.apply(RecordRisks(key=key(), actor=SECRETARY, revision=1, count=3, high_open=["r1"], high_unowned=[]))
    assert lc.record.stage == "planning"
    done(NOW, SECRETARY, "agenda_drafted")
    lc.apply(Decide(key=key(), actor=CHAIR, gate="agenda_approved", decision="approve"))
    lc.apply(InviteAttendees(key=key(), actor=SECRETARY, batch=InvitationBatchRef(id="b-1", count=2)))
    assert lc.record.stage == "planning"  # the papers are not attached yet
    attach(lc, "board_papers")
    assert lc.record.stage == "readiness"
    early = start - timedelta(days=10)
    for m in MEMBERS:
        lc.at(early).apply(AcknowledgePapers(key=key(), actor=Actor(id=m.id, role=GUEST), person_id=m.id))
    done(early, SECRETARY, "quorum_confirmed", "reminders_sent")
    done(early, Actor(id="sec", role="technical_support"), "room_link_tested")
    lc.at(early).apply(Decide(key=key(), actor=CHAIR, gate="go_decision", decision="approve"))
    assert lc.record.stage == "on_site"
    end = lc.event.end
    done(end, SECRETARY, "attendance_recorded", "interests_declared", "votes_recorded")
    lc.at(end).tick()
    assert lc.record.stage == "post_event"
    later = end + timedelta(days=3)
    lc.at(later)
    attach(lc, "minutes")
    lc.apply(Decide(key=key(), actor=CHAIR, gate="minutes_approved", decision="approve"))
    done(later, SECRETARY, "actions_communicated", "lessons_recorded")
    for task in ("archive_written", "evaluation_report"):
        lc.activity_finished(task, ok=True, detail="written")
    assert lc.record.stage == "post_event" and status(lc, "closing")[1] == ["no resolutions attached yet"]
    attach(lc, "resolutions")
    assert lc.record.status == "closed"
