"""Issue 20's kinds: each passes `definitions check`, simulates its own calendar, and differs as the domain says."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli import app
from definitions import shipped
from definitions.schema import AgendaReady, BudgetHasLine, InvitationsSent, KeynotesConfirmed

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
NEW = ["industry_seminar", "business_negotiation", "annual_gala", "exhibition", "project_discussion", "annual_meeting"]


def checks(kind: str) -> list:
    return [c for s in shipped().get(kind).stages for g in s.gates for c in g.checks]


def test_definitions_check_passes_for_every_new_kind() -> None:
    """`convene definitions check` loads each new file and names its kind, stages and deadlines."""
    result = runner.invoke(app, ["definitions", "check", *(str(ROOT / f"definitions/{k}.yaml") for k in NEW)])
    assert result.exit_code == 0, result.output
    for kind in NEW:
        d = shipped().get(kind)
        assert (f"ok  {ROOT / f'definitions/{kind}.yaml'}: {kind}, {len(d.stages)} stages, "
                f"{len(d.deadlines)} deadlines") in result.output


# kind -> (a step the simulation must show: deadline title, relative time, who is told)
SIMULATED = {
    "industry_seminar": ("Attendees assigned to breakout sessions", "start-5d - 2d", "activity_planner"),
    "business_negotiation": ("Non-disclosure agreement signed", "start-10d", "lead_negotiator, sponsor"),
    "annual_gala": ("Seating plan final", "start-2d - 1d", "guest_relations"),
    "exhibition": ("Floor plan approved", "start-100d - 7d", "venue_coordinator, project_manager"),
    "project_discussion": ("Minutes circulated", "end+2d - 1d", "note_taker, project_lead"),
    "annual_meeting": ("All staff invited", "start-21d - 3d", "internal_comms"),
}


@pytest.mark.parametrize("kind", NEW)
def test_simulate_lists_every_step_of_the_kind(kind: str) -> None:
    """`definitions simulate` prints one row per ladder step, among them the kind's own deadline."""
    result = runner.invoke(app, ["definitions", "simulate", kind, "--start", "2027-06-01T09:00:00+00:00", "--no-gantt"])
    assert result.exit_code == 0, result.output
    rows = result.output.strip().splitlines()[2:]
    assert len(rows) == sum(len(d.ladder) for d in shipped().get(kind).deadlines)
    title, relative, told = SIMULATED[kind]
    assert any(title in r and f"  {relative}  " in r and told in r for r in rows), "\n".join(rows)


def test_the_seminar_has_breakouts_speakers_and_open_registration() -> None:
    """Medium exchange meeting: keynotes confirmed, an agenda checked for room overlaps, breakout sessions with a
    moderator and attendees assigned to them, invitations 21 days out, open registration, trade-channel promotion."""
    d = shipped().get("industry_seminar")
    assert d.registration == "open" and d.public_promotion and not d.confidential
    assert any(isinstance(c, KeynotesConfirmed) for c in checks(d.kind))
    assert any(isinstance(c, AgendaReady) for c in checks(d.kind))
    assert [c.days_before_start for c in checks(d.kind) if isinstance(c, InvitationsSent)] == [21]
    tasks = {t.id for s in d.stages for t in s.tasks}
    assert {"breakout_moderators", "breakout_assignment", "breakout_reports", "breakout_summaries"} <= tasks
    assert "breakout_summaries" in d.archive_includes


def test_the_negotiation_is_confidential_private_and_has_no_speakers() -> None:
    """Small business meeting: confidential, no promotion stage, invitation only, no keynote or agenda check; the
    sponsor approves the mandate and the NDA comes before the planning stage; minutes and heads of terms archived."""
    d = shipped().get("business_negotiation")
    assert d.confidential and not d.public_promotion and d.registration == "invite_only"
    assert "promotion" not in d.path()
    assert not any(isinstance(c, (KeynotesConfirmed, AgendaReady)) for c in checks(d.kind))
    stage, mandate = d.gate("mandate_approved")
    assert stage.id == "preparation" and mandate.approval and mandate.approval.roles == ["sponsor"]
    assert d.gate("nda_in_place")[0].id == "preparation"
    assert {"nda", "minutes", "heads_of_terms"} <= set(d.archive_includes)


