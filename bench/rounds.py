"""The rounds of the engine-against-bare-Temporal benchmark: one side driven through N events (latency, rate,
CPU, memory, history length), and one side's worker holding many open events (memory)."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.processes import CpuMeter, WorkerProc, proc_cpu
from bench.progress import Bar, gather_limited, note
from bench.sides import BaselineSide, EngineSide, Plan, Side, history_events, plan_from_history, settle
from convene.devserver import DevServer


# --------------------------------------------------------------------------- a round


@dataclass
class Round:
    kind: str
    n: int
    k: int
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # concurrent, seconds
    sequential: list[float] = field(default_factory=list)  # one at a time, seconds
    peak_rss: float = 0.0
    idle_rss: float = 0.0
    history: float = 0.0
    activities: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # concurrent phase: worker/server/driver CPU seconds
    seq_cpu: dict[str, float] = field(default_factory=dict)  # one-at-a-time phase

    def cpu_ms(self, who: str) -> float:
        """CPU milliseconds per decision during the concurrent phase (events' starts and activities included)."""
        return self.cpu[who] * 1000 / (self.n * self.k)

    def seq_cpu_ms(self, who: str) -> float:
        return self.seq_cpu[who] * 1000 / max(len(self.sequential), 1)

    @property
    def events_per_s(self) -> float:
        return self.n / self.elapsed

    @property
    def decisions_per_s(self) -> float:
        return self.n * self.k / self.elapsed


async def drive(side: Side, event_id: str, k: int, latencies: list[float] | None) -> None:
    await side.start(event_id)
    for i in range(k):
        t0 = time.perf_counter()
        await side.act(event_id, i)
        if latencies is not None:
            latencies.append(time.perf_counter() - t0)


async def run_round(kind: str, no: int, args: argparse.Namespace, server: DevServer, clients: dict[str, Client],
                    plan: Plan | None) -> tuple[Round, Plan | None]:
    tag = uuid.uuid4().hex[:6]
    tq = f"bench-{kind}-{no}-{tag}"
    worker = await WorkerProc.start(kind, server.address, tq)
    try:
        side: Side = (EngineSide if kind == "engine" else BaselineSide)(clients[kind], tq, plan)
        r = Round(kind, args.events, args.decisions, idle_rss=worker.memory()["VmRSS"])
        # warm-up (not counted): also where the engine's plan is read from
        warm = f"r{no}{tag}-warm"
        await drive(side, warm, args.decisions, None)
        if plan is None:
            await settle(side.client, side.workflow_id(warm))
            plan = plan_from_history(await history_events(side.client, side.workflow_id(warm)))
        per_event = plan.activities
        # one at a time
        bar = Bar(f"{kind} round {no}: one at a time", args.sequential * args.decisions)
        meter = CpuMeter(worker.proc.pid, server.proc.pid)
        for j in range(args.sequential):
            eid = f"r{no}{tag}-seq{j}"
            await side.start(eid)
            for i in range(args.decisions):
                t0 = time.perf_counter()
                await side.act(eid, i)
                r.sequential.append(time.perf_counter() - t0)
                bar.advance()
        r.seq_cpu = meter.stop()
        bar.close()
        before = await worker.wait_activities(per_event * (1 + args.sequential))
        # concurrent
        bar = Bar(f"{kind} round {no}: {args.concurrency} in flight", args.events)
        meter = CpuMeter(worker.proc.pid, server.proc.pid)
        t0 = time.perf_counter()
        await gather_limited(args.events, args.concurrency,
                             lambda i: drive(side, f"r{no}{tag}-c{i}", args.decisions, r.latencies), bar)
        done = await worker.wait_activities(before + per_event * args.events)
        r.elapsed = time.perf_counter() - t0
        r.cpu = meter.stop()
        bar.close()
        if done < before + per_event * args.events:
            note(f"warning: only {done - before} of {per_event * args.events} activities ran")
        r.peak_rss = worker.memory()["VmHWM"]
        sample = [f"r{no}{tag}-c{i}" for i in range(min(3, args.events))]
        for eid in sample:
            await settle(side.client, side.workflow_id(eid))
        hist = [await history_events(side.client, side.workflow_id(eid)) for eid in sample]
        r.history = sum(len(h) for h in hist) / len(hist)
        r.activities = sum(sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in h)
                           for h in hist) / len(hist)
        return r, plan
    finally:
        await worker.stop()


# --------------------------------------------------------------------------- open events


@dataclass
class OpenRound:
    kind: str
    n: int
    idle_rss: float = 0.0
    rss: float = 0.0
    hwm: float = 0.0
    start_s: float = 0.0
    worker_cpu_ms: float = 0.0  # per event started (its first workflow task)


async def wait_idle(pid: int, quiet: float = 0.05, window: float = 1.0, timeout: float = 600) -> None:
    """Wait until a process uses less than `quiet` of a core over `window` seconds (the worker caught up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = proc_cpu(pid)
        await asyncio.sleep(window)
        if proc_cpu(pid) - before < quiet * window:
            return


async def wait_first_tasks(client: Client, ids: list[str], limit: int, worker_pid: int | None = None,
                           timeout: float = 300) -> None:
    """Wait until each workflow has completed its first workflow task (so the worker holds it in its cache).

    Waits for the worker to go quiet first, so the checks (one describe per workflow) do not compete
    with the work they wait for.
    """

    async def ready(wid: str) -> bool:
        d = (await client.get_workflow_handle(wid).describe()).raw_description
        return d.workflow_execution_info.history_length >= 4 and not d.HasField("pending_workflow_task")

    pending, deadline = list(ids), time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if worker_pid is not None:
            await wait_idle(worker_pid, window=0.5, timeout=deadline - time.monotonic())
        flags = await gather_limited(len(pending), limit, lambda i: ready(pending[i]))
        pending = [w for w, ok in zip(pending, flags) if not ok]
        if pending:
            await asyncio.sleep(0.5)
    if pending:
        note(f"warning: {len(pending)} workflows never completed their first task")


async def open_round(kind: str, args: argparse.Namespace, server: DevServer, clients: dict[str, Client],
                     plan: Plan) -> OpenRound:
    tag = uuid.uuid4().hex[:6]
    tq = f"bench-open-{kind}-{tag}"
    worker = await WorkerProc.start(kind, server.address, tq)
    try:
        side: Side = (EngineSide if kind == "engine" else BaselineSide)(clients[kind], tq, plan)
        o = OpenRound(kind, args.open_events, idle_rss=worker.memory()["VmRSS"])
        ids = [f"o{tag}-{i}" for i in range(args.open_events)]
        bar = Bar(f"{kind}: {args.open_events} open events", args.open_events)
        cpu0 = proc_cpu(worker.proc.pid)
        t0 = time.perf_counter()
        await gather_limited(len(ids), 100, lambda i: side.start(ids[i]), bar)
        await wait_first_tasks(side.client, [side.workflow_id(e) for e in ids], 50, worker.proc.pid)
        o.start_s = time.perf_counter() - t0
        o.worker_cpu_ms = (proc_cpu(worker.proc.pid) - cpu0) * 1000 / len(ids)
        bar.close()
        await asyncio.sleep(1.0)
        mem = worker.memory()
        o.rss, o.hwm = mem["VmRSS"], mem["VmHWM"]
        return o
    finally:
        await worker.stop()
