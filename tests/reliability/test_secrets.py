"""Secrets stay secret: a whole scenario with API tokens, an SMTP password, a webhook secret and a token in a
webhook URL, every log line captured (the API's structlog JSON in this process, the worker process's whole
output at DEBUG, Temporal's core included), and none of the secrets appears. Webhooks are verified by the
subscriber with HMAC-SHA256 over the body.

The authorisation matrix (every mutating route x every role, and a failing test when a new route has no
row) is ``tests/api/test_authorisation.py``; it is not repeated here.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from temporalio.testing import WorkflowEnvironment

from api import create_app
from convene.logs import configure
from tests.activities.support import Inbox
from tests.api.conftest import TOKENS, api_settings, auth, event_body, serve
from tests.reliability.support import database_url, WorkerProcess, free_port, signature, webhook_receiver
from tests.support import RecordingActivities
from worker import build_worker

SMTP_USER, SMTP_PASSWORD = "convene-mailer", "smtp-pw-" + uuid.uuid4().hex
WEBHOOK_SECRET = "whsec-" + uuid.uuid4().hex
URL_TOKEN = "urltok-" + uuid.uuid4().hex


class CapturedLogs:
    """Everything the root logger writes, rendered by the app's own formatter (structlog JSON)."""

    def __init__(self) -> None:
        configure("DEBUG", json=True)
        root = logging.getLogger()
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(root.handlers[0].formatter if root.handlers else logging.Formatter())
        self.level = root.level

    def __enter__(self) -> CapturedLogs:
        root = logging.getLogger()
        root.addHandler(self.handler)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: Any) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.level)

    def text(self) -> str:
        return self.stream.getvalue()


async def test_no_secret_reaches_any_log_and_webhooks_verify(dev_env: WorkflowEnvironment, tmp_path: Path,
                                                              task_queue: str):
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok)

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                      auth_require_tls=False, auth_required=True)
    smtp.start()
    address = dev_env.client.service_client.config.target_host
    worker = WorkerProcess(address, task_queue, tmp_path, extra_env={
        "CONVENE_SMTP_HOST": "127.0.0.1", "CONVENE_SMTP_PORT": str(smtp.port), "CONVENE_SMTP_USERNAME": SMTP_USER,
        "CONVENE_SMTP_PASSWORD": SMTP_PASSWORD, "CONVENE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CONVENE_LOG_LEVEL": "DEBUG", "RUST_LOG": "debug",
    })
    secrets = [SMTP_PASSWORD, WEBHOOK_SECRET, URL_TOKEN, *TOKENS.values()]
    try:
        await worker.start()
        with webhook_receiver(secret=WEBHOOK_SECRET) as receiver, CapturedLogs() as logs:
            app = create_app(api_settings(task_queue, log_level="DEBUG", database_url=database_url(tmp_path)),
                             client=dev_env.client)  # the worker's roster database: deliveries are read there
            async with serve(app) as http:
                event_id = f"secret-{uuid.uuid4().hex[:8]}"
                body = event_body(event_id, webhooks=[receiver.url(token=URL_TOKEN)])
                r = await http.post("/events", json=body, headers=auth("project_manager"))
                assert r.status_code == 201, r.text
                e = f"/events/{event_id}"
                for who, task in [("project_manager", "theme_purpose"), ("project_manager", "date_checked"),
                                  ("project_manager", "team_assigned"), ("venue_coordinator", "site_inspection"),
                                  ("venue_coordinator", "venue_booked"), ("finance", "budget_draft")]:
                    r = await http.post(f"{e}/tasks/{task}/complete", headers=auth(who))
                    assert r.status_code == 200, r.text
                r = await http.post(f"{e}/budget", headers=auth("finance"), json={"lines": [
                    {"category": "venue", "planned": "1000"}, {"category": "contingency", "planned": "100"}]})
                assert r.status_code == 200, r.text
                # A refused act and a wrong token: error paths log too.
                r = await http.post(f"{e}/decisions", headers=auth("finance"),
                                    json={"gate": "budget_approved", "decision": "approve"})
                assert r.status_code == 403
                r = await http.get(e, headers={"Authorization": f"Bearer {TOKENS['finance']}x"})
                assert r.status_code == 401
                r = await http.post(f"{e}/decisions", headers=auth("finance_approver"),
                                    json={"gate": "budget_approved", "decision": "approve", "reason": "fine"})
                assert r.status_code == 200 and r.json()["result"]["stage"] == "planning", r.text
                # The stage change mails the owner and planners (SMTP with AUTH) and posts to the webhook.
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    view = (await http.get(e, headers=auth("viewer"))).json()
                    sent = [d for d in view["deliveries"] if d["channel"] in ("email", "webhook")]
                    if len(sent) >= 4 and all(d["status"] != "failed" for d in sent) and receiver.hits:
                        break
                    await asyncio.sleep(0.3)
                assert {d["channel"] for d in sent} == {"email", "webhook"} and all(d["status"] == "sent" for d in sent), sent
                assert inbox.messages and logins and all(p == SMTP_PASSWORD.encode() for _, p in logins)
        # The subscriber verifies every webhook: HMAC-SHA256 of the exact body with the shared secret.
        assert receiver.hits and receiver.unsigned() == 0
        for hit in receiver.hits:
            assert signature(WEBHOOK_SECRET, hit.body) == signature(receiver.secret, hit.body)
            assert json.loads(hit.body)["event_id"] == event_id
        forged = receiver.receive({"idempotency-key": "forged", "x-convene-signature": signature("guess", b"{}")}, b"{}")
        assert forged == 401
        await asyncio.sleep(0.5)  # the worker's last lines
    finally:
        await worker.kill()
        smtp.stop()
    captured = {"api (in-process structlog JSON)": logs.text(), "worker process (stdout+stderr, DEBUG)": worker.output()}
    assert "act applied" in captured["api (in-process structlog JSON)"]
    assert "email sent" in captured["worker process (stdout+stderr, DEBUG)"]
    leaks = {(where, s[:12] + "...") for where, text in captured.items() for s in secrets if s in text}
    assert not leaks, f"secrets in logs: {sorted(leaks)}"
    print(f"\nlogs checked: " + ", ".join(f"{k}: {len(v):,} chars" for k, v in captured.items()))


