"""The API under test: the real app over httpx's ASGI transport, on the shared dev server, with a worker.

Every principal here matches a person of ``tests.support.team()`` (same id, same role), so
what the API allows the workflow allows too; ``vic`` only views, ``max`` holds two roles.

The app and the worker share one roster database: ``api`` uses a SQLite file in the test's
tmp_path, ``api_db`` the parametrized ``database_url`` (SQLite and PostgreSQL) for the tests
that must hold on both. The worker runs the real roster activities (``sync_event``,
``record_audit``, ``send_invitations``...) and notifier on that database, with every send
recorded instead of made (:func:`roster_activities`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from activities import Notifier, SmtpConfig, build_activities
from api import ApiSettings, create_app
from api.auth import hash_token
from store import Database, Roster
from tests.support import RecordingActivities, conference
from worker import build_worker
from workflows.messages import DeliveryRecord, EventFacts, NotificationRequest

PRINCIPALS: dict[str, tuple[str, list[str]]] = {
    # key: (principal id, roles)
    "viewer": ("vic", ["viewer"]),
    "project_manager": ("pia", ["project_manager"]),
    "finance": ("fay", ["finance"]),
    "finance_approver": ("finn", ["finance_approver"]),
    "sponsor": ("sam", ["sponsor"]),
    "activity_planner": ("pat", ["activity_planner"]),
    "pr_communications": ("prue", ["pr_communications"]),
    "venue_coordinator": ("val", ["venue_coordinator"]),
    "technical_support": ("ted", ["technical_support"]),
    "on_site_command": ("cole", ["on_site_command"]),
    "multi": ("max", ["finance", "finance_approver"]),
    # a second team, of a confidential board meeting (tests.api.test_read_scope), and viewers granted less
    "secretary": ("sue", ["secretary"]),
    "chair": ("cal", ["chair"]),
    "board_member": ("bea", ["board_member"]),
    "viewer_of_kind": ("vik", ["viewer"]),
    "viewer_of_event": ("vee", ["viewer"]),
    "viewer_of_nothing": ("vera", ["viewer"]),
    # grants by organisation (CONVENE_GRANTS, below) and the organisations' admins
    "viewer_of_org": ("vio", ["viewer"]),
    "member_of_org": ("mo", ["viewer"]),
    "member_of_kind": ("mika", ["viewer"]),
    "org_admin": ("ida", ["organisation_admin"]),
    "operator": ("oscar", ["operator"]),
}
SECOND_TEAM = ("secretary", "chair", "board_member")
SCOPED_VIEWERS = ("viewer_of_kind", "viewer_of_event", "viewer_of_nothing", "viewer_of_org", "member_of_org",
                  "member_of_kind")
ADMINS = ("org_admin", "operator")
ROLES = [k for k in PRINCIPALS if k not in ("multi", *SECOND_TEAM, *SCOPED_VIEWERS, *ADMINS)]
"""Every role of a conference, plus viewer."""

GRANTED_EVENT = f"granted-{uuid.uuid4().hex[:10]}"
"""The one event ``vee`` is granted by id (started by the read-scope matrix)."""
GRANTS: dict[str, dict[str, list[str]]] = {
    "viewer": {"kinds": ["*"]},  # vic audits: the other tests read every event they start as him
    "viewer_of_kind": {"kinds": ["board_meeting"]},
    "viewer_of_event": {"events": [GRANTED_EVENT]},
    "org_admin": {"administers": ["Northwind"]},
    "operator": {"administers": ["*"]},
}
ORGANISATIONS = {
    # pia's events are Northwind's, sue's (the board meeting) Contoso's
    "project_manager": "Northwind", "secretary": "Contoso",
    "member_of_org": "Northwind", "member_of_kind": "Fabrikam", "viewer_of_nothing": "Initech",
}
"""Each principal's organisation (the tokens file's, as an OIDC claim would give it)."""
CONFIG_GRANTS: dict[str, Any] = {
    "principals": {"vio": {"organisations": ["Contoso"]}},  # by principal id: every Contoso event
    "organisations": {
        "Northwind": {"organisations": ["Northwind"]},  # everyone of Northwind: its events
        "Fabrikam": {"kinds": ["board_meeting"]},  # everyone of Fabrikam: every board meeting
    },
}
"""``CONVENE_GRANTS`` of the apps under test (api/grants.py); Initech is granted nothing."""

TOKENS = {key: f"token-{key}-{uuid.uuid4().hex}" for key in PRINCIPALS}
"""Plaintext tokens the tests present; the app only ever sees their hashes."""


def tokens_json() -> str:
    return json.dumps({"principals": [
        {"id": pid, "name": pid.title(), "roles": roles, "tokens": [hash_token(TOKENS[key])],
         **({"grants": GRANTS[key]} if key in GRANTS else {}),
         **({"organisation": ORGANISATIONS[key]} if key in ORGANISATIONS else {})}
        for key, (pid, roles) in PRINCIPALS.items()
    ]})


def api_settings(task_queue: str, **overrides: Any) -> ApiSettings:
    """Settings for an app under test; without a ``database_url`` its database is an in-memory SQLite
    (for apps that never read a roster: each connection would see its own)."""
    fields: dict[str, Any] = dict(task_queue=task_queue, archive_root="/tmp/convene-test-archive",
                                  tokens=tokens_json(), tokens_file=None, log_json=True,
                                  database_url="sqlite+aiosqlite:///:memory:", invitations_per_second=0,
                                  grants=CONFIG_GRANTS)
    fields.update(overrides)
    return ApiSettings(**fields)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[key]}"}


def event_body(event_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A conference 120 days ahead, as JSON; its team is the principals above."""
    details = conference(datetime.now(timezone.utc), event_id=event_id or f"api-{uuid.uuid4().hex[:12]}", **overrides)
    return details.model_dump(mode="json")


