"""Unit tests for the lifecycle definitions: the shipped kinds and the loader's errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

import definitions
from definitions import (
    DefinitionError,
    Registry,
    definition_hash,
    load_definition,
    parse_definition,
)
from definitions.loader import MAX_BYTES, SHIPPED_DIR
from definitions.schema import Approval, BudgetHasLine, InvitationsSent, KeynotesConfirmed

KINDS = {"conference", "board_meeting", "product_launch", "industry_seminar", "business_negotiation", "annual_gala",
         "exhibition", "project_discussion", "annual_meeting"}
CONFERENCE_TEXT = (SHIPPED_DIR / "conference.yaml").read_text(encoding="utf-8")
PYDANTIC_LEAKS = ("validation error for", "https://errors.pydantic.dev", "Traceback")


# --- helpers ----------------------------------------------------------------------------


def _edit(old: str, new: str, text: str = CONFERENCE_TEXT) -> str:
    assert text.count(old) == 1, f"the edit anchor {old!r} must occur exactly once"
    return text.replace(old, new)


def _broken(tmp_path: Path, text: str | bytes, name: str = "conference.yaml") -> DefinitionError:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    err = info.value
    _assert_readable(err, path)
    return err


def _assert_readable(err: DefinitionError, path: Path) -> None:
    message = str(err)
    assert str(path) in message
    assert err.source == str(path)
    assert err.problems, "a DefinitionError carries at least one problem"
    for where, problem in err.problems:
        assert problem in message
        if where:
            assert where in message
    for leak in PYDANTIC_LEAKS:
        assert leak not in message
    assert err.__cause__ is None


def _problem(err: DefinitionError, path: str) -> str:
    found = [msg for where, msg in err.problems if where == path]
    assert found, f"no problem at {path!r}; problems: {err.problems}"
    return found[0]


# --- the shipped definitions ------------------------------------------------------------


def test_shipped_kinds_are_exactly_the_nine():
    """The shipped registry holds exactly the conference, board meeting and product launch, and issue 20's
    industry seminar, business negotiation, annual gala, exhibition, project discussion and annual meeting."""
    assert set(definitions.shipped().kinds()) == KINDS
    assert set(Registry.from_dir(SHIPPED_DIR).kinds()) == KINDS


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_shipped_definition_loads_from_its_file(kind):
    """Each shipped file loads on its own and its kind equals its file name."""
    definition = load_definition(SHIPPED_DIR / f"{kind}.yaml")
    assert definition.kind == kind
    assert definition == definitions.shipped().get(kind)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_definition_hash_is_stable(kind):
    """The hash is the same for the same definition, whether loaded once or twice."""
    definition = definitions.shipped().get(kind)
    again = load_definition(SHIPPED_DIR / f"{kind}.yaml")
    assert definition_hash(definition) == definition_hash(definition)
    assert definition_hash(definition) == definition_hash(again)
    assert len(definition_hash(definition)) == 64


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_definition_hash_changes_with_the_title(kind):
    """Changing the title (by model_copy or in the YAML text) changes the hash."""
    definition = definitions.shipped().get(kind)
    copied = definition.model_copy(update={"title": definition.title + " (changed)"})
    assert definition_hash(copied) != definition_hash(definition)

    text = (SHIPPED_DIR / f"{kind}.yaml").read_text(encoding="utf-8")
    old = f"\ntitle: {definition.title}\n"
    reparsed = parse_definition(_edit(old, f"\ntitle: {definition.title} (changed)\n", text))
    assert definition_hash(reparsed) != definition_hash(definition)
    assert definition_hash(reparsed) == definition_hash(copied)


def test_shipped_dir_rejects_a_kind_that_differs_from_the_file_name(tmp_path):
    """A file whose kind differs from its name is refused when a folder is read."""
    (tmp_path / "forum.yaml").write_text(CONFERENCE_TEXT, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        Registry.from_dir(tmp_path)
    assert "forum.yaml" in str(info.value)
    assert "must match the file name" in _problem(info.value, "kind")


def test_conference_has_the_five_stages_in_order():
    """The conference walks preparation, planning, promotion, on_site, post_event."""
    conference = definitions.shipped().get("conference")
    expected = ["preparation", "planning", "promotion", "on_site", "post_event"]
    assert conference.stage_ids() == expected
    assert conference.path() == expected


def test_conference_has_the_domain_gates():
    """The conference's gates include the budget approval, speakers, 30-day invitations and the go decision."""
    conference = definitions.shipped().get("conference")

    stage, budget = conference.gate("budget_approved")
    assert stage.id == "preparation"
    assert budget.approval == Approval(roles=["finance_approver"])
    assert any(isinstance(c, BudgetHasLine) and c.category == "contingency" for c in budget.checks)

    stage, speakers = conference.gate("speakers_confirmed")
    assert stage.id == "planning"
    assert any(isinstance(c, KeynotesConfirmed) for c in speakers.checks)

    stage, invitations = conference.gate("invitations_sent")
    assert stage.id == "planning"
    assert [c.days_before_start for c in invitations.checks if isinstance(c, InvitationsSent)] == [30]

    stage, go = conference.gate("go_decision")
    assert stage.id == "promotion"
    assert go.approval is not None and "project_manager" in go.approval.roles


