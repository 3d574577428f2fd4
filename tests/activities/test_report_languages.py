"""The evaluation report and the dossier index are written in the event's language (its locale), through the one
catalogue, with numbers and times as CLDR writes them there; ids, file names and keywords stay as they are."""

from __future__ import annotations

from dataclasses import replace

from temporalio.testing import ActivityEnvironment

from activities import LocalFolderStore, Reporter, verify
from activities.archive import md, render_index
from activities.figures import evaluate
from activities.reports import render_html, render_markdown
from convene import i18n
from tests.activities.support import dossier
from workflows.messages import DossierRequest


def in_language(locale: str) -> DossierRequest:
    request = dossier()
    return request.model_copy(update={"event": request.event.model_copy(update={"locale": locale})})


def test_the_report_of_a_simplified_chinese_event_is_in_simplified_chinese() -> None:
    ev = evaluate(in_language("zh-Hans"))
    markdown = render_markdown(ev)
    assert markdown.startswith("# 评估：Convene Summit\n")
    assert "- 满意度：3.78 / 5（共 3 份答卷）" in markdown
    venue = i18n.named("zh-Hans", "budget", "venue")
    assert f"| {venue} | 10,000.00 | 11,000.00 | +1,000.00 | +10.0% |" in markdown
    assert "| **合计** | 15,000.00 | 14,500.00 | +500.00 | +3.6% |" in markdown
    assert "## 经验教训" in markdown and "Satisfaction" not in markdown and "Attendance" not in markdown
    html = render_html(ev)
    assert '<html lang="zh-Hans">' in html and "<h2>出席情况</h2>" in html
    assert 'aria-label="各方面平均满意度（1 至 5）"' in html and "<th>差额 %</th>" in html
    assert "Satisfaction" not in html and "Budget" not in html


def test_traditional_chinese_and_a_stored_zh() -> None:
    """zh-Hant reads Traditional; a ``zh`` stored before there were two catalogues reads Simplified."""
    assert render_markdown(evaluate(in_language("zh-Hant"))).startswith("# 評估：Convene Summit\n")
    assert render_markdown(evaluate(in_language("zh"))).startswith("# 评估：Convene Summit\n")


def test_plural_forms_follow_the_count_in_english() -> None:
    ev = evaluate(dossier())
    assert "- Satisfaction: 3.78 / 5 from 3 responses" in render_markdown(ev)
    one = replace(ev, survey=replace(ev.survey, responses=1))
    assert "- Satisfaction: 3.78 / 5 from 1 response\n" in render_markdown(one)


def test_the_index_is_in_the_event_language_with_times_in_its_zone() -> None:
    index = render_index(in_language("zh-Hans"), ["05-budget.json", "08-evaluation.md"]).decode()
    assert index.startswith("# 档案：Convene Summit\n")
    assert "| 活动 ID | `summit-2026` |" in index
    assert "| [05-budget.json](05-budget.json) | 预算：各类别的计划与实际 |" in index
    start = i18n.format_when(dossier().event.start, "Asia/Shanghai", "zh-Hans")
    assert "星期" in start and f"| 开始 | {md(start)} |" in index  # CLDR's full date in the event's zone
    assert "`kind:conference`" in index  # keywords stay searchable as they are
    role = i18n.named("zh-Hans", "role", "finance_approver")
    assert f"由 `finn`（{role}）于 " in index
    english = render_index(dossier(), ["05-budget.json"]).decode()
    start = i18n.format_when(dossier().event.start, "Asia/Shanghai", "en")
    assert "| Event id | `summit-2026` |" in english and f"| Start | {md(start)} |" in english


async def test_the_activity_files_a_chinese_report(store: LocalFolderStore) -> None:
    """The activity writes the Chinese report and index into the dossier; the manifest still verifies."""
    await ActivityEnvironment().run(Reporter(store).evaluation_report, in_language("zh-Hant"))
    folder = store.root / "2026/conference/summit-2026"
    assert (folder / "08-evaluation.md").read_text(encoding="utf-8").startswith("# 評估：Convene Summit")
    assert "評估報告（HTML，含圖表）" in (folder / "index.md").read_text(encoding="utf-8")
    assert verify(folder) == []
