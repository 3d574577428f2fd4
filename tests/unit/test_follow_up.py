"""Issue 20's defects in the pure lifecycle: who is thanked, what invitations state, the report after the lessons,
and what a definition without public promotion may not say."""

from __future__ import annotations

from datetime import timedelta

import pytest

from definitions import shipped
from definitions.errors import DefinitionError
from definitions.loader import parse_definition
from tests.support import PLANNER, PM, conference, day_one, key
from tests.unit.test_lifecycle import END, NOW, invite, invite_keynote, post_event, prepare, start
from workflows.lifecycle import RunActivity
from workflows.messages import (
    CompleteTask,
    InvitationSend,
    Itinerary,
    NotificationRequest,
    SetAgenda,
    SpeakerItinerary,
    not_deliverable,
)

DAY = timedelta(days=1)


def _invitations(effects: list) -> dict[str, dict]:
    return {e.recipient.person_id: e.context for e in effects
            if isinstance(e, NotificationRequest) and e.kind == "invitation"}


def test_invitations_state_the_agenda_fee_and_contact() -> None:
    """A speaker and an attendee invited once the agenda is set get it (times in the event's zone), the fee and the
    named contact; invited before there is an agenda, they get none (the template says it follows)."""
    lc = start(conference(NOW, timezone="Europe/Paris", fee="EUR 120, lunch included",
                          contact="Pat Lee, +33 1 23 45 67 89"), roster="memory")
    prepare(lc)
    invite_keynote(lc, "kim", accept=False)  # the agenda names kim: invited first
    assert _invitations(lc.take_effects())["kim"]["agenda"] == ""
    lc.apply(SetAgenda(key=key("agenda"), actor=PLANNER, items=day_one(lc.event.start)))
    invite_keynote(lc, "lee", accept=False)
    invite(lc, "ann")
    sent = _invitations(lc.take_effects())
    agenda = ("11:00-11:20 Welcome; 11:30-12:15 Durable events; 12:20-12:40 Coffee; "
              "12:40-13:40 Lightning talks; 13:50-14:00 Closing")  # 09:00Z is 11:00 in Paris in May (CEST)
    for who, audience in (("lee", "speaker"), ("ann", "attendee")):
        assert (sent[who]["agenda"], sent[who]["fee"], sent[who]["contact"], sent[who]["audience"]) == (
            agenda, "EUR 120, lunch included", "Pat Lee, +33 1 23 45 67 89", audience)


def test_attendees_invited_from_the_roster_database_get_the_same_facts() -> None:
    """The batch send (roster in the database) carries the agenda, fee and contact in its context."""
    lc = start(conference(NOW, timezone="UTC", fee="free", contact="desk@example.org"))
    prepare(lc)
    invite_keynote(lc)
    lc.apply(SetAgenda(key=key("agenda"), actor=PLANNER, items=day_one(lc.event.start)))
    invite(lc, "ann")
    [send] = [e for e in lc.take_effects() if isinstance(e, InvitationSend)]
    assert send.context["agenda"].startswith("09:00-09:20 Welcome; 09:30-10:15 Durable events;")
    assert (send.context["fee"], send.context["contact"]) == ("free", "desk@example.org")


def test_an_event_without_fee_or_contact_decodes_as_before() -> None:
    """Events started before these fields existed decode with neither (invitations then leave the lines out)."""
    details = conference(NOW).model_dump(mode="json")
    details.pop("fee", None), details.pop("contact", None)
    again = type(conference(NOW)).model_validate(details)
    assert (again.fee, again.contact) == (None, None)


def test_thanks_mark_confirmed_and_accepted_speakers_thanked_but_not_the_undeliverable() -> None:
    """After send_thanks succeeds, every speaker on board is marked thanked, except those its summary names as not
    deliverable; declined speakers are not."""
    lc = post_event()
    lc.apply(SpeakerItinerary(key=key("it"), actor=PLANNER, speaker_id="kim",
                              itinerary=Itinerary(lodging="Hotel Lutetia")))
    invite_keynote(lc, "lee")
    invite_keynote(lc, "max", accept=False)
    assert {s.person.id: s.status for s in lc.record.speakers.values()} == {
        "kim": "confirmed", "lee": "accepted", "max": "invited"}
    summary = "thanks to 2 recipient(s): 1 sent, 0 skipped, 1 failed; not deliverable: lee"
    assert not_deliverable(summary) == {"lee"}
    lc.activity_finished("thanks_sent", True, summary)
    assert {s.person.id: s.thanked for s in lc.record.speakers.values()} == {"kim": True, "lee": False, "max": False}
    assert lc.record.tasks["thanks_sent"].note == summary


def test_a_failed_thanks_marks_nobody() -> None:
    """A send_thanks that failed leaves every speaker unthanked, so the next run thanks them."""
    lc = post_event()
    lc.activity_finished("thanks_sent", False, "SMTP down")
    assert [s.thanked for s in lc.record.speakers.values()] == [False]


