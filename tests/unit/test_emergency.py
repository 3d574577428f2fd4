"""Issue 20, items 3, 7 (scale) and 8 in the pure lifecycle: the emergency plan and its approval, incidents that take
their owner from it, checks and tasks that vary with ``expected_attendees``, team_ready computed from the team, the
working-day reason, and "book after inspection" in order. Each refusal changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from definitions import Definition, shipped
from definitions.loader import SHIPPED_DIR
from definitions.schema import Scale
from tests.support import COMMAND, PM, TECH, VENUE, conference, emergency_entries, key
from workflows.lifecycle import ActRefused, Lifecycle
from workflows.messages import (
    CompleteTask,
    Decide,
    EmergencyContact,
    EventDetails,
    EventRecord,
    Person,
    RecordEmergencyPlan,
    ReportIncident,
)

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)  # a Tuesday; the start, NOW + 120 days, is a Wednesday
CONFERENCE = shipped().get("conference")


def at_stage(stage: str, event: EventDetails | None = None, definition: Definition = CONFERENCE,
             now: datetime = NOW) -> Lifecycle:
    """A conference put straight into `stage` (start NOW + 120 days, UTC, the whole team named)."""
    record = EventRecord(stage=stage, stage_entered_at=now, stages_entered={stage: now}, roster="database")
    return Lifecycle(definition, event or conference(NOW, timezone="UTC"), record).at(now)


def status(lc: Lifecycle, gate_id: str) -> tuple[str, list[str]]:
    stage, gate = lc.definition.gate(gate_id)
    s, reasons = lc.gate_status(stage, gate)
    return s, [r.text for r in reasons]


def conference_with(change: Any) -> Definition:
    """The shipped conference YAML, changed by `change(data)` before it is validated."""
    data = yaml.safe_load((SHIPPED_DIR / "conference.yaml").read_text())
    change(data)
    return Definition.model_validate(data)


def plan_act(entries: list[EmergencyContact] | None = None) -> RecordEmergencyPlan:
    return RecordEmergencyPlan(key=key("plan"), actor=COMMAND, entries=entries or emergency_entries())


# --- the emergency plan --------------------------------------------------------------------------------


def test_the_plan_gate_names_what_is_missing_and_takes_the_owners_approval():
    """No plan: the gate says so and the owner cannot approve it; a plan missing a category names that category;
    a whole plan awaits the project manager's decision, which passes the gate."""
    lc = at_stage("promotion")
    assert status(lc, "emergency_plan_approved") == ("open", ["no emergency plan recorded yet"])
    with pytest.raises(ActRefused, match="cannot approve emergency_plan_approved yet: no emergency plan"):
        lc.apply(Decide(key=key(), actor=PM, gate="emergency_plan_approved", decision="approve"))
    assert "emergency_plan_approved" not in lc.record.gates

    lc.apply(plan_act([e for e in emergency_entries() if e.category != "weather"]))
    assert status(lc, "emergency_plan_approved") == (
        "open", ["the emergency plan names no owner for weather incidents"])

    lc.apply(plan_act())
    assert status(lc, "emergency_plan_approved")[0] == "awaiting_decision"
    with pytest.raises(ActRefused, match="may not decide"):
        lc.apply(Decide(key=key(), actor=COMMAND, gate="emergency_plan_approved", decision="approve"))
    lc.apply(Decide(key=key(), actor=PM, gate="emergency_plan_approved", decision="approve"))
    assert status(lc, "emergency_plan_approved") == ("passed", [])
    assert [e.category for e in lc.view().emergency_plan] == [e.category for e in emergency_entries()]


def test_a_person_the_plan_names_must_hold_the_role_on_the_team():
    """The plan names someone for on_site_command who is not the team's on-site command: the gate says who."""
    lc = at_stage("promotion")
    entries = [e.model_copy(update={"person": "Stranger"}) if e.category == "injury" else e
               for e in emergency_entries()]
    lc.apply(plan_act(entries))
    assert status(lc, "emergency_plan_approved") == ("open", [
        "the emergency plan names Stranger for on_site_command, who is not on the team as on_site_command"])


