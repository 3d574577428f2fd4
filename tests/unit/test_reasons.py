"""Gate reasons in the reader's language (convene/reasons.py over workflows/reasons.py): the lifecycle keeps its
English sentences and adds message ids with raw parameters; rendering says them with plurals by count, money,
percentages, spans and times from CLDR, and role, status and budget ids named."""

from __future__ import annotations

import pytest

from convene import i18n, reasons
from tests.support import APPROVER, FINANCE, PR, conference
from tests.unit.test_lifecycle import DAY, NOW, budget, gate, invite, prepare, prepare_tasks, refusal, start, tasks
from workflows.messages import Decide, InviteAttendees, InvitationBatchRef


def said(lc, gate_id: str, language: str) -> list[str]:  # noqa: ANN001 - a Lifecycle
    view = gate(lc, gate_id)
    return [reasons.render(language, m) for m in view.reason_messages]


def test_each_reason_has_its_message_and_the_english_stays_as_it_was() -> None:
    """The view keeps the English sentences (stored, asserted elsewhere) and one message per reason."""
    lc = start()
    budget(lc, venue="90000", contingency="10000.50")
    view = gate(lc, "budget_approved")
    assert view.reasons[0].startswith("task not done: Draft the budget by category (venue, ")
    assert view.reasons[0].endswith(" (budget_draft)")
    assert view.reasons[1] == "planned budget 100,000.50 EUR exceeds the limit 100,000.00 EUR"
    assert [m.message_id for m in view.reason_messages] == [
        "task not done: %(title)s (%(task)s)", "planned budget %(total)s exceeds the limit %(limit)s"]
    assert view.reason_messages[1].params == {"total": "100000.50", "limit": "100000", "currency": "EUR"}


def test_money_is_formatted_by_babel_in_each_language() -> None:
    """Decimal and currency, formatted at render time by CLDR (the symbol, grouping, two decimals)."""
    lc = start()
    budget(lc, venue="90000", contingency="10000.50")
    tasks(lc, FINANCE, "budget_draft")
    assert said(lc, "budget_approved", "en") == ["planned budget €100,000.50 exceeds the limit €100,000.00"]
    assert said(lc, "budget_approved", "zh-Hans") == ["计划预算 €100,000.50 超出上限 €100,000.00"]
    assert said(lc, "budget_approved", "zh-Hant") == ["計畫預算 €100,000.50 超出上限 €100,000.00"]


@pytest.mark.parametrize(("slots", "english", "chinese"), [
    (1, "0 of 1 keynote slot has a confirmed speaker", "1 个主题演讲席位中已有 0 个确认演讲嘉宾"),
    (3, "0 of 3 keynote slots have a confirmed speaker", "3 个主题演讲席位中已有 0 个确认演讲嘉宾"),
])
def test_counts_choose_the_plural_form(slots: int, english: str, chinese: str) -> None:
    """One slot reads singular, three plural (gettext's ngettext by count); the legacy English keeps ``(s)``."""
    lc = start(conference(NOW, timezone="UTC", keynote_slots=slots))
    assert gate(lc, "speakers_confirmed").reasons == [f"0 of {slots} keynote slot(s) have a confirmed speaker"]
    assert said(lc, "speakers_confirmed", "en") == [english]
    assert said(lc, "speakers_confirmed", "zh-Hans") == [chinese]


def test_late_invitations_say_count_span_and_time_in_the_language() -> None:
    """The count is grouped by CLDR (5,000), the span is a CLDR unit (30 days / 30天), the latest time is a
    full date in the event's zone."""
    lc = start(conference(NOW, days_ahead=20, timezone="Asia/Shanghai"))
    prepare(lc)
    lc.at(NOW + DAY).apply(InviteAttendees(key="b", actor=PR, batch=InvitationBatchRef(id="csv-1", count=5000)))
    assert said(lc, "invitations_sent", "en") == [
        "5,000 invitations were sent less than 30 days before the start (the latest at "
        "Wednesday, 2 January 2030, 17:00 (Asia/Shanghai))"]
    assert said(lc, "invitations_sent", "zh-Hans") == [
        "5,000 份邀请在开始前不足 30天 时才发出（最晚一份发于 2030年1月2日星期三 17:00（Asia/Shanghai））"]
    lc = start(conference(NOW, days_ahead=20, timezone="UTC"))
    prepare(lc)
    lc.apply(InviteAttendees(key="one", actor=PR, batch=InvitationBatchRef(id="csv-2", count=1)))
    assert said(lc, "invitations_sent", "en")[0].startswith("1 invitation was sent less than 30 days")