def test_lessons_recorded_after_the_report_write_it_again() -> None:
    """Lessons recorded once the evaluation report exists queue the report again; recorded before it, nothing extra
    (the report, when it runs, quotes them)."""
    lc = post_event()
    lc.at(END + 14 * DAY).tick()
    assert RunActivity("evaluation_report", "evaluation_report") in lc.take_effects()
    lc.activity_finished("evaluation_report", True, "report written")
    result = lc.apply(CompleteTask(key=key("lessons"), actor=PM, task="lessons_recorded", note="Open doors earlier."))
    assert [e for e in lc.take_effects() if isinstance(e, RunActivity)] == [
        RunActivity("evaluation_report", "evaluation_report")]
    assert result.message.endswith("the evaluation report is written again with the lessons")

    early = post_event(start(conference(NOW, event_id="conf-2", timezone="UTC")))
    early.take_effects()
    early.apply(CompleteTask(key=key("lessons"), actor=PM, task="lessons_recorded", note="Open doors earlier."))
    assert [e for e in early.take_effects() if isinstance(e, RunActivity)] == []


def test_runs_recorded_before_report_after_lessons_do_not_rerun_it() -> None:
    """patched("report-after-lessons") is False for older runs: completing the lessons emits no new command."""
    lc = post_event()
    lc.report_after_lessons = False
    lc.at(END + 14 * DAY).tick()
    lc.activity_finished("evaluation_report", True, "report written")
    lc.take_effects()
    lc.apply(CompleteTask(key=key("lessons"), actor=PM, task="lessons_recorded", note="x"))
    assert [e for e in lc.take_effects() if isinstance(e, RunActivity)] == []


@pytest.mark.parametrize(("change", "problem"), [
    ("registration: open\n", "registration must be invite_only"),
    ("stages:\n  - id: promotion\n", "a stage named 'promotion' is not allowed"),
])
def test_a_definition_without_public_promotion_may_not_promote(change: str, problem: str) -> None:
    """public_promotion: false refuses open registration (a public page) and a promotion stage."""
    import yaml

    text = (shipped().get("board_meeting").model_dump(mode="json"))
    if change.startswith("registration"):
        text["registration"] = "open"
    else:
        text["stages"][2]["id"] = "promotion"
    with pytest.raises(DefinitionError) as err:
        parse_definition(yaml.safe_dump(text))
    assert problem in str(err.value)


def test_every_shipped_kind_without_public_promotion_passes_its_own_check() -> None:
    """The shipped private kinds say public_promotion: false and load (the check holds for them)."""
    private = [d.kind for d in shipped() if not d.public_promotion]
    assert "board_meeting" in private
    assert all(d.registration == "invite_only" and "promotion" not in d.stage_ids()
               for d in shipped() if not d.public_promotion)


def test_a_speaker_invitation_renders_the_agenda_in_place_of_the_placeholder() -> None:
    """The invitation the lifecycle queues, rendered: the agenda replaces "the full programme follows", and the
    attendee's shows the fee and the contact."""
    from activities.rendering import Templates, template_variables

    lc = start(conference(NOW, timezone="UTC", fee="EUR 120", contact="Pat Lee"), roster="memory")
    prepare(lc)
    invite_keynote(lc, "kim", accept=False)
    early = next(e for e in lc.take_effects() if isinstance(e, NotificationRequest) and e.kind == "invitation")
    lc.apply(SetAgenda(key=key("agenda"), actor=PLANNER, items=day_one(lc.event.start)))
    invite_keynote(lc, "lee", accept=False)
    invite(lc, "ann")
    sent = {e.recipient.person_id: e for e in lc.take_effects()
            if isinstance(e, NotificationRequest) and e.kind == "invitation"}
    templates = Templates()
    before = templates.render("invitation", "en", template_variables(early)).text
    speaker = templates.render("invitation", "en", template_variables(sent["lee"])).text
    attendee = templates.render("invitation", "en", template_variables(sent["ann"])).text
    assert "The full programme follows once the agenda is final" in before
    assert "The full programme follows" not in speaker
    assert "Agenda: 09:00-09:20 Welcome; 09:30-10:15 Durable events;" in speaker
    assert "Agenda: 09:00-09:20 Welcome;" in attendee
    assert "Fee: EUR 120" in attendee and "Questions: Pat Lee" in attendee


def test_lessons_recorded_while_the_report_is_being_written_rewrite_it_when_it_ends() -> None:
    """The report under way read the record before the lessons: when it finishes it is queued once more."""
    lc = post_event()
    lc.at(END + 14 * DAY).tick()
    assert RunActivity("evaluation_report", "evaluation_report") in lc.take_effects()
    result = lc.apply(CompleteTask(key=key("lessons"), actor=PM, task="lessons_recorded", note="Open doors earlier."))
    assert result.message.endswith("the evaluation report is written again once the one under way ends")
    assert [e for e in lc.take_effects() if isinstance(e, RunActivity)] == []
    lc.activity_finished("evaluation_report", True, "report written")
    assert [e for e in lc.take_effects() if isinstance(e, RunActivity)] == [
        RunActivity("evaluation_report", "evaluation_report")]
    assert not lc.record.report_stale
    lc.activity_finished("evaluation_report", True, "report written with the lessons")
    assert [e for e in lc.take_effects() if isinstance(e, RunActivity)] == []
