"""What the reliability tests share: real processes (workers, a dev server), a webhook receiver,
clients that retry with the same idempotency key, and checks over histories and audit logs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from convene.devserver import DevServer, free_port  # noqa: F401 - free_port: the reliability tests import it from here
from workflows import search
from workflows.client import act, handle, state
from workflows.messages import ActResult, StateView

ROOT = Path(__file__).resolve().parents[2]
REFUSALS = {"Forbidden", "Conflict", "Invalid"}
"""The ApplicationError types of a refused act (README: "A refusal raises ...")."""

WEBHOOK_SECRET = "whsec-reliability-" + uuid.uuid4().hex
"""The HMAC key the worker processes sign webhooks with; the receiver verifies every body with it."""


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def signature(secret: str, body: bytes) -> str:
    """What a subscriber computes to check ``X-Convene-Signature`` (HMAC-SHA256 over the raw body)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------------- webhooks


@dataclass
class Delivery:
    key: str
    body: bytes
    signed: bool
    torn: bool = False


@dataclass
class WebhookReceiver:
    """A subscriber's endpoint on 127.0.0.1, as a real one should be written: it verifies the
    signature, answers 401 to a bad one, and applies each ``Idempotency-Key`` once (a repeat is
    answered 200 and counted, not applied)."""

    secret: str = WEBHOOK_SECRET
    delay: float = 0.0
    hits: list[Delivery] = field(default_factory=list)
    torn: list[Delivery] = field(default_factory=list)
    applied: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, token: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/hooks/convene" + (f"?token={token}" if token else "")

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        key = headers.get("idempotency-key", "")
        if len(body) != int(headers.get("content-length", len(body))):
            # The sender died mid-request (SIGKILL): a torn body is refused like any unverifiable one.
            with self.lock:
                self.torn.append(Delivery(key, body, False, torn=True))
            return 400
        signed = hmac.compare_digest(headers.get("x-convene-signature", ""), signature(self.secret, body))
        if self.delay:
            time.sleep(self.delay)  # a slow subscriber (its own thread): widens the window a crash can hit
        with self.lock:
            self.hits.append(Delivery(key, body, signed))
            if not signed or not key:
                return 401
            self.applied.setdefault(key, body)
            return 200

    # what the tests read -----------------------------------------------------------------

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(h.key for h in self.hits)

    def repeats(self) -> dict[str, int]:
        """Keys POSTed more than once (at-least-once delivery after a crash); the receiver applied each once."""
        return {k: n for k, n in self.counts().items() if n > 1}

    def conflicting_bodies(self) -> list[str]:
        """Keys whose repeats carried a different body: one key must always mean one message."""
        with self.lock:
            return sorted({h.key for h in self.hits if h.key in self.applied and h.body != self.applied[h.key]})

    def unsigned(self) -> int:
        with self.lock:
            return sum(not h.signed for h in self.hits)