@pytest.mark.parametrize(("entries", "message"), [
    ([EmergencyContact(category="injury", role="on_site_command", person="cole", phone="+33 1"),
      EmergencyContact(category="injury", role="technical_support", person="ted", phone="+33 2")],
     "names each incident category once: injury"),
    ([EmergencyContact(category="safety", role="fire_marshal", person="x", phone="112")],
     "names unknown roles: fire_marshal"),
])
def test_a_bad_plan_is_refused_and_changes_nothing(entries: list[EmergencyContact], message: str):
    lc = at_stage("promotion")
    lc.apply(plan_act())
    before = list(lc.record.emergency_plan)
    with pytest.raises(ActRefused, match=message):
        lc.apply(plan_act(entries))
    assert lc.record.emergency_plan == before


def test_a_plan_entry_needs_a_phone_and_a_known_category():
    with pytest.raises(ValidationError, match="phone"):
        EmergencyContact(category="injury", role="on_site_command", person="cole", phone="call Cole")
    with pytest.raises(ValidationError, match="category"):
        EmergencyContact(category="fire", role="on_site_command", person="cole", phone="112")  # type: ignore[arg-type]


def test_an_incident_without_an_owner_takes_the_plans_and_one_with_an_owner_keeps_it():
    lc = at_stage("on_site")
    lc.apply(plan_act())
    lc.apply(ReportIncident(key=key(), actor=COMMAND, incident_id="i1", category="equipment", severity="low",
                            summary="projector flickers"))
    lc.apply(ReportIncident(key=key(), actor=COMMAND, incident_id="i2", category="injury", severity="low",
                            summary="a fall on the stairs", owner="project_manager"))
    assert lc.record.incidents["i1"].owner == TECH.role
    assert lc.record.incidents["i2"].owner == "project_manager"


def test_runs_recorded_before_the_plan_keep_incidents_without_an_owner():
    """owner_from_plan is False only when replaying a run recorded before patched("incident-owner-from-plan")."""
    lc = at_stage("on_site")
    lc.owner_from_plan = False
    lc.apply(plan_act())
    lc.apply(ReportIncident(key=key(), actor=COMMAND, incident_id="i1", category="injury", severity="low",
                            summary="a fall"))
    assert lc.record.incidents["i1"].owner is None


def test_a_category_the_plan_leaves_out_leaves_the_incident_without_an_owner():
    lc = at_stage("on_site")
    lc.apply(plan_act([e for e in emergency_entries() if e.category != "traffic"]))
    lc.apply(ReportIncident(key=key(), actor=COMMAND, incident_id="i1", category="traffic", severity="low",
                            summary="coaches blocked"))
    assert lc.record.incidents["i1"].owner is None


# --- scale: required_when ------------------------------------------------------------------------------


def test_police_and_fire_coordination_is_asked_of_large_events_only():
    """From 1000 expected attendees the readiness gate waits for the coordination task and its deadline watches it;
    below, the task is not required, never overdue, and its deadline counts as met."""
    small = at_stage("promotion", conference(NOW, timezone="UTC", expected_attendees=999))
    large = at_stage("promotion", conference(NOW, timezone="UTC", expected_attendees=1000))
    for lc in (small, large):
        for actor, task in ((TECH, "equipment_tested"), (VENUE, "safety_inspection"), (PM, "staff_briefed")):
            lc.apply(CompleteTask(key=key(), actor=actor, task=task))
    assert status(small, "on_site_ready") == ("passed", [])
    assert status(large, "on_site_ready") == ("open", [
        "task not done: Police and fire services informed of the expected attendance; crowd, traffic and evacuation "
        "plan agreed (authorities_coordinated)"])

    def task_view(lc: Lifecycle) -> Any:
        return next(t for t in lc.view().tasks if t.id == "authorities_coordinated")

    late = NOW + timedelta(days=110)  # past start - 14 days
    small, large = small.at(late), large.at(late)
    assert (task_view(small).required, task_view(small).overdue) == (False, False)
    assert (task_view(large).required, task_view(large).overdue) == (True, True)
    small.tick()
    large.tick()
    assert not [f for f in small.record.fired if f.deadline == "authorities"]
    assert [f.step for f in large.record.fired if f.deadline == "authorities"] == [0, 1]

    def deadline_status(lc: Lifecycle) -> str:
        return next(d.status for d in lc.view().deadlines if d.id == "authorities")

    assert (deadline_status(small), deadline_status(large)) == ("void", "missed")


