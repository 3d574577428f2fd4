"""A conference walked from preparation to closed by clicking in the event page, and nothing else.

Issue 8: "A person can run the README's first command, open the printed URL, and follow a demo
conference from preparation to closed by clicking, with nothing but the page." The event is started
through the Temporal client (as `run.py stack` starts its demo) on a time-lapse calendar, so its
deadlines, the event itself and the post-event activities all fall within about a minute; every act
after that is a click or a filled form in headless Chromium, signed in as the project manager (and
the finance approver for the budget, from their inbox).
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from definitions import shipped
from definitions.timelapse import timelapse
from store import Journal
from tests.e2e.conftest import OpenAs, Site, save_screenshot
from tests.e2e.scenarios import awaiting_budget, owner, rich_event, walk_to
from tests.e2e.test_dashboard import assert_accessible_basics
from tests.support import APPROVER, FINANCE, conference, key
from workflows.client import act, start_event, state
from workflows.messages import BudgetLine, Decide, RecordBudget

DAY = timedelta(seconds=0.4)
"""One day of the conference's calendar: invitations are due 30 days (12 s) before the start, the
archive 5 days (2 s) and the evaluation report 14 days (5.6 s) after the end."""
LEAD = timedelta(seconds=45)
"""From starting the event to its doors opening: the time the walk has for preparation, planning and
promotion (about 10 s on 2 cores; the invitations, sent about 6 s in, must be out 12 s before)."""
LENGTH = timedelta(seconds=12)
"""How long the event itself lasts."""
ZONE = "Europe/Paris"
ACT = 10_000
"""How long an act may take to show in the page (ms): the answer, then the page's next refresh."""


class Walk:
    """The project manager's tab on one event, and a stopwatch for each part of the walk."""

    def __init__(self, page) -> None:
        self.page = page
        self.started = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        self.laps.append((name, time.perf_counter() - self.started))

    async def task(self, task_id: str, note: str | None = None) -> None:
        """Mark a task of the current stage done (unless the engine or a ladder already did)."""
        li = self.page.locator(f'#tasks li[data-task="{task_id}"]')
        await expect(li).to_be_visible(timeout=ACT)
        if "is-done" not in (await li.get_attribute("class") or ""):
            if note:
                await li.get_by_text("Add a note").click()
                await li.get_by_label("Note (optional)").fill(note)
            await li.get_by_role("button", name="Mark done").click()
        # done, or gone: the last task of a stage moves the event on, and the list to the next stage's
        await expect(self.page.locator(f'#tasks li[data-task="{task_id}"]:not(.is-done)')).to_have_count(0,
                                                                                                   timeout=ACT)

    async def stage(self, title: str, timeout: float = ACT) -> None:
        try:
            await expect(self.page.locator("#diagram .is-current")).to_contain_text(title, timeout=timeout)
        except AssertionError as exc:  # say what still holds the event where it is
            gates = await self.page.locator("#gates").inner_text()
            raise AssertionError(f"the event did not reach {title}; its gates say:\n{gates}") from exc
        await expect(self.page.locator("#event-head")).to_contain_text(title, timeout=ACT)

    async def accepted(self, where, text: str | None = None) -> None:
        result = where.locator(".result.is-ok")
        await expect(result).to_contain_text("Accepted", timeout=ACT)
        if text:
            await expect(result).to_contain_text(text)


async def two_refreshes(page) -> None:
    """Wait until the page has refreshed twice (its "updated" time has changed twice)."""
    live = page.locator("#live")
    for _ in range(2):
        shown = await live.inner_text()
        await expect(live).not_to_have_text(shown, timeout=ACT)


def local(moment: datetime) -> str:
    """What a datetime-local field holds for `moment` on the event's wall clock."""
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


