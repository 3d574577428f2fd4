"""Pure unit tests of the event lifecycle (workflows/lifecycle.py): no Temporal server, no clock, no asyncio.

Every test fixes its own times: an event built at ``NOW`` starts 120 days later (``START``) and lasts two days.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from definitions import CANCELLED, CLOSED, definition_hash, shipped
from workflows.lifecycle import INVITATION_BATCHES, SYSTEM, ActRefused, Compensate, Lifecycle, RunActivity, machine_config, mermaid_diagram
from workflows.messages import (
    Actor,
    Attendee,
    BudgetLine,
    Cancel,
    CheckIn,
    CompleteTask,
    Decide,
    EventDetails,
    InviteAttendees,
    InviteSpeaker,
    Itinerary,
    NotificationRequest,
    InvitationBatchRef,
    Person,
    Postpone,
    RosterNotice,
    RecordBudget,
    RecordEmergencyPlan,
    RecordSurvey,
    ReportIncident,
    ResolveIncident,
    Rsvp,
    SendBack,
    SpeakerItinerary,
    SpeakerReply,
    SurveyResponse,
)
from tests.support import (
    APPROVER, COMMAND, FINANCE, PLANNER, PM, PR, SPONSOR, TECH, VENUE, conference, day_one, emergency_entries, key,
)
from workflows.messages import SetAgenda

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
START = NOW + timedelta(days=120)
END = START + timedelta(days=2)
DAY = timedelta(days=1)

KINDS = ["conference", "board_meeting", "product_launch"]
CONFERENCE = shipped().get("conference")
BOARD = shipped().get("board_meeting")


# --- builders -------------------------------------------------------------------------------


def start(event: EventDetails | None = None, at: datetime = NOW, roster: str = "database") -> Lifecycle:
    """A new conference; ``roster="memory"`` is the path of events recorded before the roster database.

    Its zone is UTC, so ``START - n * DAY`` is exactly where a step falls; the tests of calendar days across
    clock changes name their zones."""
    lc = Lifecycle.start(CONFERENCE, event or conference(NOW, timezone="UTC"), at, definition_hash(CONFERENCE),
                         roster=roster)
    lc.take_effects()
    return lc


def tasks(lc: Lifecycle, actor: Actor, *task_ids: str) -> None:
    """Complete tasks not already done; one the definition wants a note for (the lessons) gets one."""
    for t in task_ids:
        if t not in lc.record.tasks:
            note = "noted by the walk" if lc.definition.task(t)[1].note_required else None
            lc.apply(CompleteTask(key=key(t), actor=actor, task=t, note=note))


def booked(at: datetime = NOW) -> Lifecycle:
    """A new conference whose venue is booked at once: its venue_booking ladder never fires, so a test of
    another ladder sees only that one."""
    lc = start(at=at)
    tasks(lc, VENUE, "site_inspection", "venue_booked")
    lc.take_effects()
    return lc


def budget(lc: Lifecycle, **lines: str) -> None:
    lc.apply(RecordBudget(key=key("budget"), actor=FINANCE,
                          lines=[BudgetLine(category=c, planned=Decimal(v)) for c, v in lines.items()]))


def prepare_tasks(lc: Lifecycle) -> None:
    """Everything preparation needs except the budget approval."""
    tasks(lc, PM, "theme_purpose", "date_checked", "team_assigned")
    tasks(lc, VENUE, "site_inspection", "venue_booked")
    budget(lc, venue="40000", catering="30000", contingency="8000")
    tasks(lc, FINANCE, "budget_draft")


def prepare(lc: Lifecycle) -> None:
    prepare_tasks(lc)
    lc.apply(Decide(key=key("approve"), actor=APPROVER, gate="budget_approved", decision="approve"))


def invite_keynote(lc: Lifecycle, pid: str = "kim", accept: bool = True) -> None:
    lc.apply(InviteSpeaker(key=key("spk"), actor=PLANNER, slot="keynote", topic="Durable events",
                           speaker=Person(id=pid, name=pid.title(), email=f"{pid}@example.org")))
    if accept:
        lc.apply(SpeakerReply(key=key("reply"), actor=PLANNER, speaker_id=pid, response="accepted"))


def itinerary(lc: Lifecycle, pid: str) -> None:
    lc.apply(SpeakerItinerary(key=key("itinerary"), actor=PLANNER, speaker_id=pid,
                              itinerary=Itinerary(lodging="Hotel Bellecour")))


def invite(lc: Lifecycle, *ids: str) -> None:
    lc.apply(InviteAttendees(key=key("inv"), actor=PR, attendees=[
        Attendee(id=i, name=i.title(), email=f"{i}@example.org") for i in ids
    ]))


def plan(lc: Lifecycle) -> None:
    invite_keynote(lc)
    invite(lc, "ann", "bob")
    lc.apply(SetAgenda(key=key("agenda"), actor=PLANNER, items=day_one(lc.event.start)))
    itinerary(lc, "kim")
    tasks(lc, PLANNER, "agenda_final", "materials_ready")
    tasks(lc, PR, "contact_named")


def promote(lc: Lifecycle) -> None:
    tasks(lc, PR, "audience_defined", "content_ready", "channels_running", "reminders_sent")
    tasks(lc, TECH, "equipment_tested")
    tasks(lc, VENUE, "safety_inspection")
    tasks(lc, PM, "staff_briefed")
    lc.apply(RecordEmergencyPlan(key=key("plan"), actor=COMMAND, entries=emergency_entries()))
    lc.apply(Decide(key=key("plan-ok"), actor=PM, gate="emergency_plan_approved", decision="approve"))
    lc.apply(Decide(key=key("go"), actor=PM, gate="go_decision", decision="approve", reason="all ready"))


def on_site(lc: Lifecycle | None = None) -> Lifecycle:
    lc = lc or start()
    prepare(lc)
    plan(lc)
    promote(lc)
    assert lc.record.stage == "on_site"
    return lc


def post_event(lc: Lifecycle | None = None) -> Lifecycle:
    """A conference walked to post-event: the day run, then a tick at the end time."""
    lc = on_site(lc)
    tasks(lc, VENUE, "set_up")
    tasks(lc, COMMAND, "staff_on_duty")
    lc.take_effects()
    lc.at(END).tick()
    assert lc.record.stage == "post_event"
    return lc


def refusal(lc: Lifecycle, act: object) -> ActRefused:
    with pytest.raises(ActRefused) as info:
        lc.check(act)  # type: ignore[arg-type]
    return info.value


def gate(lc: Lifecycle, gate_id: str):  # noqa: ANN201 - GateView
    return next(g for g in lc.view().gates if g.id == gate_id)


def deadline(lc: Lifecycle, deadline_id: str):  # noqa: ANN201 - DeadlineView
    return next(d for d in lc.view().deadlines if d.id == deadline_id)


def guests(effects: list) -> dict[str, str]:
    """Notifications to people outside the team: person id -> kind."""
    return {e.recipient.person_id: e.kind for e in effects
            if isinstance(e, NotificationRequest) and e.recipient.role == "guest"}


# --- machine_config and the diagram ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_machine_states_are_the_stages_then_closed_and_cancelled(kind: str) -> None:
    """The machine's states are the definition's path followed by closed and cancelled, starting at the first stage."""
    d = shipped().get(kind)
    config = machine_config(d)
    assert config["states"] == [*d.path(), CLOSED, CANCELLED]
    assert config["initial"] == d.path()[0]
    assert config["auto_transitions"] is False


@pytest.mark.parametrize("kind", KINDS)
def test_advance_goes_to_the_next_stage_guarded_by_gates_pass(kind: str) -> None:
    """Each stage has one `advance` to the next stage on the path (closed after the last), guarded by gates_pass."""
    d = shipped().get(kind)
    path = d.path()
    advances = [t for t in machine_config(d)["transitions"] if t["trigger"] == "advance"]
    assert [(t["source"], t["dest"]) for t in advances] == list(zip(path, [*path[1:], CLOSED]))
    assert all(t["conditions"] == "gates_pass" for t in advances)


def _before_event(kind: str) -> tuple[list[str], str]:
    """The stages before the doors open, and the on-site stage (the first whose gate waits for the event's end)."""
    d = shipped().get(kind)
    on_site = d.stages[d.first_on_site_index()].id
    return d.path()[: d.path().index(on_site)], on_site


@pytest.mark.parametrize("kind", KINDS)
def test_send_back_triggers_lead_only_to_earlier_stages(kind: str) -> None:
    """Every stage before the event has a send_back_to_<x> to each earlier stage; nothing sends back to a later one."""
    d = shipped().get(kind)
    path = d.path()
    before, on_site = _before_event(kind)
    assert on_site == "on_site"
    sends = [t for t in machine_config(d)["transitions"] if t["trigger"].startswith("send_back_to_")]
    pairs = {(t["source"], t["dest"]) for t in sends}
    assert pairs == {(src, dst) for i, src in enumerate(before) for dst in before[:i]}
    assert len(sends) == len(pairs) == len(before) * (len(before) - 1) // 2
    for t in sends:
        assert path.index(t["dest"]) < path.index(t["source"])
        assert t["trigger"] == f"send_back_to_{t['dest']}"
        assert "conditions" not in t


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_leads_from_every_stage_up_to_on_site_to_cancelled(kind: str) -> None:
    """One `cancel` leads to cancelled from every stage until the event has happened (not from post-event)."""
    d = shipped().get(kind)
    before, on_site = _before_event(kind)
    cancels = [t for t in machine_config(d)["transitions"] if t["trigger"] == "cancel"]
    assert cancels == [{"trigger": "cancel", "source": [*before, on_site], "dest": CANCELLED}]
    assert cancels[0]["source"] == d.path()[:-1]


def test_board_meeting_path_has_readiness_instead_of_promotion() -> None:
    """The board meeting walks preparation, planning, readiness, on_site, post_event; it has no promotion stage."""
    config = machine_config(BOARD)
    assert BOARD.path() == ["preparation", "planning", "readiness", "on_site", "post_event"]
    assert "promotion" not in config["states"]
    advance = {t["source"]: t["dest"] for t in config["transitions"] if t["trigger"] == "advance"}
    assert advance == {"preparation": "planning", "planning": "readiness", "readiness": "on_site",
                       "on_site": "post_event", "post_event": CLOSED}
    triggers = {t["trigger"] for t in config["transitions"]
                if t["source"] == "readiness" or "readiness" in t["source"]}
    assert triggers == {"advance", "cancel", "send_back_to_preparation", "send_back_to_planning"}


@pytest.mark.parametrize("kind", KINDS)
def test_diagram_names_every_stage_and_advance(kind: str) -> None:
    """The mermaid diagram is a state diagram with a titled node per stage, Closed, Cancelled and guarded advances."""
    d = shipped().get(kind)
    text = mermaid_diagram(d)
    assert "stateDiagram-v2" in text
    for stage in d.stages:
        assert f'state "{stage.title}" as {stage.id}' in text
    assert 'state "Closed" as closed' in text and 'state "Cancelled" as cancelled' in text
    assert "preparation --> planning: advance [gates_pass]" in text
    assert text.count("advance [gates_pass]") == len(d.path())
    assert "  [*] --> preparation" in text
    assert "Class " not in text  # mermaid's keyword is lowercase


def test_diagram_marks_the_current_stage() -> None:
    """Drawn with a current stage, the diagram starts there and styles it active."""
    text = mermaid_diagram(BOARD, "planning")
    assert "class planning s_active" in text
    assert "  [*] --> planning" in text
    assert "planning --> preparation: send_back_to_preparation" in text
    assert "on_site --> planning" not in text


# --- start and rebuild ----------------------------------------------------------------------------


def test_start_puts_the_event_in_the_first_stage() -> None:
    """Lifecycle.start enters the first stage at `now`, records it in stages_entered and audits nothing yet."""
    lc = Lifecycle.start(BOARD, conference(NOW, kind="board_meeting"), NOW, "h-1")
    assert lc.record.stage == "preparation"
    assert lc.record.status == "active"
    assert lc.record.stage_entered_at == NOW
    assert lc.record.stages_entered == {"preparation": NOW}
    assert lc.record.audit == []
    view = lc.view()
    assert (view.stage, view.stage_title, view.definition_hash) == ("preparation", "Preparation", "h-1")
    assert view.stages == ["preparation", "planning", "readiness", "on_site", "post_event"]
    assert view.can_advance is False


def test_a_lifecycle_rebuilt_from_its_record_shows_the_same_view() -> None:
    """A Lifecycle rebuilt from a deep copy of the record (as after continue-as-new) gives an identical view()."""
    lc = start()
    prepare(lc)
    invite_keynote(lc, accept=False)
    invite(lc, "ann")
    later = START - 47 * DAY  # past start-48d: the speakers reminder fires
    # (Kim, invited and silent for 73 days, also gets both speaker reminders.)
    assert lc.at(later).tick() == ["speakers_confirmation[0]", "speaker:kim[0]", "speaker:kim[1]"]
    again = Lifecycle(CONFERENCE, lc.event, lc.record.model_copy(deep=True), lc.definition_hash).at(later)
    assert again.record.stage == "planning"
    assert again.view().model_dump() == lc.view().model_dump()
    assert again.next_wakeup() == lc.next_wakeup() == START - 45 * DAY
    # the rebuilt machine keeps working from the recorded stage
    again.apply(SpeakerReply(key=key(), actor=PLANNER, speaker_id="kim", response="accepted"))
    again.apply(SetAgenda(key=key("agenda"), actor=PLANNER, items=day_one(again.event.start)))
    itinerary(again, "kim")
    tasks(again, PLANNER, "agenda_final", "materials_ready")
    tasks(again, PR, "contact_named")
    assert again.record.stage == "promotion"


def test_lifecycle_without_a_time_refuses_to_guess() -> None:
    """A rebuilt Lifecycle reads no clock: view() before .at(now) raises."""
    lc = start()
    again = Lifecycle(CONFERENCE, lc.event, lc.record.model_copy(deep=True))
    with pytest.raises(RuntimeError, match=r"at\(now\) must be called first"):
        again.view()


# --- check never mutates --------------------------------------------------------------------------


def test_check_changes_nothing_whether_it_refuses_or_accepts() -> None:
    """check() leaves the record, the event and the pending effects as they were, for refused and accepted acts."""
    lc = start()
    tasks(lc, PM, "theme_purpose")
    budget(lc, venue="140000")
    tasks(lc, FINANCE, "budget_draft")
    invite(lc, "ann")
    done = CompleteTask(key="done-once", actor=PM, task="date_checked")
    lc.apply(done)
    lc.take_effects()
    before = lc.record.model_copy(deep=True).model_dump()
    event_before = lc.event.model_dump()
    refused = [
        Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="approve"),
        CompleteTask(key=key(), actor=PM, task="theme_purpose"),
        CheckIn(key=key(), actor=PR, attendee_id="ann"),
        Rsvp(key=key(), actor=PR, attendee_id="ann", response="yes"),
        SendBack(key=key(), actor=PM, to_stage="planning", reason="x"),
        CompleteTask(key="done-once", actor=PM, task="team_assigned"),
    ]
    for act in refused:
        refusal(lc, act)
    accepted = [
        CompleteTask(key=key(), actor=PM, task="team_assigned"),
        Decide(key=key(), actor=SPONSOR, gate="budget_approved", decision="waive", reason="board decided"),
        Cancel(key=key(), actor=PM, reason="no"),
        Postpone(key=key(), actor=PM, new_start=START + 7 * DAY, new_end=END + 7 * DAY),
        InviteAttendees(key=key(), actor=PR, batch=InvitationBatchRef(id="b-1", count=500)),
    ]
    for act in accepted:
        assert lc.check(act) is None
    assert lc.check(done) is not None  # a repeated key answers from the record
    assert lc.record.model_dump() == before
    assert lc.event.model_dump() == event_before
    assert lc.effects == []
    assert lc.record.stage == "preparation"


