"""Every error class leaves the API as problem+json with the right status: 401, 403, 404, 409, 422, 503."""

from __future__ import annotations

import logging
import socket
import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api import create_app
from api.errors import to_problem
from tests.api.conftest import TOKENS, Api, api_settings, auth, serve

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(r: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert PROBLEM_KEYS <= set(body) and body["status"] == status and body["detail"]
    if slug:
        assert body["type"] == f"/problems/{slug}"
    return body


async def test_401_without_or_with_a_wrong_token(api: Api):
    """No token, a wrong token or another scheme: 401 with a Bearer challenge."""
    r = await api.http.get("/events/anything")
    assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == 'Bearer realm="convene"'
    r = await api.http.get("/events/anything", headers={"Authorization": "Bearer not-a-token"})
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == 'Bearer realm="convene", error="invalid_token"'
    r = await api.http.get("/definitions", headers={"Authorization": f"Basic {TOKENS['viewer']}"})
    assert_problem(r, 401)
    r = await api.http.post("/events", json={}, headers={"Authorization": "Bearer nope"})
    assert_problem(r, 401)  # authentication comes before the body is looked at


async def test_403_for_a_viewer_and_for_a_role_not_allowed(api: Api):
    """A viewer may read but not act; a finance person may not approve the budget."""
    eid = await api.start()
    assert (await api.http.get(f"/events/{eid}", headers=auth("viewer"))).status_code == 200
    r = await api.http.post(f"/events/{eid}/budget", json={"lines": [{"category": "venue", "planned": "1"}]},
                            headers=auth("viewer"))
    assert_problem(r, 403, "forbidden")
    r = await api.http.post(f"/events/{eid}/decisions", json={"gate": "budget_approved", "decision": "approve"},
                            headers=auth("finance"))
    body = assert_problem(r, 403, "forbidden")
    assert "finance_approver" in body["detail"]


async def test_404_for_an_unknown_event(api: Api):
    """Reading or acting on an event that does not exist: 404."""
    missing = f"missing-{uuid.uuid4().hex}"
    assert_problem(await api.http.get(f"/events/{missing}", headers=auth("viewer")), 404, "not-found")
    r = await api.http.post(f"/events/{missing}/cancel", json={"reason": "x"}, headers=auth("sponsor"))
    assert_problem(r, 404)
    assert_problem(await api.http.get("/nowhere", headers=auth("viewer")), 404)


async def test_409_when_the_act_is_not_possible_now(api: Api):
    """A task done twice, a gate of a later stage, an act on a cancelled event: 409."""
    eid = await api.start()
    await api.do("project_manager", f"/events/{eid}/tasks/theme_purpose/complete")
    r = await api.http.post(f"/events/{eid}/tasks/theme_purpose/complete", headers=auth("project_manager"))
    assert "already done" in assert_problem(r, 409, "act-conflict")["detail"]
    r = await api.http.post(f"/events/{eid}/decisions", json={"gate": "go_decision", "decision": "approve"},
                            headers=auth("sponsor"))
    assert_problem(r, 409, "act-conflict")
    await api.do("sponsor", f"/events/{eid}/cancel", {"reason": "no venue"})
    r = await api.http.post(f"/events/{eid}/tasks/date_checked/complete", headers=auth("project_manager"))
    assert "cancelled" in assert_problem(r, 409, "act-conflict")["detail"]  # the event refuses it (final for the key)


async def test_422_for_invalid_bodies_and_invalid_acts(api: Api):
    """A malformed body, an actor in the body, an unknown gate, a rejection without reason: 422."""
    eid = await api.start()
    base = f"/events/{eid}"
    r = await api.http.post(f"{base}/decisions", json={"decision": "approve"}, headers=auth("finance_approver"))
    body = assert_problem(r, 422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "gate"] and "gate" in body["detail"]
    r = await api.http.post(f"{base}/decisions", headers=auth("finance_approver"),
                            json={"gate": "budget_approved", "decision": "approve",
                                  "actor": {"id": "finn", "role": "finance_approver"}})
    assert assert_problem(r, 422)["errors"][0]["type"] == "extra_forbidden"
    r = await api.http.post(f"{base}/decisions", json={"gate": "no_such_gate", "decision": "approve"},
                            headers=auth("finance_approver"))
    assert "unknown gate" in assert_problem(r, 422, "act-invalid")["detail"]
    r = await api.http.post(f"{base}/decisions", json={"gate": "budget_approved", "decision": "reject"},
                            headers=auth("finance_approver"))  # refused by the workflow, not the API
    assert "reason" in assert_problem(r, 422, "act-invalid")["detail"]
    r = await api.http.post(f"{base}/postpone", headers=auth("sponsor"),
                            json={"new_start": "2030-01-02T00:00:00Z", "new_end": "2030-01-01T00:00:00Z"})
    assert_problem(r, 422)
    r = await api.http.post("/events", json={"title": "x"}, headers=auth("project_manager"))
    assert {tuple(e["loc"]) for e in assert_problem(r, 422)["errors"]} >= {("body", "kind"), ("body", "start")}
    assert_problem(await api.http.get("/events/bad id!", headers=auth("viewer")), 422)


async def test_a_refused_act_is_said_in_the_reader_language(api: Api):
    """A refusal carries its message id and parameters; its detail is in the language the request prefers
    (the page's cookie, else Accept-Language by q-value), English by default and exactly as before; stage
    ids inside are named in that language."""
    eid = await api.start()
    await api.do("project_manager", f"/events/{eid}/tasks/theme_purpose/complete")
    again = f"/events/{eid}/tasks/theme_purpose/complete"
    english = assert_problem(await api.http.post(again, headers=auth("project_manager")), 409, "act-conflict")
    assert english["detail"] == "task theme_purpose is already done"
    assert english["message_id"] == "task %(task)s is already done" and english["params"] == {"task": "theme_purpose"}
    r = await api.http.post(again, headers={**auth("project_manager"), "Accept-Language": "fr,zh-CN;q=0.9,en;q=0.8"})
    assert assert_problem(r, 409, "act-conflict")["detail"] == "任务 theme_purpose 已完成"
    r = await api.http.post(again, headers={**auth("project_manager"), "Cookie": "convene_lang=zh-Hant"})
    assert assert_problem(r, 409, "act-conflict")["detail"] == "任務 theme_purpose 已完成"
    r = await api.http.post(f"/events/{eid}/decisions", json={"gate": "go_decision", "decision": "approve"},
                            headers={**auth("sponsor"), "Accept-Language": "zh"})
    body = assert_problem(r, 409, "act-conflict")
    assert "活动目前处于“前期准备”阶段" in body["detail"] and body["params"]["current"] == "preparation"


def test_a_refusal_from_an_event_without_message_ids_stays_english() -> None:
    """An update refused by a workflow that sends no message id (an event started before them) keeps its
    English detail in every language; a message the catalogue lacks is English too."""
    old = WorkflowUpdateFailedError(ApplicationError("task x is already done", type="Conflict"))
    assert to_problem(old, language="zh-Hans").body()["detail"] == "task x is already done"
    unknown = WorkflowUpdateFailedError(ApplicationError(
        "no such thing", {"message_id": "no such %(what)s", "params": {"what": "thing"}}, type="Invalid"))
    assert to_problem(unknown, language="zh-Hant").body()["detail"] == "no such thing"
    known = WorkflowUpdateFailedError(ApplicationError(
        "task x is already done", {"message_id": "task %(task)s is already done", "params": {"task": "x"}},
        type="Conflict"))
    assert to_problem(known, language="zh-Hant").body()["detail"] == "任務 x 已完成"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_503_when_temporal_cannot_be_reached(task_queue: str):
    """An app whose Temporal is down still starts: probes and calls answer 503 with Retry-After."""
    app = create_app(api_settings(task_queue, temporal_address=f"127.0.0.1:{_free_port()}",
                                  retry_after_seconds=7, reconnect_interval_seconds=0))
    async with serve(app) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        r = await http.get("/readyz")
        assert_problem(r, 503, "unavailable")
        assert r.headers["retry-after"] == "7"
        r = await http.get("/events/some-event", headers=auth("viewer"))
        assert_problem(r, 503, "unavailable")
        assert r.headers["retry-after"] == "7"
        r = await http.post("/events/some-event/cancel", json={"reason": "x"}, headers=auth("sponsor"))
        assert_problem(r, 503)
        r = await http.get("/definitions", headers=auth("viewer"))
        assert r.status_code == 200  # what needs no Temporal still works


async def test_503_when_temporal_answers_unavailable(api: Api, monkeypatch: pytest.MonkeyPatch):
    """An RPC failing with UNAVAILABLE (server restarting) is a 503, not a 500."""
    eid = await api.start()

    async def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise RPCError("connection reset", RPCStatusCode.UNAVAILABLE, b"")

    monkeypatch.setattr(api.env.client.workflow_service, "query_workflow", unavailable)
    r = await api.http.get(f"/events/{eid}", headers=auth("viewer"))
    assert_problem(r, 503, "unavailable")
    assert r.headers["retry-after"] == "5"
    monkeypatch.undo()
    assert (await api.http.get(f"/events/{eid}", headers=auth("viewer"))).status_code == 200


async def test_ready_and_healthy_with_temporal(api: Api):
    """With Temporal up both probes answer 200, without a token."""
    assert (await api.http.get("/healthz")).status_code == 200
    r = await api.http.get("/readyz")
    assert r.status_code == 200 and r.json()["temporal"] == "serving"


def test_update_failures_map_by_the_refusal_type():
    """The workflow's refusal types (ApplicationError.type) choose the status; RPC codes map too."""
    def status_of(exc: BaseException) -> int:
        return to_problem(exc).status

    assert status_of(WorkflowUpdateFailedError(ApplicationError("no", type="Forbidden"))) == 403
    assert status_of(WorkflowUpdateFailedError(ApplicationError("no", type="Conflict"))) == 409
    assert status_of(WorkflowUpdateFailedError(ApplicationError("no", type="Invalid"))) == 422
    # not a refusal (an update the server dropped as unprocessed): nothing applied, a resend fixes it
    unprocessed = to_problem(WorkflowUpdateFailedError(ApplicationError("boom", type="Other")), retry_after=7)
    assert unprocessed.status == 503 and unprocessed.headers == {"Retry-After": "7"}
    assert status_of(RPCError("Timeout expired", RPCStatusCode.CANCELLED, b"")) == 503  # our own rpc_timeout
    assert status_of(RPCError("gone", RPCStatusCode.NOT_FOUND, b"")) == 404
    problem = to_problem(RPCError("down", RPCStatusCode.UNAVAILABLE, b""), retry_after=9)
    assert problem.status == 503 and problem.headers == {"Retry-After": "9"}
    assert to_problem(RuntimeError("Failed client connect: refused")).status == 503
    assert to_problem(ValueError("bug")).status == 500


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_logs_carry_request_and_event_ids_but_never_tokens(api: Api):
    """Each line of a request has its request id (echoed as X-Request-ID) and event id; no token is ever written."""
    eid = await api.start()
    seen = _Records()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)  # logging is configured once per process, maybe by an app at WARNING
    root.addHandler(seen)
    try:
        r = await api.http.post(f"/events/{eid}/tasks/theme_purpose/complete",
                                headers=auth("project_manager") | {"X-Request-ID": "req-abc.1"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "req-abc.1"
        bad = await api.http.get("/events/x", headers={"Authorization": "Bearer secret-wrong-token"})
        assert bad.status_code == 401 and len(bad.headers["x-request-id"]) == 32
    finally:
        root.removeHandler(seen)
        root.setLevel(level)
    lines = [r.msg for r in seen.records if isinstance(r.msg, dict)]
    applied = next(line for line in lines if line.get("event") == "act applied")
    assert applied["request_id"] == "req-abc.1" and applied["event_id"] == eid and applied["principal"] == "pia"
    access = [line for line in lines if line.get("event") == "request"]
    assert {a["route"] for a in access} >= {"/events/{event_id}/tasks/{task_id}/complete", "/events/{event_id}"}
    everything = " ".join(str(r.msg) + str(r.args) for r in seen.records)
    assert TOKENS["project_manager"] not in everything and "secret-wrong-token" not in everything
