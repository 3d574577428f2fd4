"""Pure unit tests of the deadline timeline (workflows/timeline.py): simulate, as_table, as_gantt."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from definitions import Deadline, shipped
from definitions.schema import LadderStep, MetWhen, Offset
from tests.support import conference
from workflows.lifecycle import Lifecycle
from workflows.timeline import TimelineEntry, as_gantt, as_table, simulate

KINDS = ["conference", "board_meeting", "product_launch"]
START = datetime(2030, 5, 1, 9, 0, tzinfo=timezone.utc)
END = START + timedelta(days=2)
DAY = timedelta(days=1)


def _far(entry: TimelineEntry) -> datetime:
    return entry.at or datetime.max.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("kind", KINDS)
def test_simulate_lists_every_step_in_time_order(kind: str) -> None:
    """simulate gives one entry per ladder step of every deadline, sorted by time."""
    d = shipped().get(kind)
    entries = simulate(d, START, END)
    assert len(entries) == sum(len(dl.ladder) or 1 for dl in d.deadlines)
    times = [_far(e) for e in entries]
    assert times == sorted(times)
    assert {e.deadline for e in entries} == {dl.id for dl in d.deadlines}
    assert all(e.at is not None for e in entries)  # every shipped deadline is anchored to start or end


@pytest.mark.parametrize("kind", KINDS)
def test_simulate_agrees_with_the_running_lifecycle(kind: str) -> None:
    """The simulated step times are exactly those a started event of the same dates shows in its deadline views."""
    d = shipped().get(kind)
    now = START - 120 * DAY
    lc = Lifecycle.start(d, conference(now, kind=kind, start=START, end=END), now)
    running = sorted((s.at, dv.id) for dv in lc.view().deadlines for s in dv.steps)
    assert [(e.at, e.deadline) for e in simulate(d, START, END, zone="Europe/Paris")] == running


def test_conference_budget_reminder_is_sixty_three_days_before_start() -> None:
    """The conference's first budget entry is the reminder at start-63d, to the owner and the finance approver
    (the venue booking's reminder, start-72d, comes before it)."""
    entries = simulate(shipped().get("conference"), START, END)
    assert (entries[0].deadline, entries[0].at) == ("venue_booking", START - 72 * DAY)
    first = next(e for e in entries if e.deadline == "budget_approval")
    assert first.at == START - 63 * DAY
    assert (first.deadline, first.title, first.what) == ("budget_approval", "Budget approved", "reminder 1/3")
    assert first.relative == "start-60d - 3d"
    assert first.notify == ["project_manager", "finance_approver"]
    assert (first.level, first.at_risk, first.action) == (0, False, None)
    due = next(e for e in entries if e.deadline == "budget_approval" and e.what == "escalation 2/3")
    assert (due.at, due.relative, due.level, due.at_risk) == (START - 60 * DAY, "start-60d", 1, True)


def test_conference_attendee_reminder_carries_its_action() -> None:
    """The attendee reminder step at start-7d names its automatic action."""
    entries = simulate(shipped().get("conference"), START, END)
    step = next(e for e in entries if e.deadline == "attendee_reminders")
    assert (step.at, step.what, step.action) == (START - 7 * DAY, "reminder 1/1", "send_attendee_reminder")


def test_end_defaults_to_one_day_after_start() -> None:
    """Without an end, end-anchored steps are computed from start+1d."""
    entries = simulate(shipped().get("conference"), START)
    archive = [e for e in entries if e.deadline == "archive"]
    assert [e.at for e in archive] == [START + DAY + 4 * DAY, START + DAY + 7 * DAY, START + DAY + 9 * DAY]
    assert archive[0].relative == "end+7d - 3d"


def test_board_meeting_timeline_has_no_promotion_steps() -> None:
    """The board meeting timeline opens with the budget reminder at start-33d and ends with the archive escalation."""
    entries = simulate(shipped().get("board_meeting"), START, END)
    assert (entries[0].deadline, entries[0].at) == ("budget_approval", START - 33 * DAY)
    assert (entries[-1].deadline, entries[-1].at) == ("minutes_archive", END + 9 * DAY)
    assert len(entries) == 20


def test_stage_anchored_and_ladderless_deadlines() -> None:
    """A deadline anchored to entering a stage has no time and sorts last; one without a ladder gives one entry."""
    d = shipped().get("conference")
    extra = [
        Deadline(id="debrief", title="Debrief: held", at=Offset(anchor="stage_entered", stage="post_event", days=2),
                 met_when=MetWhen(task="lessons_recorded"), ladder=[LadderStep(notify=["project_manager"])]),
        Deadline(id="plain", title="Plain", at=Offset(anchor="start", days=-10),
                 met_when=MetWhen(task="materials_ready")),
    ]
    d = d.model_copy(update={"deadlines": [*d.deadlines, *extra]})
    entries = simulate(d, START, END)
    last = entries[-1]
    assert (last.deadline, last.at, last.relative, last.what) == (
        "debrief", None, "entering post_event+2d", "escalation 1/1")
    plain = next(e for e in entries if e.deadline == "plain")
    assert (plain.at, plain.what, plain.notify, plain.relative) == (START - 10 * DAY, "deadline", [], "start-10d")
    table = as_table(entries).splitlines()
    assert table[-1].startswith("-  ")
    gantt = as_gantt(d, entries)
    assert "debrief" not in gantt.lower()
    assert "    section Plain" in gantt


def test_simulate_in_a_local_time_zone_keeps_wall_clock_times() -> None:
    """A start in a zone west of UTC sorts stage-anchored entries last without overflow and keeps the zone."""
    tz = ZoneInfo("America/New_York")
    start = datetime(2030, 5, 1, 9, 0, tzinfo=tz)
    d = shipped().get("conference")
    d = d.model_copy(update={"deadlines": [*d.deadlines, Deadline(
        id="late", title="Late", at=Offset(anchor="stage_entered", stage="planning"),
        met_when=MetWhen(task="agenda_final"), ladder=[LadderStep()])]})
    entries = simulate(d, start)
    assert entries[0].at == start - 72 * DAY  # the venue booking's reminder
    assert entries[0].at.tzinfo is tz
    assert entries[-1].deadline == "late"


@pytest.mark.parametrize("kind", KINDS)
def test_table_has_a_header_row_and_one_row_per_entry(kind: str) -> None:
    """as_table prints a header, a dashed rule, then one row per entry."""
    entries = simulate(shipped().get(kind), START, END)
    lines = as_table(entries).splitlines()
    assert lines[0].split() == ["when", "relative", "deadline", "step", "who", "is", "told", "level", "action"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == len(entries) + 2
    assert lines[2].startswith(entries[0].at.strftime("%Y-%m-%d %H:%M"))


def test_table_rows_show_risk_and_action() -> None:
    """A row shows who is told, the level with ' at risk' when set, and the action."""
    lines = as_table(simulate(shipped().get("conference"), START, END)).splitlines()
    budget = [line for line in lines if "Budget approved" in line]
    assert budget[0].split("  ")[0] == "2030-02-27 09:00"
    assert "project_manager, finance_approver" in budget[0]
    assert "1 at risk" in budget[1]
    reminder = next(line for line in lines if "Reminders to attendees" in line)
    assert reminder.endswith("send_attendee_reminder")


@pytest.mark.parametrize("kind", KINDS)
def test_gantt_has_a_section_per_deadline(kind: str) -> None:
    """as_gantt draws one section per deadline title and one milestone per step, critical when at risk."""
    d = shipped().get(kind)
    entries = simulate(d, START, END)
    gantt = as_gantt(d, entries)
    lines = gantt.splitlines()
    assert lines[:4] == ["gantt", f"    title {d.title}: deadlines and escalations", "    dateFormat YYYY-MM-DD",
                         "    axisFormat %d %b"]
    sections = [line for line in lines if line.startswith("    section ")]
    assert sorted(sections) == sorted(f"    section {dl.title.replace(':', ' ')}" for dl in d.deadlines)
    milestones = [line for line in lines if ":" in line and "milestone" in line]
    assert len(milestones) == len(entries)
    assert sum(":crit, milestone" in line for line in milestones) == sum(e.at_risk for e in entries)


def test_conference_gantt_has_the_budget_section() -> None:
    """The conference gantt has the budget section with its reminder milestone on start-63d."""
    d = shipped().get("conference")
    lines = as_gantt(d, simulate(d, START, END)).splitlines()
    at = lines.index("    section Budget approved")
    lines = lines[at - 4:]
    assert lines[5] == ("    reminder 1/3 to project_manager, finance_approver :milestone, budget_approval0, "
                        "2030-02-27, 0d")
    assert lines[6] == ("    escalation 2/3 to project_manager, sponsor :crit, milestone, budget_approval1, "
                        "2030-03-02, 0d")