# --- refusals ---------------------------------------------------------------------------------------


def test_unknown_role_is_forbidden() -> None:
    """An actor claiming a role the definition lacks is refused as forbidden."""
    err = refusal(start(), CompleteTask(key=key(), actor=Actor(id="cat", role="caterer"), task="theme_purpose"))
    assert (err.kind, err.message) == ("forbidden", "'caterer' is not a role of a conference")


def test_impostor_is_forbidden() -> None:
    """A person not on the team for the role they claim is refused as forbidden."""
    act = Decide(key=key(), actor=Actor(id="mallory", role="finance_approver"), gate="budget_approved",
                 decision="approve")
    err = refusal(start(), act)
    assert (err.kind, err.message) == ("forbidden", "mallory does not hold the role finance_approver for this event")


def test_owner_without_a_team_entry_is_the_event_owner() -> None:
    """With no team listed for the owner role, only the event's owner may act as it."""
    lc = start(conference(NOW, team={}))
    err = refusal(lc, CompleteTask(key=key(), actor=Actor(id="ivy", role="project_manager"), task="theme_purpose"))
    assert (err.kind, err.message) == ("forbidden", "ivy does not hold the role project_manager for this event")
    assert lc.check(CompleteTask(key=key(), actor=PM, task="theme_purpose")) is None


def test_wrong_role_for_a_task_is_forbidden() -> None:
    """Only the task's owner role and the complete_task roles may complete it."""
    err = refusal(start(), CompleteTask(key=key(), actor=VENUE, task="budget_draft"))
    assert err.kind == "forbidden"
    assert err.message == "a venue_coordinator may not complete task here; allowed: finance, project_manager"


def test_deciding_a_gate_of_another_stage_is_a_conflict() -> None:
    """A gate can only be decided while the event is in the gate's stage."""
    err = refusal(start(), Decide(key=key(), actor=PM, gate="go_decision", decision="approve"))
    assert (err.kind, err.message) == ("conflict", "gate go_decision belongs to promotion; the event is in preparation")


def test_deciding_a_gate_without_approval_roles_is_forbidden() -> None:
    """A computed gate lists no approvers, so approving it is forbidden to everyone."""
    err = refusal(start(), Decide(key=key(), actor=PM, gate="theme_recorded", decision="approve"))
    assert (err.kind, err.message) == ("forbidden", "a project_manager may not decide here; allowed: nobody")