def test_a_check_with_required_when_holds_only_events_in_scale():
    """Any check takes required_when: here the contingency line, asked of events below 100 attendees only."""
    def change(data: dict[str, Any]) -> None:
        checks = data["stages"][0]["gates"][1]["checks"]
        checks[2] = {"check": "budget_has_line", "category": "contingency",
                     "required_when": {"expected_attendees_below": 100}}
    definition = conference_with(change)
    small = at_stage("preparation", conference(NOW, timezone="UTC", expected_attendees=99), definition)
    large = at_stage("preparation", conference(NOW, timezone="UTC", expected_attendees=100), definition)
    assert "the budget has no contingency line" in status(small, "budget_approved")[1]
    assert "the budget has no contingency line" not in status(large, "budget_approved")[1]


def test_a_scale_names_a_bound():
    with pytest.raises(ValidationError, match="expected_attendees_at_least or expected_attendees_below"):
        Scale()
    both = Scale(expected_attendees_at_least=100, expected_attendees_below=1000)
    assert [both.holds(n) for n in (99, 100, 999, 1000)] == [False, True, True, False]


# --- team_ready, the working day, book after inspection -------------------------------------------------


def test_team_ready_is_computed_from_the_team_on_the_event():
    whole = at_stage("preparation")
    assert status(whole, "team_ready") == ("passed", [])
    team = {"project_manager": [Person(id="pia", name="Pia")], "finance": [Person(id="fay", name="Fay")]}
    partial = at_stage("preparation", conference(NOW, timezone="UTC", team=team))
    state, reasons = status(partial, "team_ready")
    assert state == "open"
    assert reasons == [f"the team names nobody as {r}" for r in (
        "venue_coordinator", "activity_planner", "technical_support", "pr_communications", "finance_approver",
        "on_site_command")]


def test_team_named_without_roles_asks_for_every_role_of_the_definition():
    def change(data: dict[str, Any]) -> None:
        data["stages"][0]["gates"][3]["checks"] = [{"check": "team_named"}]
    definition = conference_with(change)
    lc = at_stage("preparation", definition=definition)  # the support team names every role
    assert status(lc, "team_ready") == ("passed", [])
    team = {r.id: [Person(id=r.id, name=r.title)] for r in definition.roles if r.id != "sponsor"}
    lc = at_stage("preparation", conference(NOW, timezone="UTC", team=team), definition)
    assert status(lc, "team_ready")[1] == ["the team names nobody as sponsor"]


def test_a_team_named_check_names_declared_roles():
    def change(data: dict[str, Any]) -> None:
        data["stages"][0]["gates"][3]["checks"] = [{"check": "team_named", "roles": ["caterer"]}]
    with pytest.raises(ValidationError, match="unknown role 'caterer'"):
        conference_with(change)


@pytest.mark.parametrize(("start", "reason"), [
    (datetime(2030, 5, 1, 9, tzinfo=timezone.utc), None),  # a Wednesday
    (datetime(2030, 5, 4, 9, tzinfo=timezone.utc), "the event starts on a weekend day (2030-05-04)"),
    (datetime(2030, 5, 5, 9, tzinfo=timezone.utc), "the event starts on a weekend day (2030-05-05)"),
    (datetime(2030, 12, 25, 9, tzinfo=timezone.utc), "the event starts on a holiday (2030-12-25)"),
    # Sunday 23:30 in UTC is Monday 07:30 in Tokyo: the event's own zone decides the day
    (datetime(2030, 5, 5, 22, 30, tzinfo=timezone.utc), None),
])
def test_the_date_check_says_a_weekend_or_holiday_start(start: datetime, reason: str | None):
    def change(data: dict[str, Any]) -> None:
        data["stages"][0]["gates"][2]["checks"][1]["holidays"] = [date(2030, 12, 25)]
    definition = conference_with(change)
    zone = "Asia/Tokyo" if start.hour == 22 else "UTC"
    event = conference(NOW, timezone=zone).model_copy(update={"start": start, "end": start + timedelta(days=1)})
    lc = at_stage("preparation", event, definition)
    lc.apply(CompleteTask(key=key(), actor=PM, task="date_checked"))
    lc.apply(CompleteTask(key=key(), actor=VENUE, task="site_inspection"))
    lc.apply(CompleteTask(key=key(), actor=VENUE, task="venue_booked"))
    # the shipped conference says it with blocks: false: a reason beside the gate, which still passes
    assert status(lc, "date_venue_confirmed") == ("passed", [reason] if reason else [])


