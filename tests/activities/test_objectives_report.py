"""The evaluation report compares each objective's target with the actual its outcomes give, and keeps the
lessons it quotes for the next events of the kind (issue 20, items 4 and 6), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities import LocalFolderStore, Reporter
from activities.figures import evaluate
from activities.reports import render_html, render_markdown
from store import Database, Journal, Roster
from store.lessons import Lessons
from store.outcomes import Outcomes, compare
from tests.activities.support import END, dossier
from tests.activities.test_database_dossier import FOLDER, in_database


async def _record(db: Database) -> None:
    store = Outcomes(db)
    for oid, metric, baseline, target in [("leads", "leads", 40, 60), ("press", "media_reach", 0, 100_000),
                                          ("turnout", "attendance", 3, 4)]:
        await store.put_objective(event_id="summit-2026", objective_id=oid, key=f"o-{oid}", title=f"Goal {oid}",
                                  metric=metric, baseline=baseline, target=target, by="pia", at=END)
    for oid, kind, value, reach in [("booth", "lead", 25, None), ("webinar", "lead", 30, None),
                                    ("daily", "media", 1, 120_000)]:
        await store.put_outcome(event_id="summit-2026", outcome_id=oid, key=f"r-{oid}", kind=kind, title=oid,
                                value=value, reach=reach, by="pia", at=END + timedelta(days=3))


async def test_the_report_states_target_against_actual_and_keeps_the_lessons(db: Database, tmp_path: Path) -> None:
    """Leads 55 of a target of 60 (91.7%, not met), press reach 120,000 of 100,000 (met), attendance 0 checked in
    of 4 (the roster holds nobody): each a row of the table, a bar of the chart and a count in the summary; the
    lessons task's note is kept as the conference's lessons, once however often the report runs."""
    await _record(db)
    request = in_database(dossier())
    store = LocalFolderStore(tmp_path / "archive")
    reporter = Reporter(store, Roster(db), Journal(db))
    await ActivityEnvironment().run(reporter.evaluation_report, request)
    report = (store.root / FOLDER / "08-evaluation.md").read_text()
    assert "| Goal leads | leads | 40 | 60 | 55 | 91.7% | no |" in report
    assert "| Goal press | media_reach | 0 | 100,000 | 120,000 | 120.0% | yes |" in report
    assert "| Goal turnout | attendance | 3 | 4 | 0 | 0.0% | no |" in report
    assert "- Objectives met: 1 of 3" in report
    assert "- media: daily (1); reach 120,000" in report
    html = (store.root / FOLDER / "08-evaluation.html").read_text()
    assert html.count("<svg ") == 3 and 'aria-label="Objectives: actual as a share of the target (%)"' in html
    assert ">91.7%</text>" in html and ">120%</text>" in html

    kept = await Lessons(db).for_kind("conference")
    assert [(x.event_id, x.text, x.recorded_by) for x in kept] == [("summit-2026", "Start check-in earlier.", "pia")]
    await ActivityEnvironment().run(reporter.evaluation_report, request)
    assert len(await Lessons(db).for_kind("conference")) == 1


async def test_without_objectives_the_report_says_so(db: Database) -> None:
    """An event that recorded none says 'No objectives recorded.' and draws no objectives chart."""
    ev = evaluate(dossier())
    assert "No objectives recorded." in render_markdown(ev) and "Objectives met" not in render_markdown(ev)
    assert render_html(ev).count("<svg ") == 2
    await _record(db)
    results = await Outcomes(db).results("summit-2026")
    with_them = evaluate(dossier(), objectives=compare(results, 5), outcomes=results.outcomes)
    assert "| Goal turnout | attendance | 3 | 4 | 5 | 125.0% | yes |" in render_markdown(with_them)