def test_approving_while_checks_fail_lists_every_reason() -> None:
    """Approving the budget refuses with a conflict naming the over-limit total and the missing contingency line."""
    lc = start()
    budget(lc, venue="140000")
    tasks(lc, FINANCE, "budget_draft")
    err = refusal(lc, Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="approve"))
    assert err.kind == "conflict"
    assert err.message == (
        "cannot approve budget_approved yet: planned budget 140,000.00 EUR exceeds the limit 100,000.00 EUR; "
        "the budget has no contingency line"
    )


def test_approving_before_the_draft_names_the_missing_task() -> None:
    """With no budget draft and no lines, the refusal names the task and the empty budget."""
    err = refusal(start(), Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="approve"))
    assert err.message == (
        "cannot approve budget_approved yet: task not done: Draft the budget by category (venue, equipment, "
        "catering and lodging, transport, programme, printing, contingency) (budget_draft); "
        "no budget lines recorded yet; the budget has no contingency line"
    )


def test_reject_without_reason_is_invalid() -> None:
    """A rejection with no (or a blank) reason is refused as invalid."""
    lc = start()
    for reason in (None, "   "):
        err = refusal(lc, Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="reject", reason=reason))
        assert (err.kind, err.message) == ("invalid", "a rejection needs a reason")


def test_waive_without_reason_is_invalid() -> None:
    """Waiving a gate with no reason is refused as invalid, even by a waiver role."""
    err = refusal(start(), Decide(key=key(), actor=SPONSOR, gate="theme_recorded", decision="waive"))
    assert (err.kind, err.message) == ("invalid", "waiving a gate needs a reason")


def test_waive_by_a_non_waiver_role_is_forbidden() -> None:
    """Only the definition's waive roles may waive, whatever the gate's approvers."""
    act = Decide(key=key(), actor=APPROVER, gate="budget_approved", decision="waive", reason="trust me")
    err = refusal(start(), act)
    assert (err.kind, err.message) == (
        "forbidden", "a finance_approver may not decide here; allowed: sponsor, project_manager")


def test_waiving_a_passed_gate_is_a_conflict() -> None:
    """A gate that already passes cannot be waived."""
    lc = start()
    tasks(lc, PM, "theme_purpose")
    err = refusal(lc, Decide(key=key(), actor=SPONSOR, gate="theme_recorded", decision="waive", reason="why not"))
    assert (err.kind, err.message) == ("conflict", "gate theme_recorded is already passed")


def test_completing_an_activity_task_by_hand_is_a_conflict() -> None:
    """Tasks done by the engine (archive) cannot be ticked off by a person."""
    lc = post_event()
    err = refusal(lc, CompleteTask(key=key(), actor=PM, task="archive_written"))
    assert (err.kind, err.message) == ("conflict", "task archive_written is done by the engine (archive), not by hand")


def test_completing_a_task_of_a_later_stage_is_a_conflict() -> None:
    """A task of a stage the event has not reached yet cannot be done."""
    err = refusal(start(), CompleteTask(key=key(), actor=PLANNER, task="agenda_final"))
    assert (err.kind, err.message) == ("conflict", "task agenda_final belongs to planning; the event is in preparation")


def test_completing_a_task_of_an_earlier_stage_is_allowed() -> None:
    """An optional task of a stage already left can still be done."""
    lc = start()
    prepare(lc)
    assert lc.record.stage == "planning"
    result = lc.apply(CompleteTask(key=key(), actor=PM, task="notice_published"))
    assert result.message == "task done: Publish the notice once date and venue are fixed"
    assert "notice_published" in lc.record.tasks


def test_an_already_done_task_is_a_conflict() -> None:
    """Completing the same task again under a new key is refused."""
    lc = start()
    tasks(lc, PM, "theme_purpose")
    err = refusal(lc, CompleteTask(key=key(), actor=PM, task="theme_purpose"))
    assert (err.kind, err.message) == ("conflict", "task theme_purpose is already done")


@pytest.mark.parametrize(
    ("act", "message"),
    [
        (CompleteTask(key="u1", actor=PM, task="nope"), "unknown task 'nope'"),
        (Decide(key="u2", actor=PM, gate="nope", decision="approve"), "unknown gate 'nope'"),
        (SpeakerReply(key="u3", actor=PLANNER, speaker_id="ghost", response="accepted"), "unknown speaker 'ghost'"),
        (Rsvp(key="u4", actor=PR, attendee_id="ghost", response="yes"),
         "RSVPs are recorded in the roster database, not by the workflow: use the API "
         "(POST /events/{id}/attendees/{attendee}/rsvp) or `convene events`"),
        (CheckIn(key="u5", actor=PR, attendee_id="ghost"),
         "check-ins are recorded in the roster database, not by the workflow: use the API "
         "(POST /events/{id}/attendees/{attendee}/check-in) or `convene events`"),
        (SendBack(key="u6", actor=PM, to_stage="nope", reason="x"), "unknown stage 'nope'"),
    ],
    ids=["task", "gate", "speaker", "rsvp-attendee", "checkin-attendee", "stage"],
)
def test_unknown_names_are_invalid(act: object, message: str) -> None:
    """An act naming an unknown task, gate, stage or speaker is refused as invalid with its name; attendee acts
    are refused as invalid pointing to the roster database, which knows its attendees (tests/db)."""
    err = refusal(start(), act)
    assert (err.kind, err.message) == ("invalid", message)


def test_waiving_an_unknown_gate_is_invalid() -> None:
    """Waiving an unknown gate is refused as invalid, like approving one."""
    err = refusal(start(), Decide(key=key(), actor=SPONSOR, gate="nope", decision="waive", reason="x"))
    assert (err.kind, err.message) == ("invalid", "unknown gate 'nope'")


def test_memory_roster_check_in_before_on_site_is_a_conflict() -> None:
    """Events recorded before the roster database: check-in opens only in the on-site stage."""
    lc = start(roster="memory")
    invite(lc, "ann")
    err = refusal(lc, CheckIn(key=key(), actor=PR, attendee_id="ann"))
    assert (err.kind, err.message) == ("conflict", "check-in opens on site; the event is in preparation")


def test_memory_roster_check_in_on_site_records_the_time_once() -> None:
    """Events recorded before the roster database: on site an invited attendee checks in once; a second
    check-in is a conflict naming the first time."""
    lc = on_site(start(roster="memory"))
    t = NOW + DAY
    lc.at(t).apply(CheckIn(key=key(), actor=PR, attendee_id="ann"))
    assert lc.record.attendees["ann"].checked_in_at == t
    assert lc.view().attendees.checked_in == 1
    err = refusal(lc, CheckIn(key=key(), actor=PR, attendee_id="ann"))
    assert (err.kind, err.message) == ("conflict", f"ann already checked in at {t.isoformat()}")


def test_memory_roster_survey_before_the_end_is_a_conflict() -> None:
    """Events recorded before the roster database: survey responses are refused until the event's end."""
    lc = start(roster="memory")
    act = RecordSurvey(key=key(), actor=PR, responses=[SurveyResponse(respondent="ann", content=5, organisation=4,
                                                                      service=3)])
    err = refusal(lc.at(END - timedelta(seconds=1)), act)
    assert (err.kind, err.message) == ("conflict", "survey responses are recorded after the event")
    assert lc.at(END).apply(act).message == "1 survey response(s) recorded"
    assert lc.record.survey["ann"].content == 5


def test_postpone_into_the_past_is_invalid() -> None:
    """A new start not in the future, or not after the current start, is refused as invalid."""
    lc = start()
    err = refusal(lc, Postpone(key=key(), actor=PM, new_start=NOW - DAY, new_end=NOW))
    assert (err.kind, err.message) == ("invalid", "the new start must be in the future")
    err = refusal(lc, Postpone(key=key(), actor=PM, new_start=START - DAY, new_end=START))
    assert (err.kind, err.message) == (
        "invalid", "postponing moves the event later; the new start is not after the current one")


def test_send_back_to_a_later_stage_is_a_conflict() -> None:
    """Sending back from preparation to planning is refused: planning is not earlier."""
    err = refusal(start(), SendBack(key=key(), actor=PM, to_stage="planning", reason="skip ahead"))
    assert (err.kind, err.message) == (
        "conflict", "cannot send back from preparation to planning: it is not an earlier stage")


def test_send_back_without_reason_is_invalid() -> None:
    """A send back must say why."""
    lc = start()
    prepare(lc)
    err = refusal(lc, SendBack(key=key(), actor=APPROVER, to_stage="preparation"))
    assert (err.kind, err.message) == ("invalid", "sending back needs a reason")


def test_acts_on_a_cancelled_event_are_conflicts() -> None:
    """After cancel, every new act is refused as a conflict naming the status; the cancel key still answers."""
    lc = start()
    cancel = Cancel(key="cancel-1", actor=SPONSOR, reason="venue flooded")
    first = lc.apply(cancel)
    err = refusal(lc, CompleteTask(key=key(), actor=PM, task="theme_purpose"))
    assert (err.kind, err.message) == ("conflict", "the event is cancelled; it takes no more acts")
    err = refusal(lc, Cancel(key=key(), actor=PM, reason="again"))
    assert err.kind == "conflict"
    assert lc.check(cancel) == first