async def test_a_conference_is_walked_from_preparation_to_closed_by_clicking(site: Site, open_as: OpenAs):
    who = owner()
    event_id = f"e2e-walk-{uuid.uuid4().hex[:8]}"
    begin = datetime.now(timezone.utc) + LEAD
    details = conference(datetime.now(timezone.utc), event_id=event_id, title="Walk-through Summit", owner=who,
                         start=begin, end=begin + LENGTH, timezone=ZONE, budget_limit=Decimal("100000"))
    await start_event(site.client, details, timelapse(shipped().get("conference"), DAY), site.task_queue)

    pia = await open_as("project_manager", f"/ui/events/{event_id}")
    page = pia.page
    walk = Walk(page)
    await expect(page.locator("#event-head")).to_contain_text("Walk-through Summit", timeout=ACT)
    await walk.stage("Preparation")

    # --- preparation: the tasks, the budget lines (with contingency, within the limit) ---------------
    await walk.task("theme_purpose", note="A summit on durable event operations")
    for task_id in ("date_checked", "team_assigned", "site_inspection", "venue_booked"):
        await walk.task(task_id)
    editor = page.locator("#budget-edit")
    await editor.get_by_text("Edit the budget lines").click()
    for n, (category, planned) in enumerate([("venue", "40000"), ("catering", "30000"), ("contingency", "8000")], 1):
        if n > 1:
            await editor.get_by_role("button", name="Add a line").click()
        await editor.get_by_label(f"Category, row {n}", exact=True).fill(category)
        await editor.get_by_label(f"Planned, row {n}", exact=True).fill(planned)
    await expect(editor).to_contain_text("Planned total €78,000 of a €100,000 limit")
    await editor.get_by_role("button", name="Save the budget").click()
    await walk.accepted(editor, "planned total 78,000.00")
    await expect(page.locator("#budget")).to_contain_text("Contingency", timeout=ACT)
    await walk.task("budget_draft")
    budget_gate = page.locator("#gates li.gate", has_text="Budget approved")
    await expect(budget_gate).to_contain_text("Awaiting decision", timeout=ACT)
    await expect(budget_gate.get_by_role("button", name="Approve")).to_have_count(0)  # not the owner's call
    walk.lap("preparation done, budget awaiting its approver")

    # the finance approver approves it from their inbox
    finn = await open_as("finance_approver", "/ui/inbox")
    item = finn.page.locator("article.inbox-item", has_text="Walk-through Summit")
    await item.get_by_role("button", name="Approve").click(timeout=ACT)
    await expect(item.locator(".result")).to_contain_text("Accepted", timeout=ACT)
    await walk.stage("Planning")
    walk.lap("budget approved: planning")

    # --- planning: invitations first (they must be out 30 calendar days before the start) ------------
    invite = page.locator("#attendee-invite")
    await invite.get_by_label("People to invite").fill(
        "Ann Lee <ann@example.org>\nBob Stone <bob@example.org>\nChen Wei <chen@example.org>")
    await invite.get_by_label("Category").select_option("partner")
    await invite.get_by_role("button", name="Send the invitations").click()
    await walk.accepted(invite, "3 attendee(s) invited")
    desk = page.locator("#attendee-desk")
    await expect(desk.locator("tbody tr")).to_have_count(3, timeout=ACT)
    await expect(desk).to_contain_text("1–3 of 3 (3 invited)")
    # someone already invited is skipped; a namesake with another address gets an id of their own
    await invite.get_by_label("People to invite").fill("Ann Lee <ann@example.org>\nAnn Lee <ann.lee@partner.org>")
    await invite.get_by_role("button", name="Send the invitations").click()
    await walk.accepted(invite, "1 attendee(s) invited")
    await expect(invite.locator(".result")).to_contain_text("1 already invited, skipped: ann@example.org")
    await expect(desk.locator('tr[data-attendee="ann-lee-2"]')).to_contain_text("ann.lee@partner.org", timeout=ACT)

    speakers = page.locator("#speaker-invite")
    await speakers.get_by_label("Name").fill("Kim Keynote")
    await speakers.get_by_label("Email").fill("kim@example.org")
    await speakers.get_by_label("Slot").select_option("keynote")
    await speakers.get_by_label("Topic (optional)").fill("Durable events")
    await speakers.get_by_role("button", name="Invite").click()
    await walk.accepted(speakers, "speaker invited: Kim Keynote (keynote)")
    kim = page.locator('#speakers li[data-speaker="kim-keynote"]')
    await expect(kim).to_contain_text("Invited", timeout=ACT)
    await kim.get_by_role("button", name="Accepted").click()
    await expect(kim.locator(".chip", has_text="Accepted")).to_be_visible(timeout=ACT)
    await kim.get_by_label(f"Arrival ({ZONE})").fill(local(begin - timedelta(hours=20)))
    await kim.get_by_label("Lodging").fill("Hotel Bellecour")
    await kim.get_by_label("Pick-up").fill("Part-Dieu station, 18:10")
    await kim.get_by_role("button", name="Record the itinerary").click()
    await expect(kim.locator(".chip", has_text="Confirmed")).to_be_visible(timeout=ACT)
    await expect(kim).to_contain_text("Hotel Bellecour")

    agenda = page.locator("#agenda-edit")
    await agenda.get_by_text("Edit the agenda").click()
    programme = [("Welcome", "opening", "20", ""), ("Durable events", "keynote", "45", "kim-keynote"),
                 ("Coffee", "break", "20", ""), ("Closing", "closing", "10", "")]
    for n, (title, kind, minutes, speaker) in enumerate(programme, 1):
        if n > 1:
            await agenda.get_by_role("button", name="Add item").click()
        await agenda.get_by_label(f"Title, row {n}", exact=True).fill(title)
        await agenda.get_by_label(f"Kind, row {n}", exact=True).select_option(kind)
        await agenda.get_by_label(f"Minutes, row {n}", exact=True).fill(minutes)
        if speaker:
            await agenda.get_by_label(f"Speaker, row {n}", exact=True).select_option(speaker)
    # each new row starts where the one before ends, so the day runs without a gap: 95 minutes, 20 free
    assert await agenda.get_by_label(f"Start ({ZONE}), row 1", exact=True).input_value() == local(begin)
    starts = [await agenda.get_by_label(f"Start ({ZONE}), row {n}", exact=True).input_value() for n in (2, 3, 4)]
    assert starts == [local(begin + timedelta(minutes=m)) for m in (20, 65, 85)], starts
    await expect(agenda.locator(".buffer-list")).to_contain_text("Room main: 21% buffer")
    await agenda.get_by_role("button", name="Save the agenda").click()
    await walk.accepted(agenda, "agenda set: 4 item(s)")
    await expect(page.locator("#agenda table.agenda")).to_contain_text("Durable events", timeout=ACT)
    for task_id in ("agenda_final", "materials_ready", "contact_named"):
        await walk.task(task_id)
    await walk.stage("Promotion")
    walk.lap("planning done: promotion")

    # --- promotion: the tasks and the owner's go decision --------------------------------------------
    for task_id in ("audience_defined", "content_ready", "channels_running", "equipment_tested",
                    "safety_inspection", "staff_briefed", "reminders_sent"):
        await walk.task(task_id)
    # the emergency plan: on-site command (Cole) owns every incident category; the owner approves it
    plan_gate = page.locator("#gates li.gate", has_text="Emergency plan")
    await expect(plan_gate).to_contain_text("no emergency plan recorded yet", timeout=ACT)
    plan = page.locator("#emergency-edit")
    for category in ("Equipment", "Safety", "Injury", "Weather", "Traffic", "Other"):
        await plan.get_by_label(f"Owner role ({category})", exact=True).select_option("on_site_command")
        await plan.get_by_label(f"Person ({category})", exact=True).fill("cole")
        await plan.get_by_label(f"Phone ({category})", exact=True).fill("+33 1 40 00 00 01")
    await plan.get_by_label("First steps, separated by ; (Injury)", exact=True).fill("call 112; send the first-aider")
    await plan.get_by_role("button", name="Save the emergency plan").click()
    await walk.accepted(plan, "emergency plan recorded")
    await expect(page.locator("#emergency-plan")).to_contain_text("send the first-aider", timeout=ACT)
    await expect(plan_gate).to_contain_text("Awaiting decision", timeout=ACT)
    await plan_gate.get_by_role("button", name="Approve").click(timeout=ACT)
    go = page.locator("#gates li.gate", has_text="Go / no-go")
    await go.get_by_role("button", name="Approve").click(timeout=ACT)
    await walk.stage("On-site")
    walk.lap("go decided: on site")

    # --- on site: an incident (reported first: an open one holds the stage even after the event's end),
    # the tasks, time control, check-in, and the incident acknowledged and resolved -----------------------
    report = page.locator("#incident-report")
    await report.get_by_label("Category").select_option("equipment")
    await report.get_by_label("Severity").select_option("medium")
    await report.get_by_label("What happened").fill("The projector in the main room flickers")
    await report.get_by_role("button", name="Report").click()
    await walk.accepted(report)
    incident = page.locator("#incidents li.incident", has_text="projector")
    await expect(incident).to_contain_text("Open", timeout=ACT)
    await expect(page.locator("#gates li.gate", has_text="No incident left open")).to_contain_text("still open")
    await walk.task("set_up")
    await walk.task("staff_on_duty")
    welcome = page.locator('#agenda tr[data-item="welcome"]')  # a row lists the others (swap), so by id
    await welcome.get_by_role("button", name="Start").click(timeout=ACT)
    await expect(welcome).to_contain_text("Running", timeout=ACT)
    await welcome.get_by_role("button", name="End").click(timeout=ACT)
    await expect(welcome.locator(".chip", has_text="Done")).to_be_visible(timeout=ACT)
    coffee = page.locator('#agenda tr[data-item="coffee"]')  # the day's plan changes, with a reason
    await coffee.get_by_text("Change the plan…").click()
    await coffee.get_by_label("Change", exact=True).select_option("shorten")
    await coffee.get_by_label("By minutes").fill("5")
    await coffee.get_by_label("Reason").fill("the keynote runs long")
    await coffee.get_by_role("button", name="Change", exact=True).click()
    await expect(coffee.locator(".muted.small", has_text="planned")).to_contain_text("the keynote runs long",
                                                                                    timeout=ACT)
    await expect(page.locator("#agenda-edit")).to_contain_text("the agenda can no longer be replaced")

    await desk.get_by_label("Search by name or email").fill("ann@example")
    await expect(desk.locator("tbody tr")).to_have_count(1, timeout=ACT)
    ann = desk.locator('tr[data-attendee="ann-lee"]')
    coming = ann.get_by_role("button", name="Coming", exact=True)
    await coming.click()
    await expect(coming).to_have_attribute("aria-pressed", "true", timeout=ACT)
    await ann.get_by_role("button", name="Check in").click()
    await expect(ann).to_contain_text("Checked in", timeout=ACT)
    await expect(ann.get_by_role("button", name="Check in")).to_have_count(0)
    await expect(page.locator("#people .stat", has_text="Checked in").locator("dd")).to_have_text("1", timeout=ACT)

    await incident.get_by_label("Action taken (optional)").fill("Spare projector brought in")
    await incident.get_by_role("button", name="Acknowledge").click()
    await expect(incident).to_contain_text("Acknowledged", timeout=ACT)
    await expect(incident).to_contain_text("Spare projector brought in")
    await incident.get_by_role("button", name="Resolve").click()
    await expect(incident).to_contain_text("Resolved", timeout=ACT)
    walk.lap("on site done, waiting for the event to end")

    # --- the event ends by itself; post-event: actuals, the survey, lessons, then the engine's tasks ----
    left = (begin + LENGTH - datetime.now(timezone.utc)).total_seconds()
    await walk.stage("Post-event", timeout=max(left, 0) * 1000 + 15_000)
    walk.lap("the event ended: post-event")
    survey = page.locator("#survey-panel")
    await expect(survey).to_be_visible(timeout=ACT)
    await survey.get_by_label("Respondent (attendee id)").fill("ann-lee")
    # the respondent is offered from those who checked in (only Ann did)
    await expect(survey.locator("datalist option")).to_have_count(1, timeout=ACT)
    await expect(survey.locator('datalist option[value="ann-lee"]')).to_have_attribute("label", "Ann Lee")
    for area, score in (("Content", "5"), ("Organisation", "4"), ("Service", "5")):
        await survey.get_by_label(area).select_option(score)
    await survey.get_by_label("Comment (optional)").fill("Great keynote")
    await survey.get_by_role("button", name="Add a response").click()
    second = survey.locator("li.survey-row").nth(1)
    await second.get_by_label("Respondent (attendee id)").fill("bob-stone")
    for area in ("Content", "Organisation", "Service"):
        await second.get_by_label(area).select_option("4")
    await survey.get_by_role("button", name="Record the responses").click()
    await walk.accepted(survey, "2 survey response(s) recorded")

    editor = page.locator("#budget-edit")
    await editor.get_by_label("Actual, row 1", exact=True).fill("41200")
    await editor.get_by_label("Actual, row 2", exact=True).fill("28900")
    await editor.get_by_role("button", name="Save the budget").click()
    await walk.accepted(editor)
    await expect(page.locator("#budget")).to_contain_text("€70,100 spent", timeout=ACT)

    # the engine thanks at end + 3 (time-lapse) days, whatever the team does; the lessons then close the event
    await expect(page.locator('#tasks li[data-task="thanks_sent"]')).to_have_class(re.compile("is-done"), timeout=ACT)
    await expect(page.locator('#tasks li[data-task="thanks_sent"] button')).to_have_count(0)  # the engine's task
    await walk.task("lessons_recorded", note="Start the speaker search earlier")

    # --- closed: the page says so, and the board has it in the Closed column --------------------------
    await expect(page.locator("#event-head .chip", has_text="Closed").first).to_be_visible(timeout=30_000)
    await expect(page.locator("#diagram .is-current")).to_contain_text("Closed")
    await expect(page.locator("#audit")).to_contain_text("all stages done; event closed")
    await expect(page.locator("form.act-form:visible")).to_have_count(0, timeout=ACT)  # an ended event takes no acts
    walk.lap("closed")
    await assert_accessible_basics(page)

    board = await open_as("project_manager", f"/ui/board?owner={who}")
    await expect(board.page.locator(f'[data-stage="closed"] li.card[data-id="{event_id}"]')).to_be_visible(
        timeout=15_000)

    final = await state(site.client, event_id)
    assert (final.status, final.stage) == ("closed", "closed")
    assert all(t.done for t in final.tasks if t.required), [t.id for t in final.tasks if t.required and not t.done]
    assert {g.status for g in final.gates} == {"passed"}, [(g.id, g.status) for g in final.gates]
    audit = [e async for e in Journal(site.db).audit(event_id)]  # the whole trail, attendee acts included
    assert [e.seq for e in audit if e.seq] == list(range(1, final.audit_total + 1))
    by_hand = [a for a in audit if a.actor in ("pia", "finn")]
    assert {a.act for a in by_hand} >= {"complete_task", "record_budget", "decide", "invite_attendees",
                                        "invite_speaker", "speaker_reply", "speaker_itinerary", "set_agenda",
                                        "start_item", "end_item", "rsvp", "check_in", "report_incident",
                                        "acknowledge_incident", "resolve_incident", "record_survey"}
    print("\nwalk: " + ", ".join(f"{name} {at:.1f} s" for name, at in walk.laps))