def _name(fn: Any) -> str:
    return activity._Definition.must_from_callable(fn).name


class RecordingNotifier(Notifier):
    """The real notifier (its journal, its keys, its outcomes) with the channels replaced by a record:
    every message is appended to the stand-ins' notifications and answered sent (or fails, for the
    stand-ins' unreachable people)."""

    def __init__(self, stand_ins: RecordingActivities) -> None:
        super().__init__(smtp=SmtpConfig(), webhook_secret="test-secret")
        self.stand_ins = stand_ins

    async def _deliver(self, request: NotificationRequest) -> DeliveryRecord:
        if request.recipient.person_id in self.stand_ins.unreachable:
            raise RuntimeError(f"mail relay unreachable for {request.recipient.person_id}")
        self.stand_ins.notifications.append(request)
        r = request.recipient
        return DeliveryRecord(key=request.key, kind=request.kind, channel=request.channel,
                              to=r.email or r.person_id or r.role, status="sent", at=datetime.now(timezone.utc))


ROSTER_ACTIVITIES = {"send_notification", "record_audit", "sync_event", "send_invitations", "notify_roster",
                     "promote_waitlist",
                     "import_legacy_record"}


def roster_activities(settings: ApiSettings, stand_ins: RecordingActivities, db: Database) -> list[Any]:
    """The worker's activities: the real roster activities and notifier on `db` (the app's database), with
    sends recorded instead of made; the stand-ins for the dossier and the bookings."""
    real = build_activities(settings, notifier=RecordingNotifier(stand_ins), database=db)
    mine = [fn for fn in real if _name(fn) in ROSTER_ACTIVITIES]
    assert {_name(fn) for fn in mine} == ROSTER_ACTIVITIES
    return [*mine, *(fn for fn in stand_ins.all() if _name(fn) not in ROSTER_ACTIVITIES)]


@dataclass
class Api:
    app: FastAPI
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    task_queue: str
    stand_ins: RecordingActivities
    db: Database | None = None
    """The worker's connection to the roster database the app uses too (each has its own, as two processes)."""

    @property
    def roster(self) -> Roster:
        assert self.db is not None
        return Roster(self.db)

    async def ready(self, event_id: str, seconds: float = 15.0, **facts: Any) -> EventFacts:
        """Wait until the event's facts in the roster database say `facts` (by default: that it is there)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            found = await self.roster.facts(event_id)
            if found is not None and all(getattr(found, k) == v for k, v in facts.items()):
                return found
            assert asyncio.get_running_loop().time() < deadline, f"{event_id}: facts {found} never showed {facts}"
            await asyncio.sleep(0.05)

    async def state(self, event_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/events/{event_id}", headers=auth("viewer"))
        assert r.status_code == 200, r.text
        return r.json()

    async def start(self, **overrides: Any) -> str:
        body = event_body(**overrides)
        r = await self.http.post("/events", json=body, headers=auth("project_manager"))
        assert r.status_code == 201, r.text
        return body["id"]

    async def do(self, key: str, path: str, body: dict[str, Any] | None = None, expect: int = 200,
                 **headers: str) -> dict[str, Any]:
        r = await self.http.post(path, json=body, headers=auth(key) | headers)
        assert r.status_code == expect, f"{key} {path}: {r.status_code} {r.text}"
        return r.json()


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, behind an httpx client speaking ASGI (the real HTTP stack, no socket)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://convene.test", timeout=30) as http:
            yield http


@asynccontextmanager
async def api_on(env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities,
                 database_url: str, **overrides: Any) -> AsyncIterator[Api]:
    """The API on the dev server's client and `database_url`, with a worker on the same task queue and database."""
    settings = api_settings(task_queue, database_url=database_url, **overrides)
    db = Database(database_url, pool_size=4)
    await db.migrate()
    try:
        app = create_app(settings, client=env.client)
        async with build_worker(env.client, settings, activities=roster_activities(settings, stand_ins, db)):
            async with serve(app) as http:
                yield Api(app=app, http=http, env=env, task_queue=task_queue, stand_ins=stand_ins, db=db)
    finally:
        await db.dispose()


@pytest_asyncio.fixture
async def api(dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities,
              tmp_path: Path) -> AsyncIterator[Api]:
    """The API on the dev server's client and a SQLite file, with a worker on the same (fresh) task queue."""
    async with api_on(dev_env, task_queue, stand_ins, f"sqlite+aiosqlite:///{tmp_path / 'convene.db'}") as it:
        yield it


@pytest_asyncio.fixture
async def api_db(dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities,
                 database_url: str) -> AsyncIterator[Api]:
    """The same API and worker on each database the tests run on (SQLite, then PostgreSQL)."""
    async with api_on(dev_env, task_queue, stand_ins, database_url) as it:
        yield it