def test_reusing_a_key_for_a_different_act_is_a_conflict() -> None:
    """An idempotency key already used for other content is refused, naming the earlier act."""
    lc = start()
    lc.apply(CompleteTask(key="same", actor=PM, task="theme_purpose"))
    err = refusal(lc, CompleteTask(key="same", actor=PM, task="date_checked"))
    assert (err.kind, err.message) == (
        "conflict", "idempotency key 'same' was already used for a different act (complete_task)")
    err = refusal(lc, Decide(key="same", actor=PM, gate="go_decision", decision="approve"))
    assert err.kind == "conflict"


# --- apply ------------------------------------------------------------------------------------------


def test_apply_advances_by_itself_when_every_gate_passes() -> None:
    """The act that makes the last gate pass moves the event to the next stage, audited by the engine."""
    lc = start()
    prepare_tasks(lc)
    assert lc.record.stage == "preparation"
    assert gate(lc, "budget_approved").status == "awaiting_decision"
    assert gate(lc, "budget_approved").reasons == ["awaiting a decision by finance_approver"]
    at = NOW + DAY
    result = lc.at(at).apply(Decide(key="approve-1", actor=APPROVER, gate="budget_approved", decision="approve",
                                    reason="fits"))
    assert (result.act, result.stage, result.status) == ("decide", "planning", "active")
    assert result.message == "Budget approved: approved"
    assert lc.record.stages_entered["planning"] == at
    assert lc.record.stage_entered_at == at
    last = lc.record.audit[-1]
    assert (last.act, last.actor, last.role, last.summary) == ("advance", SYSTEM, "system", "preparation -> planning")
    assert last.seq == result.seq + 1
    assert gate(lc, "budget_approved").status == "passed"


def test_audit_entries_number_actor_role_and_reason() -> None:
    """Each applied act appends one audit entry with the next seq, the actor, the role, the key and the reason."""
    lc = start()
    r1 = lc.apply(CompleteTask(key="a-1", actor=PM, task="theme_purpose", reason="kick-off done"))
    r2 = lc.apply(RecordBudget(key="a-2", actor=FINANCE, lines=[BudgetLine(category="venue", planned=Decimal("10"))]))
    assert (r1.seq, r2.seq) == (1, 2)
    a1, a2 = lc.record.audit
    assert (a1.seq, a1.act, a1.actor, a1.role, a1.key, a1.reason, a1.at) == (
        1, "complete_task", "pia", "project_manager", "a-1", "kick-off done", NOW)
    assert a1.summary == "task done: Record the theme and a concrete purpose"
    assert (a2.seq, a2.act, a2.actor, a2.role, a2.reason) == (2, "record_budget", "fay", "finance", None)
    assert a2.summary == "budget lines recorded (venue); planned total 10.00"
    assert lc.view().audit == lc.record.audit


def test_same_key_twice_answers_the_same_and_records_once() -> None:
    """Applying an act twice under one key returns an identical ActResult and adds a single audit entry."""
    lc = start()
    act = CompleteTask(key="once", actor=PM, task="theme_purpose")
    first = lc.apply(act)
    second = lc.at(NOW + DAY).apply(act.model_copy(deep=True))
    assert second == first
    assert len(lc.record.audit) == 1
    assert lc.record.tasks["theme_purpose"].done_at == NOW


def test_budget_over_limit_keeps_the_gate_open_with_the_reason() -> None:
    """A planned total above the limit keeps budget_approved open with the exact totals in the reason."""
    lc = start()
    budget(lc, venue="90000", contingency="10000.50")
    tasks(lc, FINANCE, "budget_draft")
    view = gate(lc, "budget_approved")
    assert view.status == "open"
    assert view.reasons == ["planned budget 100,000.50 EUR exceeds the limit 100,000.00 EUR"]
    assert lc.view().budget.planned == Decimal("100000.50")
    budget(lc, contingency="10000")  # exactly at the limit is within it
    assert gate(lc, "budget_approved").status == "awaiting_decision"


def test_invitations_later_than_thirty_days_before_start_fail_the_gate_with_a_count() -> None:
    """Invitations sent less than 30 days before the start keep invitations_sent open, counting them and
    saying when the latest went out; a batch written to the roster counts as its size."""
    lc = start(conference(NOW, days_ahead=20))
    prepare(lc)
    invite(lc, "a1", "a2", "a3", "a4", "a5", "a6", "a7")
    lc.at(NOW + DAY).apply(InviteAttendees(key=key(), actor=PR, batch=InvitationBatchRef(id="csv-1", count=4993)))
    view = gate(lc, "invitations_sent")
    assert view.status == "open"
    assert view.reasons == [
        f"5000 invitation(s) sent less than 30 days before the start (the latest at {(NOW + DAY).isoformat()})"]
    assert lc.view().attendees.invited == 5000


def test_memory_roster_invitations_gate_names_the_late_people() -> None:
    """Events recorded before the roster database name the late invitees in the gate's reason."""
    lc = start(conference(NOW, days_ahead=20), roster="memory")
    prepare(lc)
    invite(lc, "a1", "a2", "a3", "a4", "a5", "a6", "a7")
    assert gate(lc, "invitations_sent").reasons == [
        "7 invitation(s) sent less than 30 days before the start (a1, a2, a3, a4, a5 and 2 more)"]


def test_invitations_exactly_thirty_days_before_start_pass() -> None:
    """An invitation sent exactly at start-30d counts as in time; one a second later does not."""
    lc = start()
    prepare(lc)
    lc.at(START - 30 * DAY).apply(InviteAttendees(key=key(), actor=PR, attendees=[Attendee(id="ann", name="Ann")]))
    assert gate(lc, "invitations_sent").status == "passed"
    late = START - 30 * DAY + timedelta(seconds=1)
    lc.at(late).apply(InviteAttendees(key=key(), actor=PR, attendees=[Attendee(id="bob", name="Bob")]))
    assert gate(lc, "invitations_sent").reasons == [
        f"1 invitation(s) sent less than 30 days before the start (the latest at {late.isoformat()})"]


def test_invitation_batches_stay_bounded_and_late_ones_stay_exact() -> None:
    """Past INVITATION_BATCHES the oldest batches merge (count kept), so 5,000 acts keep a bounded record and
    the invitations gate still counts every late invitation."""
    lc = start(conference(NOW, days_ahead=200))
    prepare(lc)
    for i in range(5000):
        lc.at(NOW + timedelta(minutes=i)).apply(
            InviteAttendees(key=f"b{i}", actor=PR, batch=InvitationBatchRef(id=f"b{i}", count=10)))
    assert len(lc.record.invitations) == INVITATION_BATCHES
    assert sum(b.count for b in lc.record.invitations) == 50_000 == lc.view().attendees.invited
    assert gate(lc, "invitations_sent").status == "passed"
    lc.at(lc.event.start - DAY).apply(InviteAttendees(key="late", actor=PR,
                                                      batch=InvitationBatchRef(id="late", count=3)))
    assert gate(lc, "invitations_sent").reasons[0].startswith("3 invitation(s) sent less than 30 days")


def test_keynote_declining_reopens_the_speakers_gate() -> None:
    """A confirmed keynote who then declines puts speakers_confirmed back to open with the count."""
    lc = start()
    prepare(lc)
    assert gate(lc, "speakers_confirmed").reasons == ["0 of 1 keynote slot(s) have a confirmed speaker"]
    invite_keynote(lc)
    assert gate(lc, "speakers_confirmed").status == "passed"
    assert lc.view().speakers.confirmed_keynotes == 1
    result = lc.apply(SpeakerReply(key=key(), actor=PLANNER, speaker_id="kim", response="declined"))
    assert result.message == "speaker Kim declined (keynote); the keynote slot is open again"
    view = gate(lc, "speakers_confirmed")
    assert (view.status, view.reasons) == ("open", ["0 of 1 keynote slot(s) have a confirmed speaker"])
    assert lc.view().speakers.declined == 1


def test_send_back_clears_the_decisions_of_reopened_stages() -> None:
    """Sending back from planning to preparation moves the event and drops the budget approval and planning's waiver."""
    lc = start()
    prepare(lc)
    lc.apply(Decide(key=key(), actor=SPONSOR, gate="invitations_sent", decision="waive", reason="short notice"))
    assert set(lc.record.gates) == {"budget_approved", "invitations_sent"}
    result = lc.apply(SendBack(key=key(), actor=APPROVER, to_stage="preparation", reason="budget cut by 20%"))
    assert (result.stage, result.act) == ("preparation", "send_back")
    assert result.message == "sent back from planning to preparation; decisions reopened in preparation, planning"
    assert lc.record.gates == {}
    assert gate(lc, "budget_approved").status == "awaiting_decision"
    assert [(a.act, a.summary) for a in lc.record.audit[-2:]] == [
        ("move", "planning -> preparation"),
        ("send_back", result.message),
    ]
    assert lc.record.audit[-1].reason == "budget cut by 20%"


