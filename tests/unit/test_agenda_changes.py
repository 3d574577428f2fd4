"""The day's agenda can change (issue 20, item 2): shorten, extend, move, swap or drop an item with a reason;
the projection follows, the speakers whose time changed are told once, and the programme roles are warned
before an item's end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from tests.support import COMMAND, PLANNER, PR, key
from tests.unit.test_lifecycle import CONFERENCE, on_site, refusal, start
from workflows import agenda
from workflows.lifecycle import Lifecycle
from workflows.messages import ChangeItem, EndItem, NotificationRequest, StartItem


def change(item_id: str, what: str, **kw: object) -> ChangeItem:
    return ChangeItem(key=key("chg"), actor=COMMAND, item_id=item_id, change=what,  # type: ignore[arg-type]
                      reason=kw.pop("reason", "the room is late"), **kw)  # type: ignore[arg-type]


def items(lc: Lifecycle) -> dict[str, tuple[int, int, str]]:
    """item id -> (minutes after the event's start, minutes, room)."""
    return {i.id: (int((i.start - lc.event.start).total_seconds() // 60), i.minutes, i.room) for i in lc.record.agenda}


def speaker_notes(lc: Lifecycle) -> list[NotificationRequest]:
    return [e for e in lc.take_effects() if isinstance(e, NotificationRequest) and "agenda-change" in e.key]


def day() -> Lifecycle:
    lc = on_site()
    lc.take_effects()
    lc.at(lc.event.start)
    return lc


def test_shorten_and_extend_change_the_minutes_and_keep_the_plan() -> None:
    lc = day()
    lc.apply(change("talks", "shorten", minutes=15))
    assert items(lc)["talks"] == (100, 45, "main")
    lc.apply(change("talks", "extend", minutes=5, reason="questions"))
    assert items(lc)["talks"] == (100, 50, "main")
    note = lc.record.agenda_changes["talks"]
    assert (note.planned.minutes, note.changes, note.last_change, note.reason) == (60, 2, "extend", "questions")
    view = next(v for v in lc.view().agenda if v.item.id == "talks")
    assert view.planned is not None and view.planned.minutes == 60 and view.change_reason == "questions"
    assert [a.summary for a in lc.record.audit[-2:]] == [
        "Lightning talks (talks) shortened by 15 min: the room is late",
        "Lightning talks (talks) extended by 5 min: questions"]


def test_move_swap_and_drop() -> None:
    lc = day()
    lc.apply(change("closing", "move", new_start=lc.event.start + timedelta(minutes=200)))
    assert items(lc)["closing"] == (200, 10, "main")
    lc.apply(change("coffee", "swap", with_item_id="keynote"))  # keynote 30+45, gap 5, coffee 80+20
    assert items(lc)["coffee"] == (30, 20, "main") and items(lc)["keynote"] == (55, 45, "main")
    lc.apply(change("talks", "drop", reason="speaker ill"))
    assert "talks" not in items(lc)
    dropped = lc.view().dropped_items
    assert [(d.planned.id, d.dropped, d.reason) for d in dropped] == [("talks", True, "speaker ill")]


def test_a_swap_across_rooms_exchanges_start_and_room() -> None:
    lc = day()
    lc.apply(change("closing", "move", new_start=lc.event.start + timedelta(minutes=30), room="east",
                    allow_overlap=True))
    lc.apply(change("closing", "swap", with_item_id="talks"))
    assert items(lc)["closing"] == (100, 10, "main") and items(lc)["talks"] == (30, 60, "east")


@pytest.mark.parametrize(("act", "why"), [
    (lambda lc: change("nope", "drop"), "unknown agenda item 'nope'"),
    (lambda lc: change("keynote", "extend", minutes=10), "keynote and coffee would overlap in main"),
    (lambda lc: change("opening", "shorten", minutes=20), "opening must keep between 1 minute and a day"),
    (lambda lc: change("talks", "move", new_start=lc.event.start - timedelta(minutes=1)),
     "cannot move into the past"),
    (lambda lc: change("talks", "move", new_start=lc.event.start), "opening and talks would overlap in main"),
    (lambda lc: change("opening", "swap", with_item_id="nope"), "unknown agenda item 'nope'"),
])
def test_refusals_change_nothing(act, why: str) -> None:  # noqa: ANN001 - a builder of the act
    lc = day()
    before = lc.record.model_dump_json()
    assert why in str(refusal(lc, act(lc)))
    assert lc.record.model_dump_json() == before


def test_started_and_ended_items_refuse_what_no_longer_fits() -> None:
    lc = day()
    lc.apply(StartItem(key=key("s"), actor=COMMAND, item_id="opening"))
    for what, kw in (("move", {"new_start": lc.event.start + timedelta(minutes=200)}), ("drop", {}),
                     ("swap", {"with_item_id": "closing"})):
        assert "opening has started" in str(refusal(lc, change("opening", what, **kw)))
    assert "opening has started" in str(refusal(lc, change("closing", "swap", with_item_id="opening")))
    lc.apply(change("opening", "shorten", minutes=5))  # a running item may still be shortened
    lc.at(lc.event.start + timedelta(minutes=15)).apply(EndItem(key=key("e"), actor=COMMAND, item_id="opening"))
    assert "opening already ended" in str(refusal(lc, change("opening", "extend", minutes=1)))


def test_an_overlap_is_applied_when_asked() -> None:
    lc = day()
    lc.apply(change("keynote", "extend", minutes=10, allow_overlap=True))
    assert [(o.first, o.second) for o in agenda.layout(lc.record.agenda).overlaps] == [("keynote", "coffee")]


def test_changes_only_on_site_and_only_for_the_programme_roles() -> None:
    lc = start()
    assert "the programme runs on site" in str(refusal(lc, change("talks", "drop")))
    lc = day()
    assert refusal(lc, ChangeItem(key=key("pr"), actor=PR, item_id="talks", change="drop", reason="x")).kind \
        == "forbidden"


def test_a_change_needs_its_fields_and_a_reason() -> None:
    lc = day()
    before = lc.record.model_dump_json()
    for act, why in ((change("talks", "shorten"), "shorten needs minutes"),
                     (change("talks", "move"), "move needs new_start"),
                     (change("talks", "swap"), "swap needs with_item_id"),
                     (change("talks", "swap", with_item_id="talks"), "an item cannot be swapped with itself")):
        refused = refusal(lc, act)
        assert refused.kind == "invalid" and why in str(refused)
    assert lc.record.model_dump_json() == before
    with pytest.raises(ValidationError):
        change("talks", "drop", reason="")


def test_the_projection_starts_from_the_changed_plan() -> None:
    lc = day()
    lc.apply(StartItem(key=key("s"), actor=COMMAND, item_id="opening"))
    lc.apply(change("opening", "extend", minutes=5))  # 25 min: planned to end at 25
    lc.at(lc.event.start + timedelta(minutes=40))  # still running, 15 min past its changed end
    view = {v.item.id: v for v in lc.view().agenda}
    assert view["opening"].status == "overrun"
    assert view["keynote"].shift_minutes == pytest.approx(15)  # 40 - 25, the changed end (unchanged: 20)
    lc.apply(change("keynote", "move", new_start=lc.event.start + timedelta(minutes=50), allow_overlap=True))
    view = {v.item.id: v for v in lc.view().agenda}
    # the moved plan, still pushed by the opening's overrun
    assert view["keynote"].projected_start == lc.event.start + timedelta(minutes=65)
    assert view["keynote"].planned is not None and view["keynote"].planned.start == lc.event.start + timedelta(minutes=30)


def test_the_speakers_whose_time_changed_are_told_once_per_change() -> None:
    lc = day()
    lc.apply(change("keynote", "swap", with_item_id="coffee"))
    notes = speaker_notes(lc)
    assert [(n.kind, n.recipient.person_id, n.key) for n in notes] == [
        ("reminder", "kim", f"{lc.event.id}:agenda-change.keynote.1:kim:email")]
    ctx = notes[0].context
    assert (ctx["agenda_change"], ctx["item"], ctx["new_minutes"]) == ("swap", "Durable events", 45)
    assert ctx["new_start"] == (lc.event.start + timedelta(minutes=55)).isoformat()
    again = lc.apply(change("keynote", "drop").model_copy(update={"key": "same"}))
    notes = speaker_notes(lc)
    assert [n.key for n in notes] == [f"{lc.event.id}:agenda-change.keynote.2:kim:email"]
    assert notes[0].context["agenda_change"] == "drop"
    assert lc.apply(change("keynote", "drop").model_copy(update={"key": "same"})) == again  # a retry: no resend
    assert speaker_notes(lc) == []
    lc.apply(change("closing", "shorten", minutes=5))  # no speaker: nobody told
    assert speaker_notes(lc) == []


def test_the_item_end_warning_fires_once_at_end_minus_n_to_the_programme_roles() -> None:
    lc = day()
    lc.apply(StartItem(key=key("s"), actor=COMMAND, item_id="keynote"))
    lc.take_effects()
    ends = lc.now + timedelta(minutes=45)
    warn_at = ends - timedelta(minutes=CONFERENCE.item_end_warning_minutes)
    assert lc.next_wakeup() == warn_at
    lc.at(warn_at - timedelta(seconds=1)).tick()
    assert not [a for a in lc.record.audit if a.act == "item_ending"]
    lc.at(warn_at).tick()
    lc.at(warn_at + timedelta(minutes=1)).tick()
    assert [a.summary for a in lc.record.audit if a.act == "item_ending"] == [
        "Durable events (keynote) ends in 5 minutes; activity_planner told"]
    told = [e for e in lc.take_effects() if isinstance(e, NotificationRequest) and "item-end.keynote" in e.key]
    assert {(e.recipient.role, e.channel, e.context["item_ending"]) for e in told} == {
        ("activity_planner", "email", "5"), ("activity_planner", "log", "5")}
    assert set(CONFERENCE.escalate_to.item_ending or CONFERENCE.escalate_to.overrun) == {"activity_planner"}
    lc.apply(change("keynote", "extend", minutes=10, allow_overlap=True))  # a new end: warned again, at it - N
    assert lc.next_wakeup() == warn_at + timedelta(minutes=10)


def test_the_item_end_warning_is_off_for_runs_recorded_before_it_and_at_zero() -> None:
    lc = day()
    lc.item_end_warnings = False
    lc.apply(StartItem(key=key("s"), actor=COMMAND, item_id="keynote"))
    assert lc.next_wakeup() == lc.now + timedelta(minutes=45)  # the overrun only
    off = CONFERENCE.model_copy(update={"item_end_warning_minutes": 0})
    lc2 = day()
    lc2.definition = off
    lc2.apply(StartItem(key=key("s2"), actor=COMMAND, item_id="keynote"))
    assert lc2.next_wakeup() == lc2.now + timedelta(minutes=45)


def test_the_warning_goes_to_the_roles_the_definition_names() -> None:
    escalate = CONFERENCE.escalate_to.model_copy(update={"item_ending": ["on_site_command", "not_a_role"]})
    lc = day()
    lc.definition = CONFERENCE.model_copy(update={"escalate_to": escalate})
    lc.apply(StartItem(key=key("s"), actor=COMMAND, item_id="talks"))
    lc.take_effects()
    lc.at(lc.now + timedelta(minutes=55)).tick()
    roles = {e.recipient.role for e in lc.take_effects() if isinstance(e, NotificationRequest)
             and "item-end.talks" in e.key and e.channel == "email"}
    assert roles == {"on_site_command"}
    assert PLANNER.role not in roles