def test_the_gala_has_a_programme_awards_and_seating() -> None:
    """Special event: programme and catering budget lines, performers and winners decided, a seating plan before
    the go decision (RSVPs close 72 hours before so it can be drawn), heavy promotion."""
    d = shipped().get("annual_gala")
    assert d.public_promotion and d.rsvp_closes_hours_before_start == 72
    assert {c.category for c in checks(d.kind) if isinstance(c, BudgetHasLine)} == {"venue", "programme", "catering",
                                                                                    "contingency"}
    assert d.gate("performers_and_awards")[0].id == "planning"
    assert d.gate("seating_done")[0].id == "promotion"
    assert {"programme", "award_citations", "photos"} <= set(d.archive_includes)


def test_the_exhibition_has_exhibitors_booths_and_a_floor_plan() -> None:
    """Special event: a floor plan approved before exhibitors are confirmed, every exhibitor with a booth, build-up
    and tear-down on site, police and fire services informed, open visitor registration."""
    d = shipped().get("exhibition")
    assert d.registration == "open" and d.public_promotion
    stage, floor = d.gate("floor_plan_approved")
    assert stage.id == "planning" and floor.approval is not None
    tasks = {t.id for s in d.stages for t in s.tasks}
    assert {"booths_allocated", "exhibitor_manual", "buildup_done", "teardown_done", "authorities_coordinated"} <= tasks
    assert {"floor_plan", "exhibitor_list"} <= set(d.archive_includes)


def test_the_project_discussion_is_internal_with_pre_read_and_minutes() -> None:
    """Small internal working meeting: no promotion, invitation only, but not confidential and no NDA (unlike the
    negotiation), no keynotes; pre-read papers attached before, decisions and action items recorded on the day,
    minutes and action items attached within 2 days; modest lead times (invitations 5 days out)."""
    d = shipped().get("project_discussion")
    assert not d.confidential and not d.public_promotion and d.registration == "invite_only"
    assert "promotion" not in d.path()
    assert not any(isinstance(c, KeynotesConfirmed) for c in checks(d.kind))
    assert "nda" not in d.archive_includes and "nda_in_place" not in {g.id for s in d.stages for g in s.gates}
    assert [c.days_before_start for c in checks(d.kind) if isinstance(c, InvitationsSent)] == [5]
    assert d.gate("pre_read_ready")[0].id == "planning"
    assert d.gate("minutes_circulated")[0].id == "post_event"
    tasks = {t.id for s in d.stages for t in s.tasks}
    assert {"decisions_recorded", "actions_recorded", "minutes_circulated"} <= tasks
    assert {"pre_read", "minutes", "action_items"} <= set(d.archive_includes)
    assert max(-t.due.days for s in d.stages for t in s.tasks if t.due and t.due.anchor == "start") <= 14


def test_the_annual_meeting_invites_all_staff_registers_at_the_door_and_surveys() -> None:
    """Medium internal annual meeting: not promoted to the public but all staff invited 21 days out; the
    leadership's presenters confirmed like keynotes; the programme approved by the executive; attendance at the
    door, a survey after (its reminder on the survey deadline)."""
    d = shipped().get("annual_meeting")
    assert not d.public_promotion and not d.confidential and d.registration == "invite_only"
    assert "promotion" not in d.path()
    assert any(isinstance(c, KeynotesConfirmed) for c in checks(d.kind))
    assert [c.days_before_start for c in checks(d.kind) if isinstance(c, InvitationsSent)] == [21]
    stage, programme = d.gate("programme_approved")
    assert stage.id == "planning" and programme.approval and programme.approval.roles == ["executive"]
    tasks = {t.id: t for s in d.stages for t in s.tasks}
    assert {"attendance_registered", "report_given", "questions_answered", "survey_sent"} <= tasks.keys()
    assert not tasks["awards_chosen"].required
    survey = next(x for x in d.deadlines if x.id == "survey_close")
    assert any(step.action == "send_survey_reminder" for step in survey.ladder)