def test_send_back_keeps_decisions_of_stages_not_reopened() -> None:
    """Sending back from promotion to planning keeps preparation's budget approval and drops promotion's go decision."""
    lc = start()
    prepare(lc)
    invite_keynote(lc)
    invite(lc, "ann")
    lc.apply(SetAgenda(key=key("agenda"), actor=PLANNER, items=day_one(lc.event.start)))
    itinerary(lc, "kim")
    tasks(lc, PLANNER, "agenda_final")
    tasks(lc, PR, "contact_named")
    lc.apply(Decide(key=key(), actor=SPONSOR, gate="materials_done", decision="waive", reason="printed on site"))
    assert lc.record.stage == "promotion"
    lc.apply(Decide(key=key(), actor=PM, gate="go_decision", decision="approve"))
    result = lc.apply(SendBack(key=key(), actor=PM, to_stage="planning", reason="materials after all"))
    assert result.stage == "planning"
    assert set(lc.record.gates) == {"budget_approved"}
    assert gate(lc, "materials_done").status == "open"


def test_send_back_to_a_stage_whose_gates_still_pass_stays_there() -> None:
    """A send back leaves the event in the stage it was sent to, even when that stage's gates still pass."""
    lc = start()
    prepare(lc)
    plan(lc)
    assert lc.record.stage == "promotion"
    result = lc.apply(SendBack(key=key(), actor=PM, to_stage="planning", reason="agenda must change"))
    assert result.stage == "planning"


def test_cancel_compensates_bookings_and_tells_everyone_holding_the_invitation() -> None:
    """Cancel emits a Compensate per on_cancel booking and sends a METHOD:CANCEL calendar update to every
    invited speaker (accepted, unanswered ``lee`` and declined ``max`` alike: each holds the entry) and to
    every attendee whose invitation went out (issue 17, item 7)."""
    lc = start()
    prepare(lc)
    invite_keynote(lc, "kim")
    invite_keynote(lc, "lee", accept=False)
    invite_keynote(lc, "max")
    lc.apply(SpeakerReply(key=key(), actor=PLANNER, speaker_id="max", response="declined"))
    invite(lc, "ann", "bob", "cid", "dee")
    lc.take_effects()
    result = lc.apply(Cancel(key="c-1", actor=SPONSOR, reason="sponsor withdrew"))
    effects = lc.take_effects()
    assert [e for e in effects if isinstance(e, Compensate)] == [
        Compensate("venue"), Compensate("lodging"), Compensate("catering"), Compensate("equipment_rental")]
    assert CONFERENCE.on_cancel == ["venue", "lodging", "catering", "equipment_rental"]
    assert guests(effects) == {"kim": "cancellation", "lee": "cancellation", "max": "cancellation"}
    speakers = [e for e in effects if isinstance(e, NotificationRequest) and e.recipient.role == "guest"]
    assert all(e.attach_ics and e.context["ics_method"] == "CANCEL" and e.context["ics_sequence"] == 1
               for e in speakers)
    assert {e.key for e in speakers} == {f"{lc.event.id}:calendar.1:{p}:email" for p in ("kim", "lee", "max")}
    assert [(n.kind, n.audience, n.cause, n.context["reason"], n.context["ics_method"], n.attach_ics)
            for n in effects if isinstance(n, RosterNotice)] == [
        ("cancellation", "invited", "calendar.1", "sponsor withdrew", "CANCEL", True)]
    assert all(e.context["reason"] == "sponsor withdrew" for e in effects if isinstance(e, NotificationRequest))
    team_roles = {e.recipient.role for e in effects
                  if isinstance(e, NotificationRequest) and e.recipient.role != "guest"}
    assert team_roles == CONFERENCE.role_ids()
    assert (result.stage, result.status, result.message) == ("cancelled", "cancelled", "cancelled: sponsor withdrew")
    assert (lc.record.stage, lc.record.status) == ("cancelled", "cancelled")
    assert lc.next_wakeup() is None
    assert lc.at(END).tick() == []
    assert lc.escalation() == (0, False)


def test_cancel_after_the_event_is_a_conflict() -> None:
    """Once the event has happened (post-event) it can no longer be cancelled, only closed."""
    lc = post_event()
    err = refusal(lc, Cancel(key=key(), actor=SPONSOR, reason="too late"))
    assert (err.kind, err.message) == ("conflict", "an event in post_event has already happened; it can only close")


def test_cancel_on_site_is_still_allowed() -> None:
    """An event can be called off on the day itself."""
    lc = on_site()
    result = lc.apply(Cancel(key=key(), actor=PM, reason="storm warning"))
    assert (result.stage, result.status) == ("cancelled", "cancelled")


def test_send_back_once_the_doors_open_is_a_conflict() -> None:
    """From on-site there is no going back to an earlier stage; the event stays where it is."""
    lc = on_site()
    err = refusal(lc, SendBack(key=key(), actor=PM, to_stage="promotion", reason="not ready"))
    assert err.kind == "conflict"
    assert err.message.startswith("cannot send back from on_site: the event is already under way")
    assert lc.record.stage == "on_site"


def test_board_meeting_cancel_releases_nothing() -> None:
    """A definition without on_cancel bookings emits no Compensate on cancel."""
    lc = Lifecycle.start(BOARD, conference(NOW, kind="board_meeting", team={}, owner="sec"), NOW)
    lc.apply(Cancel(key=key(), actor=Actor(id="sec", role="chair"), reason="quorum impossible"))
    assert lc.record.status == "cancelled"
    assert not [e for e in lc.take_effects() if isinstance(e, Compensate)]


def test_high_severity_incident_escalates_and_blocks_leaving_on_site() -> None:
    """A high incident notifies on-site command and the owner, and keeps the event on site until resolved."""
    lc = on_site()
    tasks(lc, VENUE, "set_up")
    tasks(lc, COMMAND, "staff_on_duty")
    lc.take_effects()
    lc.apply(ReportIncident(key=key(), actor=COMMAND, incident_id="inc-1", category="safety", severity="high",
                            summary="exit blocked"))
    roles = {e.recipient.role for e in lc.take_effects()
             if isinstance(e, NotificationRequest) and e.kind == "escalation"}
    assert roles == {"on_site_command", "project_manager"}
    lc.at(END).tick()
    assert lc.record.stage == "on_site"
    assert gate(lc, "incidents_closed").reasons == ["incident inc-1 is still open"]
    lc.apply(ResolveIncident(key=key(), actor=COMMAND, incident_id="inc-1"))
    assert lc.record.stage == "post_event"


# --- deadlines and time -------------------------------------------------------------------------


def test_next_wakeup_is_the_earliest_unfired_step() -> None:
    """A fresh conference first wakes at the budget reminder (start-63d), then at the budget deadline."""
    lc = booked()
    assert lc.next_wakeup() == START - 63 * DAY
    lc.at(START - 63 * DAY).tick()
    assert lc.next_wakeup() == START - 60 * DAY


def test_each_ladder_step_fires_once() -> None:
    """A step fires at its time, once: a second tick at the same time (or later) fires nothing new."""
    lc = booked()
    assert lc.at(START - 63 * DAY - timedelta(seconds=1)).tick() == []
    lc.take_effects()
    t = START - 63 * DAY
    assert lc.at(t).tick() == ["budget_approval[0]"]
    effects = lc.take_effects()
    told = {(e.recipient.role, e.channel) for e in effects if isinstance(e, NotificationRequest)}
    assert told == {(r, c) for r in ("project_manager", "finance_approver") for c in ("email", "log")}
    assert all(e.kind == "reminder" for e in effects if isinstance(e, NotificationRequest))
    assert lc.at(t).tick() == []
    assert lc.at(t + DAY).tick() == []
    assert lc.take_effects() == []
    remind = lc.record.audit[-1]
    assert (remind.act, remind.actor) == ("remind", SYSTEM)
    assert remind.summary == (f"Budget approved: reminder step 1 (due {(START - 60 * DAY).isoformat()}), "
                              "told project_manager, finance_approver")
    assert [f.step for f in lc.record.fired] == [0]


def test_late_tick_fires_every_overdue_step_in_order() -> None:
    """A tick long after a deadline fires all its due steps at once, in ladder order."""
    lc = booked()
    fired = lc.at(START - 58 * DAY).tick()
    assert fired == ["budget_approval[0]", "budget_approval[1]", "budget_approval[2]"]
    assert [a.act for a in lc.record.audit][-3:] == ["remind", "escalate", "escalate"]


def test_escalation_level_and_at_risk_follow_the_fired_steps() -> None:
    """A reminder leaves the event on track; the deadline step marks level 1 at risk; two days later level 2."""
    lc = booked()
    lc.at(START - 63 * DAY).tick()
    view = lc.view()
    assert (view.escalation_level, view.at_risk) == (0, False)
    assert deadline(lc, "budget_approval").status == "pending"
    lc.at(START - 60 * DAY).tick()
    view = lc.view()
    assert (view.escalation_level, view.at_risk) == (1, True)
    dv = deadline(lc, "budget_approval")
    assert dv.status == "missed"
    assert [s.fired for s in dv.steps] == [True, True, False]
    assert dv.next_step is not None and dv.next_step.at == START - 58 * DAY
    lc.at(START - 58 * DAY).tick()
    assert lc.escalation() == (2, True)


