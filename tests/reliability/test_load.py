"""Load over real HTTP: the API under uvicorn in its own process, a `python worker.py`, the dev server.

Events are started with ``POST /events`` and driven through their first gates (the theme task, the
budget, its draft, the finance approver's decision; the long form does all of preparation and enters
planning) by the principals of ``tests.api.conftest``, many at once. Each approval is posted twice at the
same moment with one ``Idempotency-Key`` (a double click). Afterwards the gates have passed and every act
is in its event's audit log exactly once: nothing lost, nothing doubled. Throughput and p50/p99 latency
(of every act request) are printed, not asserted.

Short form: ``CONVENE_LOAD_EVENTS`` events (default 50). Long form (``-m slow``):
``CONVENE_LOAD_EVENTS_LONG`` (default 1000). ``CONVENE_LOAD_CONCURRENCY`` events in flight (default 25).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.conftest import TOKENS, event_body, tokens_json
from tests.reliability.support import ROOT, WorkerProcess, env_int, free_port, percentile, worker_env

SHORT = env_int("CONVENE_LOAD_EVENTS", 50)
LONG = env_int("CONVENE_LOAD_EVENTS_LONG", 1000)
CONCURRENCY = env_int("CONVENE_LOAD_CONCURRENCY", 25)


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}


class ApiProcess:
    """``uvicorn --factory api.main:app`` on a free port, configured from the environment like production."""

    def __init__(self, address: str, task_queue: str, tmp: Path) -> None:
        self.port = free_port()
        self.env = worker_env(address, task_queue, tmp, CONVENE_TOKENS=tokens_json(), CONVENE_LOG_LEVEL="WARNING")
        self.log = tmp / "api.log"
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ApiProcess:
        with self.log.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "uvicorn", "--factory", "api.main:app", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log", "--log-level", "warning",
                cwd=ROOT, env=self.env, stdout=log, stderr=log,
            )
        async with httpx.AsyncClient(base_url=self.url) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                if self.proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the API did not come up: {self.log.read_text()[-2000:]}")
                await asyncio.sleep(0.2)

    async def __aexit__(self, *exc: Any) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


class Load:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.sent: dict[str, list[str]] = {}  # event id -> keys of acts answered 200

    async def post(self, who: str, path: str, body: dict[str, Any] | None, key: str, event_id: str) -> dict[str, Any]:
        """One act, retried with the same key on a 503 or a dropped connection (what the API asks clients to do)."""
        for attempt in range(20):
            started = time.perf_counter()
            try:
                r = await self.http.post(path, json=body, headers=bearer(who) | {"Idempotency-Key": key})
            except httpx.TransportError:
                await asyncio.sleep(0.5)
                continue
            self.latencies.append(time.perf_counter() - started)
            self.statuses[r.status_code] += 1
            if r.status_code == 503:
                await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:500]}"
            self.sent.setdefault(event_id, []).append(key)
            return r.json()
        raise AssertionError(f"{path}: no answer after 20 attempts")

    async def one_event(self, prefix: str, n: int, full: bool) -> str:
        """Start an event and pass its first gates (theme, budget); with `full`, all of preparation's."""
        body = event_body(f"{prefix}-{n:05d}")
        event_id = body["id"]
        r = await self.http.post("/events", json=body, headers=bearer("project_manager"))
        assert r.status_code == 201, r.text
        e = f"/events/{event_id}"
        tasks = [("project_manager", "theme_purpose")]
        if full:
            tasks += [("project_manager", "date_checked"), ("project_manager", "team_assigned"),
                      ("venue_coordinator", "site_inspection"), ("venue_coordinator", "venue_booked")]
        for who, task in tasks:
            await self.post(who, f"{e}/tasks/{task}/complete", None, f"{event_id}.{task}", event_id)
        await self.post("finance", f"{e}/budget", {"lines": [
            {"category": "venue", "planned": "40000"}, {"category": "catering", "planned": "30000"},
            {"category": "contingency", "planned": "8000"}]}, f"{event_id}.budget", event_id)
        await self.post("finance", f"{e}/tasks/budget_draft/complete", {"note": "v1"}, f"{event_id}.draft", event_id)
        decision = {"gate": "budget_approved", "decision": "approve", "reason": "within plan"}
        first, second = await asyncio.gather(
            self.post("finance_approver", f"{e}/decisions", decision, f"{event_id}.approve", event_id),
            self.post("finance_approver", f"{e}/decisions", decision, f"{event_id}.approve", event_id),
        )
        assert first["result"] == second["result"], "one key, one answer"
        assert first["result"]["stage"] == ("planning" if full else "preparation"), first["result"]
        return event_id


async def run_load(env: WorkflowEnvironment, tmp: Path, events: int, concurrency: int, full: bool) -> dict[str, Any]:
    address = env.client.service_client.config.target_host
    task_queue = f"load-{uuid.uuid4().hex[:8]}"
    worker = WorkerProcess(address, task_queue, tmp)
    await worker.start()
    prefix = f"load-{uuid.uuid4().hex[:6]}"
    try:
        async with ApiProcess(address, task_queue, tmp) as api:
            limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
            async with httpx.AsyncClient(base_url=api.url, timeout=60, limits=limits) as http:
                load = Load(http)
                gate = asyncio.Semaphore(concurrency)

                async def bounded(n: int) -> str:
                    async with gate:
                        return await load.one_event(prefix, n, full)

                started = time.perf_counter()
                ids = await asyncio.gather(*(bounded(n) for n in range(events)))
                elapsed = time.perf_counter() - started
                # Nothing lost, nothing doubled: every event's audit has each key of ours exactly once.
                lost, doubled = [], []
                for event_id in ids:
                    r = await http.get(f"/events/{event_id}", headers=bearer("viewer"))
                    assert r.status_code == 200, r.text
                    view = r.json()
                    assert view["stage"] == ("planning" if full else "preparation"), (event_id, view["stage"])
                    passed = {g["id"] for g in view["gates"] if g["status"] == "passed"}
                    assert {"theme_recorded", "budget_approved"} <= passed, (event_id, passed)
                    in_audit = Counter(a["key"] for a in view["audit"] if a.get("key"))
                    lost += [(event_id, k) for k in set(load.sent[event_id]) if in_audit[k] == 0]
                    doubled += [(event_id, k) for k, c in in_audit.items() if c > 1]
                assert not lost and not doubled, (lost[:5], doubled[:5])
                assert not [s for s in load.statuses if s >= 500 and s != 503], load.statuses
    finally:
        await worker.kill()
    acts = len(load.latencies)
    return {
        "events": events, "concurrency": concurrency, "acts": acts, "seconds": round(elapsed, 1),
        "acts_per_s": round(acts / elapsed, 1), "events_per_s": round(events / elapsed, 2),
        "p50_ms": round(percentile(load.latencies, 50) * 1000), "p99_ms": round(percentile(load.latencies, 99) * 1000),
        "statuses": dict(load.statuses), "cpus": os.cpu_count(),
    }


@pytest.mark.parametrize("events,full", [
    pytest.param(SHORT, False, id="short"),  # theme and budget gates: 5 requests an event after the start
    pytest.param(LONG, True, id="long", marks=pytest.mark.slow),  # all of preparation, into planning: 9 requests
])
async def test_many_events_over_http_lose_and_double_nothing(dev_env: WorkflowEnvironment, tmp_path: Path,
                                                             events: int, full: bool):
    figures = await run_load(dev_env, tmp_path, events, CONCURRENCY, full)
    print(f"\nload: {json.dumps(figures)}")