@contextlib.contextmanager
def webhook_receiver(secret: str = WEBHOOK_SECRET, delay: float = 0.0) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=secret, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            try:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            except OSError:  # the connection died under us
                body = b""
            status = receiver.receive({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------------- processes


def worker_env(address: str, task_queue: str, tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a `python worker.py`: no SMTP server (emails are recorded as skipped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVENE_")}
    env.update({
        "CONVENE_TEMPORAL_ADDRESS": address,
        "CONVENE_TASK_QUEUE": task_queue,
        "CONVENE_ARCHIVE_ROOT": str(tmp / "archive"),
        "CONVENE_DATABASE_URL": database_url(tmp),  # shared by this test's processes
        "CONVENE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CONVENE_WEBHOOK_TIMEOUT_SECONDS": "5",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


@dataclass
class WorkerProcess:
    """``python worker.py`` as operators run it; killed with SIGKILL (no goodbye to the server)."""

    address: str
    task_queue: str
    tmp: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    async def start(self) -> None:
        self.starts += 1
        log_path = self.tmp / f"worker-{self.task_queue}-{self.starts}-{uuid.uuid4().hex[:4]}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "worker.py"), cwd=ROOT, stdout=log, stderr=log,
                env=worker_env(self.address, self.task_queue, self.tmp, **self.extra_env),
            )

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def output(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())


def dev_server(db: Path) -> DevServer:
    """A dev server of our own (the stack's launcher) with its state in `db`, headless on free ports, logging
    to ``temporal.log`` beside it, so it can be SIGKILLed and started again on the same file and address."""
    return DevServer(db=db, search_attributes=search.cli_flags(), log=db.parent / "temporal.log")


# ------------------------------------------------------------------------------------- acting


@dataclass
class Outcome:
    """What a client finally learnt about one act after retrying with the same key."""

    event_id: str
    key: str
    name: str
    accepted: bool
    result: ActResult | None = None
    refusal: str | None = None
    attempts: int = 1
    latency: float = 0.0


async def act_until_answered(client: Client, event_id: str, act_: Any, *, rpc_timeout: float = 10,
                             give_up_after: float = 180) -> Outcome:
    """Send an act; when the RPC fails (worker or server gone, timeout), send it again with the same key.

    Only an answer from the workflow ends the loop: accepted (ActResult) or refused (an ApplicationError
    of a refusal type). Anything else is an error of the test's subject and raised.
    """
    from workflows.messages import ACT_NAMES

    started = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        try:
            result = await act(client, event_id, act_, rpc_timeout=timedelta(seconds=rpc_timeout))
            return Outcome(event_id, act_.key, ACT_NAMES[type(act_)], True, result=result, attempts=attempts,
                           latency=time.monotonic() - started)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
                return Outcome(event_id, act_.key, ACT_NAMES[type(act_)], False, refusal=f"{cause.type}: {cause.message}",
                               attempts=attempts, latency=time.monotonic() - started)
            raise
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError, RuntimeError) as err:
            # RuntimeError only as "Failed client connect" while the server is away; anything else is a finding.
            if isinstance(err, RuntimeError) and "connect" not in str(err):
                raise
            if time.monotonic() - started > give_up_after:
                raise
            await asyncio.sleep(0.2 + random.random() * 0.3)


async def state_when_up(client: Client, event_id: str, give_up_after: float = 120) -> StateView:
    """The event's state, waiting out a worker or server that is not back yet."""
    started = time.monotonic()
    while True:
        try:
            return await state(client, event_id, rpc_timeout=timedelta(seconds=10))
        except (RPCError, RuntimeError) as err:
            if isinstance(err, RuntimeError) and "connect" not in str(err):
                raise
            if time.monotonic() - started > give_up_after:
                raise
            await asyncio.sleep(0.3)


# ------------------------------------------------------------------------------------- checks


async def failed_workflow_tasks(h: WorkflowHandle[Any, Any]) -> list[str]:
    """The failure message of every WORKFLOW_TASK_FAILED in the workflow's history (all runs' latest)."""
    failures: list[str] = []
    async for ev in h.fetch_history_events():
        if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failures.append(ev.workflow_task_failed_event_attributes.failure.message)
    return failures


async def history_length(h: WorkflowHandle[Any, Any]) -> int:
    return sum([1 async for _ in h.fetch_history_events()])


async def history_identities(h: WorkflowHandle[Any, Any]) -> list[str]:
    """The identities of the workers that completed this workflow's tasks and started its activities, in order."""
    found: list[str] = []
    async for ev in h.fetch_history_events():
        if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            found.append(ev.workflow_task_completed_event_attributes.identity)
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            found.append(ev.activity_task_started_event_attributes.identity)
    return found


async def pollers(client: Client, task_queue: str) -> set[str]:
    """The identities polling `task_queue` for workflow tasks and for activity tasks (both)."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    found: list[set[str]] = []
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=task_queue), task_queue_type=kind))
        found.append({p.identity for p in resp.pollers})
    return found[0] & found[1]


async def wait_for_pollers(client: Client, task_queue: str, pids: set[int], seconds: float = 60) -> None:
    """Until a worker of each pid polls the task queue (a worker takes a second or two to import and connect)."""
    from temporalio.service import RPCError, RPCStatusCode

    transient = {RPCStatusCode.CANCELLED, RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}
    deadline = time.monotonic() + seconds
    while True:
        try:
            seen = {i.split("@")[0] for i in await pollers(client, task_queue)}
        except RPCError as exc:  # the dev server, busy with two workers starting, may cancel a describe
            if exc.status not in transient:
                raise
            seen = set()
        if not {str(p) for p in pids} - seen:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"workers {pids} not polling {task_queue} after {seconds:.0f}s")
        await asyncio.sleep(0.2)


async def pending_activities(client: Client, event_id: str) -> int:
    desc = await handle(client, event_id).describe()
    return len(desc.raw_description.pending_activities)


def fingerprint(view: StateView | dict[str, Any]) -> Any:
    """The state as JSON without what moves with the clock alone (``now``, ``seconds_left``)."""
    data = view.model_dump(mode="json") if isinstance(view, StateView) else view

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("now", "seconds_left", "overdue")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(data)


def audit_keys(view: StateView) -> Counter[str]:
    return Counter(a.key for a in view.audit if a.key)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# ------------------------------------------------------------------------------------- the roster database


def database_url(tmp: Path) -> str:
    """The roster database `worker_env` gives this test's processes."""
    return f"sqlite+aiosqlite:///{tmp / 'convene.db'}"


async def journal_of(tmp: Path, event_id: str) -> tuple[list[Any], list[Any]]:
    """(the whole audit, every delivery) of `event_id` as the worker wrote them to the database."""
    from store import Database, Journal

    db = Database(database_url(tmp))
    try:
        journal = Journal(db)
        return [e async for e in journal.audit(event_id)], [d async for d in journal.deliveries(event_id)]
    finally:
        await db.dispose()
