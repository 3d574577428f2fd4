"""The evaluation report: figures checked by hand against a small event, and the files it writes."""

from __future__ import annotations

from decimal import Decimal

from temporalio.testing import ActivityEnvironment

from activities import LocalFolderStore, Reporter, verify
from activities.figures import evaluate
from activities.reports import render_html, render_markdown
from tests.activities.support import dossier

D = Decimal


def test_survey_figures_match_the_hand_count() -> None:
    """Means and distributions per area match the three responses (5,4,3), (4,4,5), (3,2,4)."""
    survey = evaluate(dossier()).survey
    content, organisation, service = survey.areas
    assert survey.responses == 3
    assert (content.area, content.mean, content.distribution) == ("content", D("4.00"), {1: 0, 2: 0, 3: 1, 4: 1, 5: 1})
    assert (organisation.mean, organisation.distribution) == (D("3.33"), {1: 0, 2: 1, 3: 0, 4: 2, 5: 0})
    assert (service.mean, service.distribution) == (D("4.00"), {1: 0, 2: 0, 3: 1, 4: 1, 5: 1})
    assert survey.overall == D("3.78")  # 34 / 9
    assert survey.comments == ["Great talks"]


def test_attendance_budget_incidents_and_goals_match_the_hand_count() -> None:
    """Attendance rates, budget variances, incidents, goal attainment and lessons match the fixture."""
    ev = evaluate(dossier())
    a = ev.attendance
    counts = (a.expected, a.invited, a.rsvp_yes, a.rsvp_no, a.rsvp_maybe, a.no_reply, a.checked_in)
    assert counts == (5, 4, 2, 1, 0, 1, 2)
    assert (a.checked_in_of_expected, a.checked_in_of_rsvp_yes) == (D("40.0"), D("100.0"))

    b = ev.budget
    rows = {r.category: (r.planned, r.actual, r.variance, r.variance_pct) for r in b.rows}
    assert rows == {
        "catering": (D("4000.00"), D("3500.00"), D("-500.00"), D("-12.5")),
        "contingency": (D("1000.00"), None, None, None),
        "venue": (D("10000.00"), D("11000.00"), D("1000.00"), D("10.0")),
    }
    assert (b.planned, b.actual, b.variance, b.variance_pct) == (D("15000.00"), D("14500.00"), D("500.00"), D("3.6"))
    assert b.unreported == ["contingency"] and b.within_limit

    assert (ev.incidents.total, ev.incidents.open, ev.incidents.by_severity) == (1, 0, {"medium": 1})
    g = ev.goals
    # 25 tasks: a feedback meeting and the police/fire task joined; the emergency plan and the speakers'
    # itineraries left the checklist (a gate approves the one, a check computes the other)
    assert (g.tasks_done, g.tasks_total, g.attainment) == (2, 25, D("8.0"))
    assert (g.gates_passed, g.gates_total) == (1, 15)  # the emergency plan's approval joined
    assert (ev.speakers.accepted, ev.speakers.declined, ev.speakers.no_reply) == (1, 1, 0)
    assert (ev.deliveries.sent, ev.deliveries.failed) == (1, 1)
    assert ev.lessons == "Start check-in earlier."


def test_the_renderings_state_the_figures() -> None:
    """The Markdown and HTML reports show the same figures, and the HTML carries inline SVG charts."""
    ev = evaluate(dossier())
    markdown = render_markdown(ev)
    assert "| content | 3 | 4.00 | 0 | 0 | 1 | 1 | 1 |" in markdown
    assert "| venue | 10,000.00 | 11,000.00 | +1,000.00 | +10.0% |" in markdown  # CLDR's grouping (en_GB)
    assert "| **total** | 15,000.00 | 14,500.00 | +500.00 | +3.6% |" in markdown
    assert "Start check\\-in earlier." not in markdown and "Start check-in earlier." in markdown
    html = render_html(ev)
    assert html.count("<svg ") == 2 and 'aria-label="Mean satisfaction by area (1 to 5)"' in html
    assert "<td class=\"n\">-12.5%</td>" in html


def test_a_hostile_title_stays_inert_in_the_report() -> None:
    """Markup in the event title is escaped in the HTML report and cannot add Markdown markup."""
    ev = evaluate(dossier(title="<script>x()</script> [link](http://evil) {{ 7*7 }}"))
    html = render_html(ev)
    assert "<script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "49" not in html
    assert "\\[link\\]\\(http://evil\\)" in render_markdown(ev)


async def test_the_activity_files_the_report_in_the_dossier(store: LocalFolderStore) -> None:
    """evaluation_report writes 08-evaluation.md and .html, keeps the manifest valid and returns a summary."""
    summary = await ActivityEnvironment().run(Reporter(store).evaluation_report, dossier())
    folder = store.root / "2026/conference/summit-2026"
    assert (folder / "08-evaluation.md").read_text().startswith("# Evaluation: Convene Summit")
    assert (folder / "08-evaluation.html").exists() and verify(folder) == []
    assert summary == ("evaluation written: satisfaction 3.78/5 (3 responses); 2 of 5 expected checked in; "
                       "budget +3.6% on reported lines; 1 incident(s); tasks 2/25")