async def test_a_viewer_sees_no_forms_and_a_refused_act_changes_nothing(site: Site, open_as: OpenAs):
    """A viewer sees the speakers, attendees and agenda but no form or button to change them, and a
    forged act with their token is answered 403. The project manager's refused acts (a category the
    API refuses, a category twice) show the refusal next to the form and change nothing, and the
    editor keeps what they typed while the event changes under it."""
    event_id = await rich_event(site.client, site.task_queue, site.db)
    viewer = await open_as("viewer", f"/ui/events/{event_id}")
    page = viewer.page
    await expect(page.locator("#speakers")).to_contain_text("Kim Keynote", timeout=ACT)
    await expect(page.locator("#attendee-desk tbody tr")).to_have_count(12, timeout=ACT)
    await expect(page.locator("#agenda")).to_contain_text("Operating events at scale")
    await two_refreshes(page)  # still nothing to act with once the page has refreshed
    for area in ("#gates", "#tasks", "#budget-edit", "#speakers", "#attendee-desk", "#agenda", "#agenda-edit"):
        await expect(page.locator(f"{area} button:visible")).to_have_count(0)
    await expect(page.locator("form.act-form:visible")).to_have_count(0)
    for hidden in ("#speaker-invite", "#attendee-invite", "#survey-panel", "#actions-panel", "#incident-report"):
        await expect(page.locator(hidden)).to_be_hidden()
    await assert_accessible_basics(page)
    answer = await page.evaluate("""async (eventId) => {
      const token = sessionStorage.getItem('convene.token');
      const r = await fetch(`/events/${eventId}/budget`, {method: 'POST', headers: {
        'Authorization': `Bearer ${token}`, 'Content-Type': 'application/json'},
        body: JSON.stringify({lines: [{category: 'venue', planned: '1'}]})});
      return {status: r.status, body: await r.json()};
    }""", event_id)
    assert answer["status"] == 403, answer
    viewer.errors[:] = [e for e in viewer.errors if "403" not in e]  # the browser logs the refused request

    before = await state(site.client, event_id)
    pia = await open_as("project_manager", f"/ui/events/{event_id}")
    page = pia.page
    editor = page.locator("#budget-edit")
    await editor.get_by_text("Edit the budget lines").click(timeout=ACT)
    await expect(editor.get_by_label("Category, row 1", exact=True)).to_have_value("venue")
    await expect(editor.locator("tbody tr")).to_have_count(7)
    folded = page.locator("details.fold:not([open]) > summary")
    while await folded.count():
        await folded.first.click()
    await expect(page.locator("details.fold:not([open])")).to_have_count(0)
    await assert_accessible_basics(page)  # every field of every form has its label
    save_screenshot("event-acts.png", await page.screenshot(full_page=True))

    await editor.get_by_label("Category, row 1", exact=True).fill("Venue hire")
    await editor.get_by_role("button", name="Save the budget").click()
    refusal = editor.locator(".result.is-refused")
    await expect(refusal).to_contain_text("Refused (422)", timeout=ACT)
    await expect(refusal).to_contain_text("lines.0.category")
    await expect(refusal).to_have_attribute("role", "alert")
    await expect(editor.get_by_label("Category, row 1", exact=True)).to_have_value("Venue hire")  # not redrawn

    await editor.get_by_label("Category, row 1", exact=True).fill("catering")  # catering twice now
    await editor.get_by_role("button", name="Save the budget").click()
    await expect(refusal).to_contain_text("each budget category may appear once per act", timeout=ACT)
    pia.errors[:] = [e for e in pia.errors if "422" not in e]
    after = await state(site.client, event_id)
    assert after.budget == before.budget
    assert [a.seq for a in after.audit] == [a.seq for a in before.audit]

    # a change made elsewhere shows in the chart, but the editor holding unsent input is left alone
    await act(site.client, event_id, RecordBudget(key=key("elsewhere"), actor=FINANCE, lines=[
        BudgetLine(category="printing", planned=Decimal("2600"))]))
    await expect(page.locator("#budget")).to_contain_text("€2,600", timeout=ACT)
    await expect(editor.get_by_label("Category, row 1", exact=True)).to_have_value("catering")
    await expect(editor.get_by_label("Planned, row 6", exact=True)).to_have_value("2500")


