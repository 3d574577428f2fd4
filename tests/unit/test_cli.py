"""The `convene` CLI's server-free commands: definitions list, check, diagram, simulate, schema."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from console.cli import app
from definitions import json_schema, shipped

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_list_names_every_kind_and_its_path():
    """`definitions list` shows each shipped kind with its stages in order."""
    result = runner.invoke(app, ["definitions", "list"])
    assert result.exit_code == 0
    assert "conference" in result.output and "preparation -> planning -> promotion -> on_site -> post_event" in result.output
    assert "board_meeting" in result.output and "readiness" in result.output


def test_check_reports_a_broken_file_and_exits_2(tmp_path: Path):
    """`definitions check` prints the file, the path inside it and the problem, with exit code 2."""
    text = (ROOT / "definitions/conference.yaml").read_text().replace("tasks: [budget_draft]", "tasks: [budgt_draft]")
    broken = tmp_path / "conference.yaml"
    broken.write_text(text)
    result = runner.invoke(app, ["definitions", "check", str(broken), str(ROOT / "definitions/board_meeting.yaml")])
    assert result.exit_code == 2
    assert f"{broken}: invalid definition" in result.output
    assert "unknown task 'budgt_draft'" in result.output
    assert f"ok  {ROOT / 'definitions/board_meeting.yaml'}: board_meeting" in result.output


def test_simulate_prints_every_ladder_step_as_a_table_and_a_gantt():
    """`definitions simulate` lists each step with its date and who is told, then a mermaid Gantt chart."""
    result = runner.invoke(app, ["definitions", "simulate", "conference", "--start", "2027-06-01T09:00:00+00:00"])
    assert result.exit_code == 0
    steps = sum(len(d.ladder) for d in shipped().get("conference").deadlines)
    table = result.output.split("\ngantt")[0].strip().splitlines()
    assert len(table) == 2 + steps
    budget = next(line for line in table if "Budget approved" in line)
    assert "2027-03-30 09:00" in budget and "project_manager, finance_approver" in budget  # start-60d-3d
    assert "gantt" in result.output and "section Budget approved" in result.output


def test_simulate_at_a_time_lapse_pace_shows_the_demo_calendar_to_the_second():
    """At 10 s a day the budget reminder (start - 60 days - 3 days) falls 10.5 minutes before the start."""
    result = runner.invoke(app, ["definitions", "simulate", "conference", "--start", "2027-06-01T09:00:00+00:00",
                                 "--pace", "10", "--no-gantt"])
    assert result.exit_code == 0, result.output
    first = next(line for line in result.output.strip().splitlines() if "Budget approved" in line)
    assert first.startswith("2027-06-01 08:49:30  start-10m - 30s") and "finance_approver" in first


def test_unknown_kind_is_a_clear_error():
    """An unknown kind names the known ones and exits 2."""
    result = runner.invoke(app, ["definitions", "diagram", "gala"])
    assert result.exit_code == 2
    assert "unknown event kind 'gala'" in result.output and "conference" in result.output


def test_checked_in_schema_is_up_to_date():
    """definitions/definition.schema.json (used by editors) matches the models; regenerate with `convene definitions schema`."""
    assert json.loads((ROOT / "definitions/definition.schema.json").read_text()) == json_schema()


def test_simulate_counts_calendar_days_in_the_named_zone_and_refuses_an_unknown_one():
    """A Paris conference at 09:00 on 1 April 2027 (summer time): its budget reminder, 63 days earlier in winter,
    is shown at 09:00 Paris, as the running event counts it; an unknown zone is a usage error (exit 2)."""
    args = ["definitions", "simulate", "conference", "--start", "2027-04-01T09:00:00+02:00", "--no-gantt"]
    result = runner.invoke(app, [*args, "--timezone", "Europe/Paris"])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("2027-01-28 09:00  start-60d - 3d  Budget approved")
               for line in result.output.splitlines())
    bad = runner.invoke(app, [*args, "--timezone", "Mars/Olympus"])
    assert bad.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in bad.output
