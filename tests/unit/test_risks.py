"""The risk register in the pure lifecycle (workflows/risks.py): the summary the API sends, the board meeting's
preparation gate that needs a register and an owner on every high risk."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from definitions import shipped
from workflows.lifecycle import ActRefused, Lifecycle
from workflows.messages import Actor, EventRecord, Person, RecordRisks
from tests.support import conference, key

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
BOARD = shipped().get("board_meeting")
SECRETARY = Actor(id="sec", role="secretary")


def board() -> Lifecycle:
    event = conference(NOW, event_id="board-r", kind="board_meeting", owner="sec", timezone="UTC",
                       team={"secretary": [Person(id="sec", name="Sec")], "chair": [Person(id="cal", name="Cal")]})
    record = EventRecord(stage="preparation", stage_entered_at=NOW, stages_entered={"preparation": NOW},
                         roster="database")
    return Lifecycle(BOARD, event, record).at(NOW)


def reasons(lc: Lifecycle) -> list[str]:
    stage, gate = BOARD.gate("risks_assessed")
    return [r.text for r in lc.gate_status(stage, gate)[1]]


def summary(lc: Lifecycle, revision: int, count: int, high_open: list[str] = (), high_unowned: list[str] = (),
            actor: Actor = SECRETARY) -> str:
    return lc.apply(RecordRisks(key=key("risks"), actor=actor, revision=revision, count=count,
                                high_open=list(high_open), high_unowned=list(high_unowned))).message


def test_preparation_waits_for_a_register_and_an_owner_on_every_high_risk():
    lc = board()
    assert reasons(lc) == ["no risk register kept yet"]
    summary(lc, 1, 2, ["r1"], ["r1"])
    assert reasons(lc) == ["high risk r1 has no owner"]
    summary(lc, 2, 2, ["r1"], [])
    assert reasons(lc) == [] and lc.record.risks.high_open == ["r1"]


def test_an_older_summary_arriving_late_changes_nothing():
    lc = board()
    summary(lc, 3, 2, ["r1"], [])
    message = summary(lc, 2, 1, ["r1"], ["r1"])
    assert "ignored" in message and lc.record.risks.revision == 3 and reasons(lc) == []


def test_only_the_register_roles_may_send_its_summary():
    lc = board()
    with pytest.raises(ActRefused, match="may not record risks"):
        summary(lc, 1, 1, actor=Actor(id="cal", role="chair"))
    assert lc.record.risks is None