async def test_the_owner_sends_back_postpones_and_cancels_from_the_page(site: Site, open_as: OpenAs):
    """The moves of the whole event: send back (a reason is required), postpone (every date moves) and
    cancel (asked twice), each from the event actions, each on the record."""
    event_id = f"e2e-moves-{uuid.uuid4().hex[:8]}"
    details = conference(datetime.now(timezone.utc), event_id=event_id, title="Moves Forum", days_ahead=120)
    await start_event(site.client, details, shipped().get("conference"), site.task_queue)
    await walk_to(site.client, event_id, "planning")
    pia = await open_as("project_manager", f"/ui/events/{event_id}")
    page = pia.page
    walk = Walk(page)
    await walk.stage("Planning")
    actions = page.locator("#actions-panel")
    await expect(actions).to_be_visible(timeout=ACT)

    await actions.get_by_text("Send back to an earlier stage").click()
    back = actions.locator('form[data-act="send-back"]')
    await expect(back.get_by_label("Stage")).to_have_value("preparation")
    await back.get_by_role("button", name="Send back").click()
    await expect(back).to_contain_text("A reason is required.")  # nothing sent without one
    await back.get_by_label("Reason (required, kept on the record)").fill("The venue fell through")
    await back.get_by_role("button", name="Send back").click()
    await walk.stage("Preparation")
    await expect(page.locator("#audit")).to_contain_text("The venue fell through", timeout=ACT)

    await actions.get_by_text("Postpone", exact=True).click()
    later = actions.locator('form[data-act="postpone"]')
    new_start = details.start + timedelta(days=7)
    await later.get_by_label(f"New start ({ZONE})").fill(local(new_start))
    await later.get_by_label(f"New end ({ZONE})").fill(local(details.end + timedelta(days=7)))
    await later.get_by_role("button", name="Postpone the event").click()
    await walk.accepted(later, "postponed from")
    moved = (await state(site.client, event_id)).event.start
    assert local(moved) == local(new_start)
    day = new_start.astimezone(ZoneInfo(ZONE))
    await expect(page.locator("#event-head")).to_contain_text(f"{day.day} {day:%b %Y}", timeout=ACT)

    await actions.get_by_text("Cancel the event", exact=True).click()
    await actions.get_by_role("button", name="Cancel the event…").click()
    cancel = actions.locator('form[data-act="cancel"]')
    await cancel.get_by_label("Reason (required, kept on the record)").fill("Merged with the spring forum")
    await cancel.get_by_role("button", name="Yes, cancel it for everyone").click()
    await expect(page.locator("#event-head .chip", has_text="Cancelled").first).to_be_visible(timeout=ACT)
    await expect(page.locator("#diagram .is-current")).to_contain_text("Cancelled", timeout=ACT)
    await expect(actions).to_be_hidden(timeout=ACT)  # an ended event takes no acts
    final = await state(site.client, event_id)
    assert final.status == "cancelled"
    assert [a.reason for a in final.audit if a.act == "cancel"] == ["Merged with the spring forum"]


async def test_a_note_left_unsent_does_not_hide_the_next_stage(site: Site, open_as: OpenAs):
    """Typing in a form keeps its section still (no redraw under the person), but once the event moves
    to another stage the page shows the new stage's tasks even though the note was never sent."""
    event_id = await awaiting_budget(site.client, site.task_queue, title="Unsent Note Forum")
    pia = await open_as("project_manager", f"/ui/events/{event_id}")
    page = pia.page
    task = page.locator('#tasks li[data-task="notice_published"]')
    await task.get_by_text("Add a note").click(timeout=ACT)
    await task.get_by_label("Note (optional)").fill("half a thought")
    await page.locator("#event-head").click()  # the note loses the focus, unsent

    await act(site.client, event_id, Decide(key=key("approve"), actor=APPROVER, gate="budget_approved",
                                            decision="approve"))
    await expect(page.locator("#diagram .is-current")).to_contain_text("Planning", timeout=ACT)
    await expect(page.locator('#tasks li[data-task="agenda_final"]')).to_be_visible(timeout=ACT)
    await expect(page.locator('#tasks li[data-task="notice_published"]')).to_have_count(0)
