"""GET /events/{id} says gate reasons in the request's language (cookie, else Accept-Language), with plurals
by count and money by CLDR; the refusal to approve a gate too early says its reasons the same way."""

from __future__ import annotations

from tests.api.conftest import Api, auth


def _reasons(body: dict, gate: str) -> list[str]:
    return next(g["reasons"] for g in body["gates"] if g["id"] == gate)


async def test_gate_reasons_follow_the_request_language(api: Api):
    eid = await api.start(keynote_slots=2)
    path = f"/events/{eid}"
    english = (await api.http.get(path, headers=auth("viewer"))).json()
    assert _reasons(english, "speakers_confirmed") == ["0 of 2 keynote slots have a confirmed speaker"]
    assert "no budget lines recorded yet" in _reasons(english, "budget_approved")
    gate = next(g for g in english["gates"] if g["id"] == "speakers_confirmed")
    assert gate["reason_messages"] == [{
        "message_id": "%(confirmed)s of %(count)s keynote slot has a confirmed speaker",
        "plural": "%(confirmed)s of %(count)s keynote slots have a confirmed speaker",
        "params": {"count": 2, "confirmed": 0}}]

    simplified = (await api.http.get(path, headers={**auth("viewer"), "Accept-Language": "zh-CN"})).json()
    assert _reasons(simplified, "speakers_confirmed") == ["2 个主题演讲席位中已有 0 个确认演讲嘉宾"]
    assert "尚未录入预算项" in _reasons(simplified, "budget_approved")
    assert _reasons(simplified, "theme_recorded")[0].startswith("任务未完成：")
    traditional = (await api.http.get(path, headers={**auth("viewer"), "Cookie": "convene_lang=zh-Hant",
                                                     "Accept-Language": "zh-CN"})).json()
    assert "尚未登錄預算項目" in _reasons(traditional, "budget_approved")

    one = await api.start(keynote_slots=1)
    assert _reasons((await api.http.get(f"/events/{one}", headers=auth("viewer"))).json(),
                    "speakers_confirmed") == ["0 of 1 keynote slot has a confirmed speaker"]


async def test_approving_too_early_is_refused_with_reasons_in_the_reader_language(api: Api):
    eid = await api.start()
    await api.do("finance", f"/events/{eid}/budget", {"lines": [{"category": "venue", "planned": "140000"}]})
    r = await api.http.post(f"/events/{eid}/decisions", json={"gate": "budget_approved", "decision": "approve"},
                            headers={**auth("finance_approver"), "Accept-Language": "zh-CN"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["detail"].startswith("暂时无法批准 budget_approved：任务未完成：")
    assert "；计划预算 €140,000.00 超出上限 €100,000.00" in body["detail"]
    assert body["params"]["reasons"].startswith("task not done: ")  # the English as before, for old clients
    assert [m["message_id"] for m in body["params"]["reason_messages"]][:2] == [
        "task not done: %(title)s (%(task)s)", "planned budget %(total)s exceeds the limit %(limit)s"]