def test_meeting_the_deadline_stops_later_steps_and_clears_the_level() -> None:
    """Approving the budget after its deadline step clears the escalation and the remaining step never fires."""
    lc = booked()
    lc.at(START - 60 * DAY).tick()
    assert lc.escalation() == (1, True)
    lc.at(START - 59 * DAY)
    prepare(lc)
    assert lc.escalation() == (0, False)
    assert deadline(lc, "budget_approval").status == "met"
    assert deadline(lc, "budget_approval").next_step is None
    assert "budget_approval[2]" not in lc.at(START - 58 * DAY).tick()
    assert not any(f.deadline == "budget_approval" and f.step == 2 for f in lc.record.fired)
    assert lc.next_wakeup() == START - 48 * DAY  # the speakers reminder is next


def test_postpone_rearms_steps_still_ahead_and_keeps_those_already_past() -> None:
    """After postponing by 2 days, a fired step whose new time passed stays fired; one now ahead fires again later."""
    lc = booked()
    t = START - 60 * DAY
    lc.at(t).tick()  # budget steps 0 and 1 fired
    assert lc.escalation() == (1, True)
    lc.take_effects()
    result = lc.apply(Postpone(key=key(), actor=PM, new_start=START + 2 * DAY, new_end=END + 2 * DAY))
    assert result.message == f"postponed from {START.isoformat()} to {(START + 2 * DAY).isoformat()}"
    assert lc.event.start == START + 2 * DAY and lc.event.end == END + 2 * DAY
    dv = deadline(lc, "budget_approval")
    assert dv.at == t + 2 * DAY
    assert [s.fired for s in dv.steps] == [True, False, False]  # step 0 now at t-1d: past; step 1 at t+2d: ahead
    assert dv.status == "pending"
    assert lc.escalation() == (0, False)
    assert lc.next_wakeup() == t + 2 * DAY
    assert [e.kind for e in lc.take_effects() if isinstance(e, NotificationRequest)] == ["reminder", "reminder"]
    assert lc.at(t + DAY).tick() == []  # the reminder does not fire twice
    assert lc.at(t + 2 * DAY).tick() == ["budget_approval[1]"]
    assert lc.escalation() == (1, True)


def test_attendee_reminder_deadline_sends_reminders_and_completes_the_task() -> None:
    """At start-7d the reminders ladder sends a reminder to every attendee not rsvp=no and to every speaker on board,
    and marks reminders_sent done (the task says "attendees and speakers")."""
    lc = start()
    prepare(lc)
    plan(lc)
    lc.take_effects()
    fired = lc.at(START - 7 * DAY).tick()
    assert "attendee_reminders[0]" in fired
    effects = lc.take_effects()
    assert guests(effects) == {"kim": "reminder"}
    [kim] = [e for e in effects if isinstance(e, NotificationRequest) and e.recipient.person_id == "kim"]
    assert (kim.key, kim.context["audience"]) == ("conf-1:attendee_reminders.auto-reminder.speakers:kim:email",
                                                  "speaker")
    assert [(n.kind, n.audience, n.cause) for n in effects if isinstance(n, RosterNotice)] == [
        ("reminder", "not_declined", "attendee_reminders.auto-reminder")]
    assert lc.record.tasks["reminders_sent"].by == SYSTEM
    assert lc.record.audit[-1].summary == ("reminders sent to every attendee who has not declined, "
                                           "and to 1 speaker(s) on board")


def test_runs_recorded_before_speaker_reminders_remind_attendees_only() -> None:
    """A run recorded before patched("speaker-reminders") emits the commands it emitted then: attendees only."""
    lc = start()
    lc.speaker_reminders = False
    prepare(lc)
    plan(lc)
    lc.take_effects()
    lc.at(START - 7 * DAY).tick()
    assert guests(lc.take_effects()) == {}
    assert lc.record.audit[-1].summary == "reminders sent to every attendee who has not declined"


def test_memory_roster_attendee_reminder_skips_those_who_declined() -> None:
    """Events recorded before the roster database remind every attendee in the record but those rsvp=no."""
    lc = start(roster="memory")
    prepare(lc)
    plan(lc)
    lc.apply(Rsvp(key=key(), actor=PR, attendee_id="bob", response="no"))
    lc.take_effects()
    lc.at(START - 7 * DAY).tick()
    assert guests(lc.take_effects()) == {"ann": "reminder", "kim": "reminder"}
    assert lc.record.audit[-1].summary == "reminders sent to 1 attendee(s), and to 1 speaker(s) on board"


def test_on_site_wakes_at_the_end_and_advances_by_tick() -> None:
    """On site, next_wakeup is the event's end; a tick at the end moves the event to post-event."""
    lc = on_site()
    tasks(lc, VENUE, "set_up")
    tasks(lc, COMMAND, "staff_on_duty")
    assert lc.next_wakeup() == END
    assert gate(lc, "event_over").reasons == [f"the event ends at {END.isoformat()}"]
    lc.at(END - timedelta(seconds=1)).tick()
    assert lc.record.stage == "on_site"
    lc.at(END).tick()
    assert lc.record.stage == "post_event"
    assert lc.record.stages_entered["post_event"] == END
    assert lc.record.audit[-1].summary == "on_site -> post_event"


def test_activity_tasks_run_on_entering_and_at_their_run_at_once_each() -> None:
    """send_thanks runs on entering post-event; archive at end+5d; evaluation at end+14d; each exactly once."""
    lc = on_site()
    tasks(lc, VENUE, "set_up")
    tasks(lc, COMMAND, "staff_on_duty")
    lc.take_effects()
    lc.at(END).tick()

    def runs() -> list[RunActivity]:
        return [e for e in lc.take_effects() if isinstance(e, RunActivity)]

    assert runs() == [RunActivity("thanks_sent", "send_thanks")]
    assert lc.next_wakeup() == END + 4 * DAY  # the archive reminder comes before the archive run
    lc.at(END + 5 * DAY - timedelta(seconds=1)).tick()
    assert runs() == []
    lc.at(END + 5 * DAY).tick()
    assert runs() == [RunActivity("archive_written", "archive")]
    lc.at(END + 5 * DAY).tick()
    lc.at(END + 10 * DAY).tick()
    assert runs() == []
    lc.at(END + 14 * DAY).tick()
    assert runs() == [RunActivity("evaluation_report", "evaluation_report")]
    lc.at(END + 20 * DAY).tick()
    assert runs() == []
    assert lc.record.started_activities == ["thanks_sent", "archive_written", "evaluation_report"]


def test_activity_failure_marks_at_risk_and_success_completes_the_task() -> None:
    """A failed activity puts the event at risk and tells the owner; a later success completes the task."""
    lc = post_event()
    lc.take_effects()
    lc.at(END + DAY).activity_finished("thanks_sent", ok=False, detail="smtp down")
    view = lc.view()
    assert (view.escalation_level, view.at_risk) == (1, True)
    assert "thanks_sent" not in lc.record.tasks
    assert lc.record.audit[-1].summary == "thanks_sent failed: smtp down"
    told = [e for e in lc.take_effects() if isinstance(e, NotificationRequest)]
    assert {(e.kind, e.recipient.role) for e in told} == {("escalation", "project_manager")}
    lc.at(END + 2 * DAY).activity_finished("thanks_sent", ok=True, detail="3 sent")
    done = lc.record.tasks["thanks_sent"]
    assert (done.by, done.note, done.done_at) == (SYSTEM, "3 sent", END + 2 * DAY)
    assert lc.escalation() == (0, False)
    assert next(t for t in lc.view().tasks if t.id == "thanks_sent").done is True


def test_the_last_activity_and_lessons_close_the_event() -> None:
    """With every post-event task done (activities by the engine, lessons by hand) the event closes."""
    lc = post_event()
    lc.at(END + 5 * DAY).tick()
    lc.at(END + 14 * DAY).tick()
    for task_id in ("thanks_sent", "archive_written"):
        lc.activity_finished(task_id, ok=True, detail="ok")
    tasks(lc, PM, "lessons_recorded")
    assert lc.record.stage == "post_event"
    lc.activity_finished("evaluation_report", ok=True, detail="ok")
    assert (lc.record.stage, lc.record.status) == (CLOSED, "closed")
    assert lc.record.audit[-1].summary == "all stages done; event closed"
    assert lc.next_wakeup() is None
    # every deadline met, but the police and fire one, which a conference of 300 is not asked for
    assert {d.id: d.status for d in lc.view().deadlines if d.status != "met"} == {"authorities": "void"}


def test_survey_reminder_asks_the_roster_for_attendees_who_came_and_have_not_answered() -> None:
    """Four days before the survey closes, the roster is asked to remind attendees who came and have not
    answered (RosterNotice survey_pending), once."""
    lc = post_event()
    lc.take_effects()
    assert "survey_close[0]" in lc.at(END + 10 * DAY).tick()
    notices = [n for n in lc.take_effects() if isinstance(n, RosterNotice)]
    assert [(n.kind, n.audience, n.context.get("survey")) for n in notices] == [("reminder", "survey_pending", True)]
    assert lc.at(END + 10 * DAY + timedelta(hours=1)).tick() == []
    assert not [n for n in lc.take_effects() if isinstance(n, RosterNotice)]