PUBLIC_READS = {
    "/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
    # The dashboard's pages are public shells: their data comes from the JSON API with the person's token.
    "/", "/ui", "/ui/", "/ui/signin", "/ui/board", "/ui/inbox", "/ui/events/{event_id}",
    # One-click sign-in for the local dev stack: answers [] unless the app was given dev_sign_in
    # (tests/api/test_page_helpers.py checks both sides).
    "/ui/api/dev-people",
    # A person's own page and what it offers (their link is the permission: tests/api/test_personal.py), an open
    # event's registration form (tests/api/test_registration.py), and the check-in desk's page shell.
    "/p/{token}", "/p/{token}/event.ics", "/p/{token}/ticket.svg", "/r/{event_id}", "/ui/events/{event_id}/desk",
    # A board member's papers, each file (their papers link is the permission: tests/api/test_documents.py).
    "/p/{token}/papers/{doc_id}",
    # The operators' Prometheus scrape (counts by stage, no event named); sign-in through the identity
    # provider starts and ends without a token (tests/api/test_signin.py).
    "/auth/login", "/auth/callback", "/metrics",
}
"""Read routes anyone may call. A new read route is refused a token-less call, or this test fails until it
is listed here on purpose (the matrix in tests/api/test_authorisation.py does the same for mutating routes)."""


async def test_every_read_route_outside_the_public_list_needs_a_token(dev_env: WorkflowEnvironment, task_queue: str):
    from fastapi.routing import iter_route_contexts

    app = create_app(api_settings(task_queue), client=dev_env.client)
    reads = sorted({rc.path for rc in iter_route_contexts(app.routes)
                    if "GET" in (getattr(rc.original_route, "methods", None) or set())})
    params = {"event_id": "no-such-event", "kind": "conference", "fmt": "csv", "token": "no-such-link", "key": "k-1",
              "doc_id": "0" * 24, "organisation": "Northwind"}
    async with serve(app) as http:
        for path in reads:
            if path in PUBLIC_READS:
                continue
            r = await http.get(path.format(**params))
            assert r.status_code == 401, f"GET {path} without a token answered {r.status_code}"
            r = await http.get(path.format(**params), headers={"Authorization": "Bearer not-a-token"})
            assert r.status_code == 401, f"GET {path} with a wrong token answered {r.status_code}"
    assert len(reads) - len(PUBLIC_READS & set(reads)) >= 9, reads


async def test_webhook_url_tokens_are_not_shown_to_viewers(dev_env: WorkflowEnvironment, task_queue: str):
    """A viewer reading an event sees its webhook URLs without the token in their query."""
    app = create_app(api_settings(task_queue), client=dev_env.client)
    async with build_worker(dev_env.client, api_settings(task_queue), activities=RecordingActivities().all()):
        async with serve(app) as http:
            event_id = f"hook-{uuid.uuid4().hex[:8]}"
            body = event_body(event_id, webhooks=[f"https://hooks.example.org/convene?token={URL_TOKEN}"])
            assert (await http.post("/events", json=body, headers=auth("project_manager"))).status_code == 201
            r = await http.get(f"/events/{event_id}", headers=auth("viewer"))
            assert r.status_code == 200
    assert URL_TOKEN not in r.text
