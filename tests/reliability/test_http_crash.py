"""Acts over HTTP through two API processes while the worker is SIGKILLed and restarted (issue 19), short form.

Two ``uvicorn api.main:app`` processes share the roster database and the dev server; one ``python
worker.py`` is SIGKILLed twice and started again. Clients send each act to either API at random and resend
it with the same ``Idempotency-Key`` (to either API) on a dropped connection, a 503 or a 409 "in
progress", until they get a definite answer, as the README asks of them. Each event's approval is first
tried before the budget draft (refused), then resent with the same key once the draft is done: it must be
refused again. Afterwards: every act answered 2xx is in its event's audit exactly once with the seq it was
answered (the event's own audit); every act answered 4xx is nowhere; no answer was a 500; ``GET /events/{id}/acts/{key}`` agrees
with every final answer. The p99 of acts outside the outage windows is printed.

``CONVENE_HTTP_CRASH_EVENTS`` events (default 6); about 40 s on 2 cores.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.api.conftest import event_body
from tests.reliability.support import WorkerProcess, dev_server, env_int, percentile
from tests.reliability.test_load import ApiProcess, bearer
from workflows.client import state

EVENTS = env_int("CONVENE_HTTP_CRASH_EVENTS", 6)
IN_PROGRESS = "/problems/act-in-progress"


class Clients:
    """Resending clients in front of several APIs; every attempt's status and every final answer kept."""

    def __init__(self, https: list[httpx.AsyncClient], rng: random.Random) -> None:
        self.https = https
        self.rng = rng
        self.statuses: Counter[int] = Counter()
        self.final: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}  # (event, key) -> answer
        self.timings: list[tuple[float, float]] = []  # (sent at, seconds) of each attempt answered
        self.resends = 0

    async def send(self, who: str, path: str, body: dict[str, Any] | None, key: str | None = None,
                   ok: tuple[int, ...] = (200,)) -> tuple[int, dict[str, Any]]:
        deadline = time.monotonic() + 90
        headers = bearer(who) | ({"Idempotency-Key": key} if key else {})
        while True:
            assert time.monotonic() < deadline, f"{path} {key}: no definite answer in 90 s"
            http = self.rng.choice(self.https)
            sent = time.monotonic()
            try:
                r = await http.post(path, json=body, headers=headers)
            except httpx.TransportError:
                self.resends += 1
                await asyncio.sleep(0.3)
                continue
            self.statuses[r.status_code] += 1
            self.timings.append((sent, time.monotonic() - sent))
            data = r.json()
            if r.status_code == 503 or (r.status_code == 409 and data.get("type") == IN_PROGRESS):
                self.resends += 1
                await asyncio.sleep(min(float(r.headers.get("Retry-After", "1")), 1.0))
                continue
            assert r.status_code < 500, f"{path}: {r.status_code} {r.text[:300]}"
            return r.status_code, data

    async def act(self, event_id: str, who: str, path: str, body: dict[str, Any] | None, key: str) -> int:
        status, data = await self.send(who, f"/events/{event_id}{path}", body, key)
        earlier = self.final.get((event_id, key))
        if earlier is not None:
            assert (status, data.get("result") or data.get("detail")) == (
                earlier[0], earlier[1].get("result") or earlier[1].get("detail")), (key, earlier, data)
        self.final[(event_id, key)] = (status, data)
        return status

    async def one_event(self, prefix: str, n: int) -> str:
        body = event_body(f"{prefix}-{n:03d}")
        event_id = body["id"]
        status, data = await self.send("project_manager", "/events", body)
        assert status in (200, 201), data
        k = lambda name: f"{event_id}.{name}"  # noqa: E731
        for who, task in (("project_manager", "theme_purpose"), ("project_manager", "date_checked"),
                          ("project_manager", "team_assigned"), ("venue_coordinator", "site_inspection"),
                          ("venue_coordinator", "venue_booked")):
            assert await self.act(event_id, who, f"/tasks/{task}/complete", None, k(task)) == 200
        assert await self.act(event_id, "finance", "/budget", {"lines": [
            {"category": "venue", "planned": "40000"}, {"category": "contingency", "planned": "8000"}]},
            k("budget")) == 200
        approve = {"gate": "budget_approved", "decision": "approve"}
        assert await self.act(event_id, "finance_approver", "/decisions", approve, k("early")) == 409
        assert await self.act(event_id, "finance", "/tasks/budget_draft/complete", None, k("draft")) == 200
        assert await self.act(event_id, "finance_approver", "/decisions", approve, k("early")) == 409  # final
        both = await asyncio.gather(*(self.act(event_id, "finance_approver", "/decisions", approve, k("approve"))
                                      for _ in range(2)))  # a double click, to either API
        assert both == [200, 200]
        return event_id