def test_memory_roster_survey_reminder_goes_to_attendees_who_came_and_have_not_answered() -> None:
    """Events recorded before the roster database: checked-in attendees without a response are reminded, once."""
    lc = on_site(start(roster="memory"))
    lc.apply(CheckIn(key=key(), actor=PR, attendee_id="ann"))
    lc.apply(CheckIn(key=key(), actor=PR, attendee_id="bob"))
    tasks(lc, VENUE, "set_up")
    tasks(lc, COMMAND, "staff_on_duty")
    lc.at(END).tick()
    lc.apply(RecordSurvey(key=key(), actor=PR, responses=[
        SurveyResponse(respondent="ann", content=5, organisation=4, service=4)]))
    lc.take_effects()
    fired = lc.at(END + 10 * DAY).tick()
    assert "survey_close[0]" in fired
    reminded = [e.recipient.person_id for e in lc.take_effects()
                if isinstance(e, NotificationRequest) and "survey-reminder" in e.key]
    assert reminded == ["bob"]
    assert lc.at(END + 10 * DAY + timedelta(hours=1)).tick() == []


# --- issue 17, items 8 and 9: postponing --------------------------------------------------------------------


def test_postpone_once_the_doors_have_opened_is_a_conflict() -> None:
    """Item 9: on day 2 of the running event (on site) a postponement is refused as a conflict, as in
    post-event; nothing moves."""
    lc = on_site()
    lc.at(START + DAY)  # day 2 of the event
    act = Postpone(key=key(), actor=PM, new_start=START + 30 * DAY, new_end=END + 30 * DAY)
    err = refusal(lc, act)
    assert (err.kind, err.message) == (
        "conflict", "the doors have opened (the event is in on_site); it can no longer be postponed")
    assert lc.event.start == START
    with pytest.raises(ActRefused):
        lc.apply(act)
    assert lc.event.start == START and lc.event.end == END


def test_postpone_in_post_event_is_a_conflict_and_the_archive_does_not_move() -> None:
    """Item 9, another stage: in post-event the archive and survey deadlines stay where they are."""
    lc = post_event()
    archive_before = deadline(lc, "archive").at
    err = refusal(lc.at(END + DAY), Postpone(key=key(), actor=PM, new_start=END + 30 * DAY, new_end=END + 32 * DAY))
    assert (err.kind, err.message) == (
        "conflict", "the doors have opened (the event is in post_event); it can no longer be postponed")
    assert deadline(lc, "archive").at == archive_before == END + 7 * DAY


def test_postpone_before_the_doors_open_is_still_accepted() -> None:
    """In promotion, the day before the start, a postponement is accepted."""
    lc = start()
    prepare(lc)
    plan(lc)
    assert lc.record.stage == "promotion"
    result = lc.at(START - DAY).apply(Postpone(key=key(), actor=PM, new_start=START + 30 * DAY,
                                               new_end=END + 30 * DAY))
    assert result.status == "active" and lc.event.start == START + 30 * DAY


def test_the_attendee_reminder_fires_again_before_a_postponed_date() -> None:
    """Item 8: the start-7d reminder fired; postponing by 30 days re-arms it: pending, due at the new start-7d,
    fired there again as a new message (its own cause), and then met."""
    lc = start()
    prepare(lc)
    plan(lc)
    lc.take_effects()
    assert "attendee_reminders[0]" in lc.at(START - 7 * DAY).tick()
    first = [n.cause for n in lc.take_effects() if isinstance(n, RosterNotice)]
    assert first == ["attendee_reminders.auto-reminder"] and deadline(lc, "attendee_reminders").status == "met"

    lc.at(START - 6 * DAY).apply(Postpone(key=key(), actor=PM, new_start=START + 30 * DAY, new_end=END + 30 * DAY))
    dv = deadline(lc, "attendee_reminders")
    assert (dv.status, dv.at, [s.fired for s in dv.steps]) == ("pending", START + 23 * DAY, [False])
    assert "reminders_sent" not in lc.record.tasks
    lc.take_effects()
    assert "attendee_reminders[0]" not in lc.at(START + 22 * DAY).tick()
    assert "attendee_reminders[0]" in lc.at(START + 23 * DAY).tick()
    again = [(n.kind, n.audience, n.cause) for n in lc.take_effects() if isinstance(n, RosterNotice)]
    assert again == [("reminder", "not_declined",
                      f"attendee_reminders.auto-reminder.{(START + 23 * DAY).isoformat()}")]
    assert deadline(lc, "attendee_reminders").status == "met" and lc.record.tasks["reminders_sent"].by == SYSTEM
    assert lc.at(START + 24 * DAY).tick().count("attendee_reminders[0]") == 0  # once per date


def test_a_reminder_sent_by_hand_is_not_undone_by_a_postponement_and_memory_rosters_are_told_again() -> None:
    """Another kind: with the roster in memory the re-fired reminder reaches each attendee under a new key;
    a reminders_sent task marked done by a person stays done (the engine reopens only its own)."""
    lc = start(roster="memory")
    prepare(lc)
    plan(lc)
    lc.take_effects()
    lc.at(START - 7 * DAY).tick()
    keys_before = {n.key for n in lc.take_effects() if isinstance(n, NotificationRequest) and n.kind == "reminder"
                   and n.recipient.person_id in ("ann", "bob")}
    assert len(keys_before) >= 2
    lc.at(START - 6 * DAY).apply(Postpone(key=key(), actor=PM, new_start=START + 30 * DAY, new_end=END + 30 * DAY))
    lc.take_effects()
    assert "attendee_reminders[0]" in lc.at(START + 23 * DAY).tick()
    keys_after = {n.key for n in lc.take_effects() if isinstance(n, NotificationRequest) and n.kind == "reminder"
                  and n.recipient.person_id in ("ann", "bob")}
    assert len(keys_after) == len(keys_before) and not keys_after & keys_before

    by_hand = start()
    prepare(by_hand)
    plan(by_hand)
    tasks(by_hand, PR, "reminders_sent")
    by_hand.at(START - DAY).apply(Postpone(key=key(), actor=PM, new_start=START + 30 * DAY, new_end=END + 30 * DAY))
    assert by_hand.record.tasks["reminders_sent"].by != SYSTEM
    assert deadline(by_hand, "attendee_reminders").status == "met"


def test_runs_recorded_before_the_rearm_keep_the_old_behaviour() -> None:
    """The workflow sets ``rearm_own_steps`` from ``patched()``: False (a history recorded before the change)
    leaves the reminder's task done, as those runs did, so their histories replay."""
    lc = start()
    lc.rearm_own_steps = False
    prepare(lc)
    plan(lc)
    lc.at(START - 7 * DAY).tick()
    lc.at(START - 6 * DAY).apply(Postpone(key=key(), actor=PM, new_start=START + 30 * DAY, new_end=END + 30 * DAY))
    assert deadline(lc, "attendee_reminders").status == "met" and "reminders_sent" in lc.record.tasks


# --- issue 17, items 6-7: everyone holding the invitation is told when it changes ----------------------------


def calendar_updates(effects: list) -> list[tuple[str, str, str | None, int, str]]:
    """(kind, who, method, sequence, cause) of each calendar update: people by id, the roster as ``roster:<audience>``."""
    out = []
    for e in effects:
        if isinstance(e, (NotificationRequest, RosterNotice)) and e.attach_ics and "ics_sequence" in e.context:
            who = e.recipient.person_id if isinstance(e, NotificationRequest) else f"roster:{e.audience}"
            out.append((e.kind, who, e.context["ics_method"], e.context["ics_sequence"], e.cause
                        if isinstance(e, RosterNotice) else e.key.split(":")[1]))
    return sorted(out, key=lambda t: (t[3], str(t[1])))


def test_postponing_sends_every_invitation_holder_the_new_date_with_the_next_sequence() -> None:
    """Item 6: a postponement in promotion tells the accepted keynote, the speaker who never answered and every
    attendee whose invitation went out (the roster's ``invited``), each with an .ics of the new dates
    (REQUEST, SEQUENCE 1); a second postponement is SEQUENCE 2 under its own key, so it is a new message."""
    lc = start()
    prepare(lc)
    invite_keynote(lc, "kim")
    invite_keynote(lc, "lee", accept=False)
    lc.take_effects()
    lc.apply(Postpone(key="p-1", actor=PM, new_start=START + 30 * DAY, new_end=END + 30 * DAY))
    first = lc.take_effects()
    assert calendar_updates(first) == [
        ("postponement", "kim", "REQUEST", 1, "calendar.1"), ("postponement", "lee", "REQUEST", 1, "calendar.1"),
        ("postponement", "roster:invited", "REQUEST", 1, "calendar.1")]
    updated = [e for e in first if isinstance(e, NotificationRequest) and e.kind == "postponement"]
    assert {e.context["start"] for e in updated} == {(START + 30 * DAY).isoformat()}
    assert {e.context["postponed_from"] for e in updated} == {START.isoformat()}
    assert lc.record.calendar_sequence == 1

    lc.apply(Postpone(key="p-2", actor=PM, new_start=START + 40 * DAY, new_end=END + 40 * DAY))
    second = lc.take_effects()
    assert [t[3] for t in calendar_updates(second)] == [2, 2, 2]
    keys = {e.key for e in first + second if isinstance(e, NotificationRequest) and e.recipient.person_id == "lee"}
    assert keys == {f"{lc.event.id}:calendar.1:lee:email", f"{lc.event.id}:calendar.2:lee:email"}

    lc.apply(Cancel(key="c-1", actor=SPONSOR, reason="venue flooded"))
    assert [(t[2], t[3]) for t in calendar_updates(lc.take_effects())] == [("CANCEL", 3)] * 3


