"""Issue 20, item 6 in the pure lifecycle: the evaluation report goes to the roles the definition names, with
the lessons it quotes (left out for a confidential kind), each time it is written; a definition naming nobody
sends nothing (as every definition did before report_to existed, so running events are unchanged)."""

from __future__ import annotations

from datetime import timedelta

from definitions import shipped
from tests.support import PM, key
from tests.unit.test_lifecycle import END, post_event
from workflows.messages import CompleteTask, NotificationRequest

DAY = timedelta(days=1)
CONFERENCE = shipped().get("conference")


def _reports(effects: list) -> list[NotificationRequest]:
    return [e for e in effects if isinstance(e, NotificationRequest) and e.kind == "evaluation_report"]


def test_the_report_goes_to_the_named_roles_with_the_lessons_each_time_it_is_written() -> None:
    lc = post_event()
    lc.apply(CompleteTask(key=key("lessons"), actor=PM, task="lessons_recorded", note="Open doors earlier."))
    lc.at(END + 14 * DAY).tick()
    lc.take_effects()
    lc.activity_finished("evaluation_report", True, "evaluation written: tasks 20/26")
    sent = _reports(lc.take_effects())
    assert sorted((e.recipient.role, e.channel) for e in sent) == sorted(
        (role, channel) for role in CONFERENCE.report_to for channel in ("email", "log"))
    assert CONFERENCE.report_to == ["project_manager", "sponsor", "finance_approver"]
    assert {(e.context["summary"], e.context["lessons"]) for e in sent} == {
        ("evaluation written: tasks 20/26", "Open doors earlier.")}
    lc.activity_finished("evaluation_report", True, "evaluation written again")
    again = _reports(lc.take_effects())
    assert len(again) == len(sent) and not {e.key for e in again} & {e.key for e in sent}


def test_a_confidential_kind_leaves_the_lessons_out_and_a_failed_report_or_no_roles_send_nothing() -> None:
    lc = post_event()
    lc.definition = CONFERENCE.model_copy(update={"confidential": True})
    lc.apply(CompleteTask(key=key("lessons"), actor=PM, task="lessons_recorded", note="Call Pat on +33 1 23 45 67"))
    lc.take_effects()
    lc.activity_finished("evaluation_report", False, "disk full")
    assert _reports(lc.take_effects()) == []
    lc.activity_finished("evaluation_report", True, "evaluation written")
    sent = _reports(lc.take_effects())
    assert sent and {(e.context["lessons"], e.context["confidential"]) for e in sent} == {("", True)}

    quiet = post_event()
    quiet.definition = CONFERENCE.model_copy(update={"report_to": []})
    quiet.activity_finished("evaluation_report", True, "evaluation written")
    assert _reports(quiet.take_effects()) == []


def test_every_shipped_kind_names_who_gets_the_report_and_holds_a_feedback_meeting() -> None:
    for kind in shipped().kinds():
        d = shipped().get(kind)
        post = d.stages[-1]
        assert d.report_to and set(d.report_to) <= d.role_ids(), kind
        assert "feedback_meeting" in {t.id for t in post.tasks}, kind