async def _audit_keys(client: Client, event_id: str) -> dict[str, list[int]]:
    """The seqs of each key in the event's own audit (the workflow's record: its newest 50 entries, here all
    of them). The database's copy is written beside the workflow's loop and may lag: after a SIGKILL during
    a ``record_audit``, by that activity's 1-minute start-to-close timeout."""
    view = await state(client, event_id, rpc_timeout=timedelta(seconds=30))
    assert len(view.audit) < 50, "more entries than the workflow keeps: this check would miss some"
    seqs: dict[str, list[int]] = {}
    for entry in view.audit:
        if entry.key:
            seqs.setdefault(entry.key, []).append(entry.seq)
    return seqs


async def test_http_acts_through_two_apis_and_worker_kills_are_each_decided_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
):
    """Two APIs, resending clients, the worker SIGKILLed twice: every answer holds, nothing lost or doubled."""
    address = dev_env.client.service_client.config.target_host
    worker = WorkerProcess(address, f"httpcrash-{uuid.uuid4().hex[:8]}", tmp_path)

    async def outage(rng: random.Random) -> None:
        await worker.kill()
        await asyncio.sleep(rng.uniform(1.0, 2.5))
        await worker.start()

    await _crash_run(dev_env.client, address, worker, outage, "worker_kills", tmp_path)


async def test_http_acts_through_two_apis_and_temporal_server_restarts_are_each_decided_once(tmp_path: Path):
    """The same, with the Temporal server itself SIGKILLed twice and started again on its file and port: the
    APIs answer 503 meanwhile (bounded waits), the clients resend, and every answer still holds."""
    server = dev_server(tmp_path / "temporal" / "temporal.db")
    await server.start()
    client = await server.ready()
    worker = WorkerProcess(server.address, f"httprestart-{uuid.uuid4().hex[:8]}", tmp_path)

    async def outage(rng: random.Random) -> None:
        await server.kill()
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        await server.start()
        await server.ready()

    try:
        await _crash_run(client, server.address, worker, outage, "server_restarts", tmp_path)
    finally:
        await server.kill()


async def _crash_run(client: Client, address: str, worker: WorkerProcess, outage: Any, what: str,
                     tmp_path: Path) -> None:
    task_queue = worker.task_queue
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    await worker.start()
    outages: list[tuple[float, float]] = []
    first, second = ApiProcess(address, task_queue, tmp_path), ApiProcess(address, task_queue, tmp_path)
    second.log = tmp_path / "api-2.log"
    for api in (first, second):
        api.env["CONVENE_TEMPORAL_RPC_TIMEOUT_SECONDS"] = "3"
    try:
        async with first, second:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as h1, \
                    httpx.AsyncClient(base_url=second.url, timeout=30) as h2:
                clients = Clients([h1, h2], rng)

                async def kills() -> None:
                    for pause in (1.5, 4.0):
                        await asyncio.sleep(pause)
                        down = time.monotonic()
                        await outage(rng)
                        outages.append((down, time.monotonic() + 5))  # a new worker takes a few seconds

                started = time.monotonic()
                prefix = f"hc-{uuid.uuid4().hex[:6]}"
                killer = asyncio.ensure_future(kills())
                ids = await asyncio.gather(*(clients.one_event(prefix, n) for n in range(EVENTS)))
                await killer
                elapsed = time.monotonic() - started

                lost, doubled, misplaced, stray, disagree = [], [], [], [], []
                for event_id in ids:
                    seqs = await _audit_keys(client, event_id)
                    for (eid, key), (status, data) in clients.final.items():
                        if eid != event_id:
                            continue
                        found = seqs.get(key, [])
                        if status == 200:
                            lost += [key] if not found else []
                            doubled += [key] if len(found) > 1 else []
                            misplaced += [key] if found and found[0] != data["result"]["seq"] else []
                        elif found:
                            stray.append(key)
                        asked = (await h2.get(f"/events/{event_id}/acts/{key}",
                                              headers=bearer("project_manager"))).json()
                        want = "accepted" if status == 200 else "refused"
                        if asked.get("status") != want:
                            disagree.append((key, want, asked.get("status")))
                assert not (lost or doubled or misplaced or stray or disagree), (lost, doubled, misplaced, stray, disagree)
                assert not [s for s in clients.statuses if s >= 500 and s != 503], clients.statuses
    finally:
        await worker.kill()
    calm = [d for at, d in clients.timings if not any(a <= at <= b for a, b in outages)]
    figures = {
        "seed": seed, "events": EVENTS, "acts": len(clients.final), "attempts": sum(clients.statuses.values()),
        "resends": clients.resends, "statuses": dict(clients.statuses), what: len(outages),
        "seconds": round(elapsed, 1), "p50_ms_outside_outages": round(percentile(calm, 50) * 1000),
        "p99_ms_outside_outages": round(percentile(calm, 99) * 1000),
    }
    print(f"\nhttp crash ({what}): {json.dumps(figures)}")