def test_conference_has_the_default_deadlines():
    """The conference's deadlines fall at start-65/60/45/30/14/7/1 days and end+7/14 days; the start-14d one (police
    and fire services) watches only events of 1000 attendees or more."""
    conference = definitions.shipped().get("conference")
    assert sorted(d.at.describe() for d in conference.deadlines) == sorted(
        ["start-65d", "start-60d", "start-45d", "start-30d", "start-14d", "start-7d", "start-1d", "end+7d", "end+14d"]
    )
    authorities = next(d for d in conference.deadlines if d.id == "authorities")
    assert authorities.required_when is not None and authorities.required_when.expected_attendees_at_least == 1000
    assert not authorities.required_when.holds(999) and authorities.required_when.holds(1000)
    by_gate = {d.met_when.gate: d.at.describe() for d in conference.deadlines if d.met_when.gate}
    assert by_gate["budget_approved"] == "start-60d"
    assert by_gate["speakers_confirmed"] == "start-45d"
    assert by_gate["invitations_sent"] == "start-30d"
    assert by_gate["go_decision"] == "start-1d"
    for deadline in conference.deadlines:
        assert deadline.ladder, f"{deadline.id} has an escalation ladder"


def test_board_meeting_is_confidential_without_public_promotion():
    """The board meeting is confidential, has no public promotion stage and keeps a go decision."""
    board = definitions.shipped().get("board_meeting")
    assert board.confidential is True
    assert board.public_promotion is False
    assert "promotion" not in board.path()
    assert len(board.path()) == len(board.stages)
    _, go = board.gate("go_decision")
    assert go.approval is not None


def test_board_meeting_archives_minutes_and_resolutions():
    """The board meeting's archive holds minutes and resolutions and a post-event task records them."""
    board = definitions.shipped().get("board_meeting")
    assert {"minutes", "resolutions"} <= set(board.archive_includes)
    post = board.stage("post_event")
    titles = " ".join(t.title.lower() for t in post.tasks)
    assert "minutes" in titles and "resolutions" in titles
    assert any(t.activity == "archive" for t in post.tasks)
    _, budget = board.gate("budget_approved")
    assert budget.approval == Approval(roles=["finance_approver"])


def test_product_launch_promotes_through_media():
    """The product launch has all five stages, promotion tasks about media and a keynote check."""
    launch = definitions.shipped().get("product_launch")
    assert launch.path() == ["preparation", "planning", "promotion", "on_site", "post_event"]
    assert launch.public_promotion is True
    promotion = launch.stage("promotion")
    assert any("media" in t.title.lower() for t in promotion.tasks)
    assert any(isinstance(c, KeynotesConfirmed) for s in launch.stages for g in s.gates for c in g.checks)
    post_titles = " ".join(t.title.lower() for t in launch.stage("post_event").tasks)
    assert "media coverage" in post_titles


# --- broken files: each gives one readable DefinitionError ------------------------------


def test_not_yaml_bad_indentation(tmp_path):
    """Text that is not YAML is refused with the line and column of the problem."""
    err = _broken(tmp_path, _edit("\ntitle: Conference\n", "\n  title: Conference\n"))
    assert len(err.problems) == 1
    where, message = err.problems[0]
    assert where.startswith("line ")
    assert "not valid YAML" in message


def test_top_level_list(tmp_path):
    """A file whose top level is a list, not a mapping, is refused."""
    err = _broken(tmp_path, yaml.safe_dump([{"kind": "conference"}]))
    assert err.problems == [("", "expected a mapping at the top, got list")]
    assert "(top)" in str(err)


def test_wrong_type(tmp_path):
    """A value of the wrong type (days: "soon") is refused at its path."""
    text = _edit("at: {anchor: start, days: -60}", 'at: {anchor: start, days: "soon"}')
    err = _broken(tmp_path, text)
    assert "number" in _problem(err, "deadlines.0.at.days")


def test_unknown_key(tmp_path):
    """A misspelt key (titel) is refused as an unknown key at its path."""
    text = _edit("{id: theme_purpose, title:", "{id: theme_purpose, titel:")
    err = _broken(tmp_path, text)
    assert "unknown key" in _problem(err, "stages.0.tasks.0.titel")
    assert "required" in _problem(err, "stages.0.tasks.0.title").lower()