def test_late_people_are_listed_with_how_many_more() -> None:
    """The memory roster names at most five late invitees, then how many more, as the language lists them."""
    lc = start(conference(NOW, days_ahead=20), roster="memory")
    prepare(lc)
    invite(lc, "a1", "a2", "a3", "a4", "a5", "a6", "a7")
    assert said(lc, "invitations_sent", "en") == [
        "7 invitations were sent less than 30 days before the start (a1, a2, a3, a4, a5 and 2 more)"]
    assert said(lc, "invitations_sent", "zh-Hant") == [
        "7 份邀請在開始前不足 30 天 時才寄出（a1、a2、a3、a4、a5和另外 2 人）"]


def test_roles_and_rejections_are_named_in_the_language() -> None:
    """Chinese names roles by the page's labels; English keeps the ids, as the stored reasons do."""
    lc = start()
    prepare_tasks(lc)
    assert said(lc, "budget_approved", "en") == ["awaiting a decision by finance_approver"]
    assert said(lc, "budget_approved", "zh-Hans") == [
        f"等待{i18n.named('zh-Hans', 'role', 'finance_approver')}审批"]
    assert "finance_approver" not in said(lc, "budget_approved", "zh-Hans")[0]
    lc.apply(Decide(key="no", actor=APPROVER, gate="budget_approved", decision="reject", reason="too dear"))
    role = i18n.named("zh-Hant", "role", APPROVER.role)
    assert said(lc, "budget_approved", "zh-Hant") == [f"已被 {APPROVER.id}（{role}）駁回：too dear"]
    assert gate(lc, "budget_approved").reasons == [f"rejected by {APPROVER.id} ({APPROVER.role}): too dear"]


def test_cannot_approve_carries_reasons_said_in_the_reader_language() -> None:
    """The refusal keeps its English message and adds the reasons' messages, which the API renders."""
    lc = start()
    budget(lc, venue="140000")
    err = refusal(lc, Decide(key="yes", actor=APPROVER, gate="budget_approved", decision="approve"))
    assert err.message.startswith("cannot approve budget_approved yet: task not done: Draft the budget")
    assert err.message.endswith("; planned budget 140,000.00 EUR exceeds the limit 100,000.00 EUR; "
                                "the budget has no contingency line")
    chinese = i18n.render_message("zh-Hans", err.message_id, err.params)
    assert chinese.startswith("暂时无法批准 budget_approved：任务未完成：Draft the budget")
    contingency = i18n.named("zh-Hans", "budget", "contingency")
    assert contingency != "contingency"
    assert chinese.endswith(f"（budget_draft）；计划预算 €140,000.00 超出上限 €100,000.00；预算中没有“{contingency}”项")
    english = i18n.render_message("en", err.message_id, err.params)
    assert english.endswith("(budget_draft); planned budget €140,000.00 exceeds the limit €100,000.00; "
                            "the budget has no contingency line")


def test_a_view_from_an_older_worker_keeps_its_english() -> None:
    """Reasons without messages (or not one per reason) are left as they are; a translation that does not fit
    its parameters falls back to English."""
    lc = start()
    view = gate(lc, "budget_approved")
    older = view.model_copy(update={"reason_messages": []})
    assert reasons.localise_gates([older], "zh-Hans")[0].reasons == view.reasons
    assert reasons.localise_gates([view], "zh-Hans")[0].reasons != view.reasons
    odd = {"message_id": "incident %(incident)s is still open", "params": {}}
    assert reasons.render("zh-Hans", odd) == "incident %(incident)s is still open"


def test_agenda_and_time_reasons_render() -> None:
    """Shares as CLDR percentages; the event's end in its zone."""
    lc = start(conference(NOW, timezone="Europe/Paris"))
    assert said(lc, "event_over", "zh-Hans")[0].startswith("活动结束于 ")
    assert "（Europe/Paris）" in said(lc, "event_over", "zh-Hans")[0]
    message = {"message_id": "room %(room)s keeps %(share)s buffer, less than %(min_share)s (%(items)s)",
               "params": {"room": "east", "share": 0.0, "min_share": 0.1, "items": "b1, b2"}}
    assert reasons.render("en", message) == "room east keeps 0% buffer, less than 10% (b1, b2)"
    assert reasons.render("zh-Hans", message) == "east 会议室的缓冲时间为 0%，低于 10%（b1, b2）"
    assert reasons.join("zh-Hant", ["a", "b", "c"]) == "a；b；c" and reasons.join("en", ["a", "b"]) == "a; b"