def test_an_automatic_postponement_updates_calendars_too_and_memory_rosters_name_each_attendee() -> None:
    """Another path and another roster: a ladder's ``postpone`` step on a roster kept in the workflow (events
    recorded before the roster database) sends the update to each attendee by name."""
    data = CONFERENCE.model_dump()
    data["deadlines"][0]["ladder"].append({"offset_days": 3, "action": "postpone", "postpone_days": 14})
    definition = type(CONFERENCE).model_validate(data)  # budget approval: 3 days late, postpone by 14 days
    lc = Lifecycle.start(definition, conference(NOW, timezone="UTC"), NOW, definition_hash(definition),
                         roster="memory")
    prepare_tasks(lc)  # the budget is never approved
    invite_keynote(lc, "kim")
    invite(lc, "ann", "bob")
    lc.take_effects()
    assert any(f.startswith("budget_approval") for f in lc.at(START - 57 * DAY).tick())
    assert lc.event.start == START + 14 * DAY
    assert calendar_updates(lc.take_effects()) == [
        ("postponement", "ann", "REQUEST", 1, "calendar.1"), ("postponement", "bob", "REQUEST", 1, "calendar.1"),
        ("postponement", "kim", "REQUEST", 1, "calendar.1")]


def test_runs_recorded_before_calendar_updates_keep_their_notices() -> None:
    """``calendar_updates`` is False for histories recorded before the change: the owner alone hears of a
    postponement, and a cancellation is the old text notice to those who had not declined."""
    lc = start()
    lc.calendar_updates = False
    prepare(lc)
    invite_keynote(lc, "kim")
    invite_keynote(lc, "lee", accept=False)
    lc.take_effects()
    lc.apply(Postpone(key="p-1", actor=PM, new_start=START + 30 * DAY, new_end=END + 30 * DAY))
    assert calendar_updates(lc.take_effects()) == [] and lc.record.calendar_sequence == 0
    lc.apply(Cancel(key="c-1", actor=SPONSOR, reason="sponsor withdrew"))
    effects = lc.take_effects()
    assert guests(effects) == {"kim": "cancellation"}
    assert [(n.audience, n.cause) for n in effects if isinstance(n, RosterNotice)] == [("not_declined", "cancel")]


# --- issue 17, the kind: calendar arithmetic moves by calendar days in the event's zone ------------------------

PARIS_MONDAY = datetime(2030, 4, 1, 7, 0, tzinfo=timezone.utc)  # 09:00 CEST, the day after the spring clock change


def zoned(zone: str, start: datetime = PARIS_MONDAY, now: datetime = NOW) -> Lifecycle:
    lc = Lifecycle.start(CONFERENCE, conference(now, timezone=zone, start=start, end=start + 2 * DAY), now,
                         definition_hash(CONFERENCE))
    lc.take_effects()
    return lc


@pytest.mark.parametrize(("moment", "days", "hours", "zone", "expected"), [
    # start - 7 days of a 09:00 Paris event on the Monday after the spring change: 09:00 CET the Monday before
    (PARIS_MONDAY, -7, 0, "Europe/Paris", datetime(2030, 3, 25, 8, 0, tzinfo=timezone.utc)),
    # New York's autumn change (3 Nov 2030): 09:00 EST on the 10th, 8 days back is 09:00 EDT
    (datetime(2030, 11, 10, 14, 0, tzinfo=timezone.utc), -8, 0, "America/New_York",
     datetime(2030, 11, 2, 13, 0, tzinfo=timezone.utc)),
    # forward across the autumn change: 09:00 EDT + 30 days is 09:00 EST
    (datetime(2030, 10, 20, 13, 0, tzinfo=timezone.utc), 30, 0, "America/New_York",
     datetime(2030, 11, 19, 14, 0, tzinfo=timezone.utc)),
    # a zone without clock changes counts as 24-hour days
    (datetime(2030, 4, 1, 1, 0, tzinfo=timezone.utc), -7, 0, "Asia/Shanghai",
     datetime(2030, 3, 25, 1, 0, tzinfo=timezone.utc)),
    # 02:30 on the day of the spring gap does not exist: read with the offset before it (RFC 5545 3.3.5)
    (datetime(2030, 4, 1, 0, 30, tzinfo=timezone.utc), -1, 0, "Europe/Paris",
     datetime(2030, 3, 31, 1, 30, tzinfo=timezone.utc)),
    # hours and fractions of a day (the time-lapse demo) are elapsed time
    (PARIS_MONDAY, -7.5, -2, "Europe/Paris", datetime(2030, 3, 24, 18, 0, tzinfo=timezone.utc)),
])
def test_whole_days_are_calendar_days_in_the_event_zone(moment: datetime, days: float, hours: float, zone: str,
                                                         expected: datetime) -> None:
    from definitions.schema import calendar_plus

    assert calendar_plus(moment, days, hours, zone) == expected


def test_the_attendee_reminder_keeps_its_wall_clock_time_across_the_spring_change() -> None:
    """A Paris conference at 09:00 on 1 April 2030: its start - 7 days reminder is due 09:00 Paris on 25 March
    (08:00Z, winter time), not 10:00; it does not fire at 07:59Z and fires at 08:00Z. The invitations gate
    (a month ahead) and the simulated timeline count the same way."""
    lc = zoned("Europe/Paris")
    reminder = datetime(2030, 3, 25, 8, 0, tzinfo=timezone.utc)
    assert deadline(lc, "attendee_reminders").at == reminder
    assert "attendee_reminders[0]" not in lc.at(reminder - timedelta(minutes=1)).tick()
    assert "attendee_reminders[0]" in lc.at(reminder).tick()

    from workflows.timeline import simulate
    simulated = {e.deadline: e.at for e in simulate(CONFERENCE, PARIS_MONDAY, PARIS_MONDAY + 2 * DAY,
                                                    zone="Europe/Paris")}
    assert simulated["attendee_reminders"] == reminder
    assert deadline(lc, "invitations").at == datetime(2030, 3, 2, 8, 0, tzinfo=timezone.utc)  # 09:00 CET


def test_runs_recorded_before_count_24_hour_days() -> None:
    """``zone_days`` is False for histories recorded before the change (patched("calendar-updates")): their
    steps stay where they were (07:00Z), so a step that fired there is not fired again."""
    lc = zoned("Europe/Paris")
    lc.zone_days = False
    assert deadline(lc, "attendee_reminders").at == PARIS_MONDAY - 7 * DAY


def test_a_ladder_postponement_moves_by_calendar_days_in_the_zone() -> None:
    """An automatic postponement of 14 days from 09:00 Paris on 25 March (CET) lands on 09:00 Paris on 8 April
    (CEST): 07:00Z, not 08:00Z."""
    data = CONFERENCE.model_dump()
    data["deadlines"][0]["ladder"].append({"offset_days": 3, "action": "postpone", "postpone_days": 14})
    definition = type(CONFERENCE).model_validate(data)
    start_ = datetime(2030, 3, 25, 8, 0, tzinfo=timezone.utc)
    lc = Lifecycle.start(definition, conference(NOW, timezone="Europe/Paris", start=start_, end=start_ + 2 * DAY),
                         NOW, definition_hash(definition))
    lc.take_effects()
    lc.at(start_ - 50 * DAY).tick()
    assert lc.event.start == datetime(2030, 4, 8, 7, 0, tzinfo=timezone.utc)
    assert lc.event.end == datetime(2030, 4, 10, 7, 0, tzinfo=timezone.utc)
def test_a_remembered_refusal_is_given_again_and_survives_continue_as_new():
    """A refused key kept by remember_refusal is refused again with its reason (also in a new run built from the
    carried record, as continue-as-new builds it), another act under it is a conflict, and only the newest
    REFUSALS_KEPT keys are kept."""
    from workflows.lifecycle import REFUSALS_KEPT
    from workflows.messages import EventRecord

    lc = start()
    approve = Decide(key="K", actor=APPROVER, gate="budget_approved", decision="approve")
    with pytest.raises(ActRefused) as first:
        lc.at(NOW).apply(approve)
    lc.remember_refusal(approve, first.value)
    record = EventRecord.model_validate_json(lc.record.model_dump_json())  # what the next run is given
    again = Lifecycle(CONFERENCE, lc.event, record, definition_hash(CONFERENCE)).at(NOW)
    with pytest.raises(ActRefused) as second:
        again.check(approve)
    assert (second.value.kind, second.value.message) == (first.value.kind, first.value.message)
    with pytest.raises(ActRefused, match="already used for a different act"):
        again.check(approve.model_copy(update={"reason": "another"}))
    for n in range(REFUSALS_KEPT):
        act = Decide(key=f"k{n}", actor=APPROVER, gate="budget_approved", decision="approve")
        again.remember_refusal(act, first.value)
    assert len(again.record.refused) == REFUSALS_KEPT and "K" not in again.record.refused
