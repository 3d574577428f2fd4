"""Items of the source document the shipped definitions hold to account (docs/traceability.md): the venue
booked early (P-14), an agenda that opens and closes (L-02), an itinerary for every confirmed speaker (L-14).

Pure lifecycle tests: no Temporal server, no clock (times as in tests/unit/test_lifecycle.py).
"""

from __future__ import annotations

import pytest

from definitions import shipped
from definitions.schema import AgendaReady, ItinerariesRecorded
from tests.support import PLANNER, PM, PR, VENUE, day_one, key
from tests.unit.test_lifecycle import (
    DAY, START, deadline, gate, invite, invite_keynote, itinerary, prepare, start, tasks,
)
from workflows.messages import AgendaItem, CompleteTask, NotificationRequest, SetAgenda

VENUE_KINDS = [k for k in shipped().kinds() if any(t.id == "venue_booked" for s in shipped().get(k).stages
                                                   for t in s.tasks)]


def test_every_definition_with_a_venue_booking_task_has_its_deadline() -> None:
    """Each shipped definition that books a venue watches the booking by the task's own due date, with a ladder."""
    assert len(VENUE_KINDS) >= 5
    for kind in VENUE_KINDS:
        d = shipped().get(kind)
        task = next(t for s in d.stages for t in s.tasks if t.id == "venue_booked")
        dl = next((x for x in d.deadlines if x.id == "venue_booking"), None)
        assert dl is not None, kind
        assert (dl.met_when.task, dl.at) == ("venue_booked", task.due), kind
        assert any(step.level >= 1 and step.at_risk for step in dl.ladder), kind


def test_a_venue_not_booked_by_start_minus_65_days_escalates_and_booking_it_clears_that() -> None:
    """The venue coordinator is reminded a week before; on the day the event is at risk; booking it meets it."""
    lc = start()
    assert lc.at(START - 72 * DAY).tick() == ["venue_booking[0]"]
    told = {e.recipient.role for e in lc.take_effects() if isinstance(e, NotificationRequest)}
    assert told == {"venue_coordinator"}
    assert lc.at(START - 65 * DAY).tick() == ["venue_booking[1]"]
    assert lc.escalation() == (1, True) and deadline(lc, "venue_booking").status == "missed"
    tasks(lc, VENUE, "site_inspection", "venue_booked")
    assert lc.escalation() == (0, False) and deadline(lc, "venue_booking").status == "met"
    assert "venue_booking[2]" not in lc.at(START - 62 * DAY).tick()


def _planning_with(items: list[AgendaItem]):  # noqa: ANN202 - Lifecycle
    lc = start()
    prepare(lc)
    invite_keynote(lc)
    invite(lc, "ann")
    lc.apply(SetAgenda(key=key("agenda"), actor=PLANNER, items=items))
    tasks(lc, PLANNER, "agenda_final")
    return lc


def test_the_conference_agenda_must_open_and_close() -> None:
    """Without an opening first and a closing last the agenda gate says which item starts and ends it."""
    programme = day_one(START)
    lc = _planning_with(programme[1:-1])  # keynote, break, talks: neither opening nor closing
    g = gate(lc, "agenda_ready")
    assert g.status == "open"
    assert g.reasons == ["the agenda starts with keynote, not an opening", "the agenda ends with talks, not a closing"]
    lc.apply(SetAgenda(key=key("again"), actor=PLANNER, items=programme))
    assert gate(lc, "agenda_ready").status == "passed"


def test_opening_and_closing_is_off_unless_a_definition_asks() -> None:
    """Older definitions keep their meaning: the flag defaults to false, and those that ask are the shipped
    conference and industry seminar."""
    assert AgendaReady(check="agenda_ready").opening_and_closing is False
    asking = sorted(k for k in shipped().kinds() for s in shipped().get(k).stages for g in s.gates
                    for c in g.checks if isinstance(c, AgendaReady) and c.opening_and_closing)
    assert asking == ["conference", "industry_seminar"]


@pytest.mark.parametrize("kind", ["conference", "industry_seminar"])
def test_itineraries_replace_the_tick(kind: str) -> None:
    """The materials gate checks every accepted speaker's itinerary instead of a task someone ticks."""
    d = shipped().get(kind)
    assert not any(t.id == "speaker_itineraries" for s in d.stages for t in s.tasks)
    gate_id = {"conference": "materials_done", "industry_seminar": "breakouts_ready"}[kind]
    _, materials = d.gate(gate_id)
    assert any(isinstance(c, ItinerariesRecorded) for c in materials.checks)


def test_materials_wait_for_every_accepted_speakers_itinerary() -> None:
    """An accepted speaker without an itinerary keeps the materials gate open; recording it closes the reason."""
    lc = _planning_with(day_one(START))
    assert "speaker Kim has no itinerary yet" in gate(lc, "materials_done").reasons
    itinerary(lc, "kim")
    assert not [r for r in gate(lc, "materials_done").reasons if "itinerary" in r]


# --- A-30, P-17, O-03 (docs/traceability.md) ---------------------------------------------------------------


def test_lessons_are_recorded_with_a_note_saying_what() -> None:
    """A-30: the lessons task takes a note (its text is what the report quotes and the next event shows);
    without one it is refused and nothing changes."""
    from tests.unit.test_lifecycle import post_event, refusal

    lc = post_event()
    before = lc.record.model_copy(deep=True)
    err = refusal(lc, CompleteTask(key=key(), actor=PM, task="lessons_recorded", note="   "))
    assert err.kind == "invalid" and "lessons_recorded is done with a note" in err.message
    assert lc.record == before
    lc.apply(CompleteTask(key=key(), actor=PM, task="lessons_recorded", note="Open the doors earlier."))
    assert lc.record.tasks["lessons_recorded"].note == "Open the doors earlier."


def test_the_notice_goes_out_once_date_and_venue_are_fixed() -> None:
    """P-17: publishing the notice is refused before the date is checked and the venue booked."""
    from tests.unit.test_lifecycle import refusal, start

    lc = start()
    err = refusal(lc, CompleteTask(key=key(), actor=PR, task="notice_published"))
    assert err.kind == "conflict" and "comes after date_checked, venue_booked" in err.message
    lc.apply(CompleteTask(key=key(), actor=PM, task="date_checked"))
    lc.apply(CompleteTask(key=key(), actor=VENUE, task="site_inspection"))
    lc.apply(CompleteTask(key=key(), actor=VENUE, task="venue_booked"))
    lc.apply(CompleteTask(key=key(), actor=PR, task="notice_published"))
    assert "notice_published" in lc.record.tasks


def test_the_day_ends_only_with_its_roles_staffed() -> None:
    """O-03: the on-site gate holds while the event's team names nobody as on-site command (staff on duty by
    role is computed from the team, not only ticked)."""
    from tests.unit.test_lifecycle import NOW, start
    from workflows.lifecycle import Lifecycle

    lc = start()
    team = {role: people for role, people in lc.event.team.items() if role != "on_site_command"}
    short = Lifecycle(lc.definition, lc.event.model_copy(update={"team": team}), lc.record).at(NOW)
    stage = lc.definition.stage("on_site")
    gate = next(g for g in stage.gates if g.id == "event_over")
    _, reasons = short.gate_status(stage, gate)
    assert "the team names nobody as on_site_command" in [r.text for r in reasons]
    _, full = lc.gate_status(stage, gate)
    assert "the team names nobody as on_site_command" not in [r.text for r in full]
