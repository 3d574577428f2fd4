"""The API under test: the real app over httpx's ASGI transport, on the shared dev server, with a worker.

Every principal here matches a person of ``tests.support.team()`` (same id, same role), so
what the API allows the workflow allows too; ``vic`` only views, ``max`` holds two roles.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api import ApiSettings, create_app
from api.auth import hash_token
from tests.support import RecordingActivities, conference
from worker import build_worker

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
}
ROLES = [k for k in PRINCIPALS if k != "multi"]
"""Every role of a conference, plus viewer."""

TOKENS = {key: f"token-{key}-{uuid.uuid4().hex}" for key in PRINCIPALS}
"""Plaintext tokens the tests present; the app only ever sees their hashes."""


def tokens_json() -> str:
    return json.dumps({"principals": [
        {"id": pid, "name": pid.title(), "roles": roles, "tokens": [hash_token(TOKENS[key])]}
        for key, (pid, roles) in PRINCIPALS.items()
    ]})


def api_settings(task_queue: str, **overrides: Any) -> ApiSettings:
    fields: dict[str, Any] = dict(task_queue=task_queue, archive_root="/tmp/convene-test-archive",
                                  tokens=tokens_json(), tokens_file=None, log_json=True)
    fields.update(overrides)
    return ApiSettings(**fields)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[key]}"}


def event_body(event_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A conference 120 days ahead, as JSON; its team is the principals above."""
    details = conference(datetime.now(timezone.utc), event_id=event_id or f"api-{uuid.uuid4().hex[:12]}", **overrides)
    return details.model_dump(mode="json")


@dataclass
class Api:
    app: FastAPI
    http: httpx.AsyncClient
    env: WorkflowEnvironment
    task_queue: str
    stand_ins: RecordingActivities

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


@pytest_asyncio.fixture
async def api(dev_env: WorkflowEnvironment, task_queue: str, stand_ins: RecordingActivities) -> AsyncIterator[Api]:
    """The API on the dev server's client, with a worker on the same (fresh) task queue."""
    settings = api_settings(task_queue)
    app = create_app(settings, client=dev_env.client)
    async with build_worker(dev_env.client, settings, activities=stand_ins.all()):
        async with serve(app) as http:
            yield Api(app=app, http=http, env=dev_env, task_queue=task_queue, stand_ins=stand_ins)
