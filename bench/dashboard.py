"""The dashboard benchmark: one stage of M events listed through visibility against the naive way (the
``state`` query on every event, timed on a sample)."""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client
from temporalio.common import TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.processes import WorkerProc
from bench.progress import Bar, gather_limited, note
from bench.rounds import wait_first_tasks
from bench.sides import EngineSide
from convene.devserver import DevServer
from definitions import definition_hash
from workflows import search
from workflows.client import list_query
from workflows.event import WORKFLOW_NAME
from workflows.messages import StateView, WorkflowInput

DASH_NAMESPACE = "bench-dashboard"

# --------------------------------------------------------------------------- dashboard


@dataclass
class Dashboard:
    m: int
    moved: int
    running: int = 0
    start_s: float = 0.0
    settle_s: float = 0.0
    list_runs: list[float] = field(default_factory=list)  # list_workflows, all pages
    count_runs: list[float] = field(default_factory=list)  # count_workflows
    rpc_runs: list[float] = field(default_factory=list)  # the raw ListWorkflowExecutions RPCs (no Python decoding)
    first_page_runs: list[float] = field(default_factory=list)  # the first 100 only + count: what a dashboard shows
    listed: int = 0
    counted: int = 0
    naive_sample: int = 0
    naive_cached_s: float = 0.0  # the sample, every event in the worker's cache
    naive_replay_s: float = 0.0  # the sample on a fresh worker: every query replays the event's history
    naive_found: int = 0
    naive_errors: list[str] = field(default_factory=list)

    @property
    def list_s(self) -> float:
        """Listing one stage: every page of list_workflows plus count_workflows (best run)."""
        return min(self.list_runs) + min(self.count_runs)

    def naive_s(self, cached: bool) -> float:
        return (self.naive_cached_s if cached else self.naive_replay_s) * self.m / max(self.naive_sample, 1)


def planning_first(definition: Any) -> Any:
    """The conference definition without its preparation stage (and the deadline on it): starts in planning."""
    from definitions.schema import Definition

    data = definition.model_dump(mode="json")
    first = data["stages"][0]["id"]
    gates = {g["id"] for g in data["stages"][0]["gates"]}
    tasks = {t["id"] for t in data["stages"][0]["tasks"]}
    data["stages"] = data["stages"][1:]
    data["deadlines"] = [d for d in data["deadlines"]
                         if d["met_when"].get("gate") not in gates and d["met_when"].get("task") not in tasks
                         and d["at"].get("stage") != first]
    return Definition.model_validate(data)


async def dashboard(args: argparse.Namespace, server: DevServer) -> Dashboard:
    """M engine events in their own namespace, every tenth started in planning; list one stage two ways.

    The naive way's sample (``--naive-sample`` events) runs on a worker; unless ``--dashboard-all-running``,
    the other events are started with a one-day start delay: the same workflow, input and search
    attributes (visibility holds exactly what it would for a running event), but no worker time spent on
    their first task, which would make the setup several minutes long on 2 cores.
    """
    client = await Client.connect(server.address, namespace=DASH_NAMESPACE, data_converter=pydantic_data_converter)
    tq = f"bench-dash-{uuid.uuid4().hex[:6]}"
    worker = await WorkerProc.start("engine", server.address, tq, namespace=DASH_NAMESPACE)
    try:
        side = EngineSide(client, tq)
        later = planning_first(side.definition)
        hashes = {id(d): definition_hash(d) for d in (side.definition, later)}
        m = args.dashboard_events
        d = Dashboard(m, len(range(0, m, 10)))
        ids = [f"d-{i}" for i in range(m)]
        d.naive_sample = min(args.naive_sample, m)
        sample = random.Random(7).sample(ids, d.naive_sample)
        running = set(ids) if args.dashboard_all_running else set(sample)
        d.running = len(running)

        async def start(i: int) -> None:
            details = side.details(ids[i])
            definition = later if i % 10 == 0 else side.definition
            await client.start_workflow(
                WORKFLOW_NAME,
                WorkflowInput(event=details, definition=definition, definition_hash=hashes[id(definition)]),
                id=f"event-{ids[i]}", task_queue=tq, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    search.attributes(details, definition.kind, definition.path()[0], 0, False)),
                start_delay=None if ids[i] in running else timedelta(days=1),
            )

        bar = Bar(f"dashboard: start {m:,} events", m)
        t0 = time.perf_counter()
        await gather_limited(m, 100, start, bar)
        d.start_s = time.perf_counter() - t0
        bar.close()
        # let the worker finish the running events' first tasks and visibility catch up (eventually consistent)
        t0 = time.perf_counter()
        query = list_query(stage="planning")
        everything = list_query()
        await wait_first_tasks(client, [f"event-{i}" for i in sample], 50, worker.proc.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if ((await client.count_workflows(query)).count == d.moved
                    and (await client.count_workflows(everything)).count == m):
                break
            await asyncio.sleep(0.5)
        d.settle_s = time.perf_counter() - t0
        request = ListWorkflowExecutionsRequest(namespace=DASH_NAMESPACE, query=query, page_size=1000)
        for _ in range(args.list_runs):
            t0 = time.perf_counter()
            listed = [wf.id async for wf in client.list_workflows(query)]
            d.list_runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            d.counted = (await client.count_workflows(query)).count
            d.count_runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            token = b""
            while True:
                request.next_page_token = token
                token = (await client.workflow_service.list_workflow_executions(request)).next_page_token
                if not token:
                    break
            d.rpc_runs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _ = [wf.id async for wf in client.list_workflows(query, limit=100, page_size=100)]
            await client.count_workflows(query)
            d.first_page_runs.append(time.perf_counter() - t0)
        d.listed = len(listed)

        # the naive way: ask every event for its state and keep those in planning; timed on the sample
        async def stage_of(i: int) -> str:
            try:
                view = await client.get_workflow_handle(f"event-{sample[i]}").query(
                    "state", result_type=StateView, rpc_timeout=timedelta(seconds=30))
            except Exception as err:  # noqa: BLE001 - counted and shown, the timing goes on
                d.naive_errors.append(f"{sample[i]}: {err}")
                return "error"
            return view.stage

        bar = Bar(f"dashboard: naive, {d.naive_sample} queries, cached", d.naive_sample)
        t0 = time.perf_counter()
        stages = await gather_limited(len(sample), args.concurrency, stage_of, bar)
        d.naive_cached_s = time.perf_counter() - t0
        bar.close()
        d.naive_found = sum(s == "planning" for s in stages)
        await worker.stop()  # a fresh worker has nothing cached: each query replays the event's history
        worker = await WorkerProc.start("engine", server.address, tq, namespace=DASH_NAMESPACE)
        bar = Bar(f"dashboard: naive, {d.naive_sample} queries, replayed", d.naive_sample)
        t0 = time.perf_counter()
        await gather_limited(len(sample), args.concurrency, stage_of, bar)
        d.naive_replay_s = time.perf_counter() - t0
        bar.close()
        if d.naive_errors:
            note(f"warning: {len(d.naive_errors)} state queries failed, e.g. {d.naive_errors[0][:300]}")
        return d
    finally:
        await worker.stop()