def test_a_blocking_working_day_check_holds_the_gate():
    def change(data: dict[str, Any]) -> None:
        data["stages"][0]["gates"][2]["checks"][1]["blocks"] = True
    definition = conference_with(change)
    saturday = datetime(2030, 5, 4, 9, tzinfo=timezone.utc)
    event = conference(NOW, timezone="UTC").model_copy(update={"start": saturday, "end": saturday + timedelta(days=1)})
    lc = at_stage("preparation", event, definition)
    for actor, task in ((PM, "date_checked"), (VENUE, "site_inspection"), (VENUE, "venue_booked")):
        lc.apply(CompleteTask(key=key(), actor=actor, task=task))
    assert status(lc, "date_venue_confirmed") == ("open", ["the event starts on a weekend day (2030-05-04)"])


def test_the_venue_is_booked_only_after_the_site_inspection():
    lc = at_stage("preparation")
    with pytest.raises(ActRefused, match="task venue_booked comes after site_inspection, not done yet"):
        lc.apply(CompleteTask(key=key(), actor=VENUE, task="venue_booked"))
    assert "venue_booked" not in lc.record.tasks
    lc.apply(CompleteTask(key=key(), actor=VENUE, task="site_inspection"))
    lc.apply(CompleteTask(key=key(), actor=VENUE, task="venue_booked"))
    assert {"site_inspection", "venue_booked"} <= set(lc.record.tasks)


def test_after_names_a_task_of_its_own_or_an_earlier_stage():
    def later(data: dict[str, Any]) -> None:
        data["stages"][0]["tasks"][4]["after"] = ["agenda_final"]  # a planning task
    with pytest.raises(ValidationError, match="stages.0.tasks.4.after.0: unknown task 'agenda_final'"):
        conference_with(later)

    def itself(data: dict[str, Any]) -> None:
        data["stages"][0]["tasks"][4]["after"] = ["venue_booked"]
    with pytest.raises(ValidationError, match="unknown task 'venue_booked'"):
        conference_with(itself)


def test_the_shipped_kinds_book_after_the_inspection():
    for kind in ("conference", "product_launch", "industry_seminar", "annual_gala", "exhibition"):
        _, task = shipped().get(kind).task("venue_booked")
        assert task.after == ["site_inspection"], kind


def test_the_budget_gates_ask_for_the_documents_categories():
    """The budget categories the source document names, where it asks for them."""
    def lines(kind: str) -> set[str]:
        _, gate = shipped().get(kind).gate("budget_approved")
        return {c.category for c in gate.checks if c.check == "budget_has_line"}  # type: ignore[union-attr]

    assert lines("industry_seminar") == {"venue", "catering", "printing", "contingency"}
    assert lines("exhibition") == {"venue", "printing", "promotion", "contingency"}
    assert lines("annual_gala") == {"venue", "programme", "catering", "contingency"}


def test_simulate_leaves_out_the_deadlines_of_other_scales():
    from workflows.timeline import simulate

    start = datetime(2030, 5, 1, 9, tzinfo=timezone.utc)

    def ids(n: int | None) -> set[str]:
        return {e.deadline for e in simulate(CONFERENCE, start, expected_attendees=n)}

    assert "authorities" in ids(None) and "authorities" in ids(1000)
    assert "authorities" not in ids(999) and ids(999) == ids(None) - {"authorities"}