def test_missing_required_key(tmp_path):
    """A definition without a required key (owner_role) is refused naming that key."""
    err = _broken(tmp_path, _edit("owner_role: project_manager\n", ""))
    assert err.problems == [("owner_role", "Field required")]


def test_gate_names_unknown_task(tmp_path):
    """A gate naming a task its stage does not have is refused at the gate's check."""
    text = _edit("tasks: [theme_purpose]", "tasks: [theme_porpose]")
    err = _broken(tmp_path, text)
    assert "unknown task 'theme_porpose'" in _problem(err, "stages.0.gates.0.checks.0.tasks.0")


def test_next_names_unknown_stage(tmp_path):
    """A stage whose next names no stage is refused at that next."""
    text = _edit("  - id: planning\n", "  - id: planning\n    next: rehearsal\n")
    err = _broken(tmp_path, text)
    assert "unknown stage 'rehearsal'" in _problem(err, "stages.1.next")


def test_unknown_role_in_approval(tmp_path):
    """An approval naming an undeclared role is refused at that role."""
    text = _edit("approval: {roles: [finance_approver]}", "approval: {roles: [treasurer]}")
    err = _broken(tmp_path, text)
    assert "unknown role 'treasurer'" in _problem(err, "stages.0.gates.1.approval.roles.0")


def test_unreachable_stage(tmp_path):
    """A stage that the forward chain skips is refused as unreachable."""
    text = _edit("  - id: planning\n", "  - id: planning\n    next: on_site\n")
    err = _broken(tmp_path, text)
    assert err.problems == [("stages.2", "stage 'promotion' is unreachable from 'preparation'")]


def test_loop_in_next(tmp_path):
    """A next that leads back to an earlier stage is refused as a loop."""
    text = _edit("  - id: post_event\n", "  - id: post_event\n    next: planning\n")
    err = _broken(tmp_path, text)
    message = _problem(err, "stages")
    assert "loop forever" in message
    assert "planning -> promotion -> on_site -> post_event -> planning" in message


def test_pre_event_deadline_after_the_start(tmp_path):
    """A deadline for pre-event work that falls after the start is refused."""
    text = _edit("at: {anchor: start, days: -60}", "at: {anchor: start, days: 5}")
    err = _broken(tmp_path, text)
    message = _problem(err, "deadlines.0.at")
    assert "budget_approval" in message and "after the start" in message and "start+5d" in message


def test_alias_bomb_is_refused_fast(tmp_path):
    """A billion-laughs file built from &anchors and *aliases is refused quickly, not expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    started = time.perf_counter()
    err = _broken(tmp_path, "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 5.0  # generous: a bomb expanded would take minutes and gigabytes
    assert len(err.problems) == 1
    where, message = err.problems[0]
    assert where.startswith("line 1")  # refused at the first anchor, before any alias
    assert "anchors and aliases" in message


def test_file_over_the_size_limit(tmp_path):
    """A file over the size limit (a 300 KB one) is refused before it is parsed."""
    text = CONFERENCE_TEXT + "#" + "x" * (300 * 1024) + "\n"
    assert len(text.encode()) > MAX_BYTES
    started = time.perf_counter()
    err = _broken(tmp_path, text)
    assert time.perf_counter() - started < 5.0  # generous: a bomb expanded would take minutes and gigabytes
    assert len(err.problems) == 1
    assert f"the limit is {MAX_BYTES:,}" in _problem(err, "")


def test_file_over_the_size_limit_reports_its_real_size(tmp_path):
    """The size-limit message states the file's actual size."""
    text = "#" + "x" * (300 * 1024 - 2) + "\n"
    err = _broken(tmp_path, text)
    assert f"file is {300 * 1024:,} bytes" in _problem(err, "")


def test_file_that_does_not_exist(tmp_path):
    """A path with no file behind it is refused as unreadable, naming the path."""
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    _assert_readable(info.value, path)
    assert len(info.value.problems) == 1
    assert "cannot read file" in _problem(info.value, "")


def test_deeply_nested_yaml(tmp_path):
    """A small but deeply nested file is refused with a DefinitionError, not a RecursionError."""
    text = "kind: " + "[" * 5000 + "]" * 5000 + "\n"
    assert len(text.encode()) < MAX_BYTES
    err = _broken(tmp_path, text)
    assert len(err.problems) == 1
    assert "nested deeper than" in err.problems[0][1]


# --- the JSON Schema --------------------------------------------------------------------


def test_json_schema_is_serialisable():
    """The JSON Schema for editors is a dict listing stages and serialises to JSON."""
    schema = definitions.json_schema()
    assert isinstance(schema, dict)
    assert "stages" in schema["properties"]
    assert json.loads(json.dumps(schema)) == schema
